"""The main job end to end on Spark: ``retain ingest``, ``retain run`` and ``retain publish`` with
``RETAIN_WAREHOUSE=pyspark://local`` give what they give on DuckDB, on the demo's first year."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from backend_data import assert_same
from typer.testing import CliRunner

from retain.cli.main import app
from retain.warehouse import Warehouse

FIRST_YEAR = {"accounts": 40, "years": 1.0, "seed": 11}
AS_OF = "2026-10-31"  # the demo's last day
SPARK_URL = "pyspark://local/main_job"  # its own database in the suite's Spark session
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    """The demo company's files, as a customer would hand them over (written by the generator, not yet loaded)."""
    from retain.demo import DemoSpec, build_demo

    root = tmp_path_factory.mktemp("main-job")
    scratch = Warehouse.open(root / "scratch.duckdb")
    build_demo(scratch, DemoSpec(**FIRST_YEAR), out_dir=root / "files")
    scratch.con.disconnect()
    return root


def _main_job(db: str, files, app_db: str, monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("RETAIN_DATABASE_URL", app_db)
    out = {}
    for step, args in (("ingest", ["ingest", str(files)]), ("run", ["run", "--as-of", AS_OF]),
                       ("publish", ["publish", "--as-of", AS_OF])):
        res = runner.invoke(app, ["--db", db, *args])
        assert res.exit_code in (0, 8), f"{step} on {db}: {res.output}"  # 8: a section skipped (same on both)
        assert "Traceback" not in res.output
        out[step] = res.output
    return out


def _results(wh: Warehouse) -> dict[str, pd.DataFrame]:
    return {name: wh.execute(wh.con.table(name)) for name in wh.con.list_tables() if name.startswith("result_")}


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.xdist_group("backend-pyspark")
def test_main_job_on_spark_matches_duckdb(spark, demo_files, tmp_path, monkeypatch):
    # ``spark``: the suite's session, active, so SPARK_URL attaches to it as it is configured
    duck = str(tmp_path / "duck.duckdb")
    want = _main_job(duck, demo_files / "files", f"sqlite:///{tmp_path / 'duck.sqlite'}", monkeypatch)
    got = _main_job(SPARK_URL, demo_files / "files", f"sqlite:///{tmp_path / 'spark.sqlite'}", monkeypatch)

    def published(output: str) -> str:
        return re.search(r"published .*", output).group(0)

    assert published(got["publish"]) == published(want["publish"])
    skipped = sorted(re.findall(r"skipped the (\w+) section", want["run"]))
    assert sorted(re.findall(r"skipped the (\w+) section", got["run"])) == skipped
    spark, duckdb = Warehouse.open(SPARK_URL, create=False), Warehouse.open(duck, create=False)
    for table in ("accounts", "subscriptions", "usage", "conversations"):
        assert spark.count(table) == duckdb.count(table) > 0, table
    stored, reference = _results(spark), _results(duckdb)
    assert set(stored) == set(reference)
    assert {"result_retention", "result_health_scores"} <= set(reference)
    for name, frame in reference.items():
        assert_same(stored[name], frame, f"{name} after `retain run` on Spark")
