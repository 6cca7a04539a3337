"""Spark tables outlive the process: ``pyspark://local/<db>`` in separate processes sees the tables and results
the earlier ones wrote (local mode's catalog is in memory; ``retain.warehouse.connection.reattach_tables``).

Every step is its own process (``retain`` or ``python -c``), as a user runs them: ingest, ingest a change,
``retain status``, store results, then replace a stored day and rebuild a result stored with an older layout. The
data is the metric tests' six-account book (tests/unit/metrics/metrics_book.py); each process starts Spark (~10 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from metrics_book import accounts_frame, subs_frame

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("backend-pyspark")]

URL = "pyspark://local/catalog_test"
RETAIN = Path(sys.executable).with_name("retain")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A Spark warehouse in a fresh directory, loopback only, and an app database apart from the user's."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        if IN_CI:
            pytest.fail(f"PySpark is not installed ({exc}) (CI=true: every engine of the backend suite must run)")
        pytest.skip(f"PySpark is not installed ({exc}): pip install 'retain[spark]'")
    out = dict(os.environ)
    out.pop("RETAIN_WAREHOUSE", None)
    out.update(RETAIN_SPARK_WAREHOUSE=str(tmp_path / "spark-warehouse"), SPARK_LOCAL_IP="127.0.0.1",
               RETAIN_DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite'}")
    return out


def _files(folder: Path, accounts: pd.DataFrame, subs: pd.DataFrame | None = None) -> Path:
    folder.mkdir()
    accounts.to_parquet(folder / "accounts.parquet", index=False)
    if subs is not None:
        subs.to_parquet(folder / "subscriptions.parquet", index=False)
    return folder


def _retain(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run([str(RETAIN), "--db", URL, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"retain {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


def _python(env: dict[str, str], cwd: Path, code: str) -> dict:
    """Run ``code`` in a new interpreter with ``wh`` open on :data:`URL`; it prints one JSON object."""
    prelude = ("import json, datetime as dt, pandas as pd\nfrom retain.warehouse import Warehouse\n"
               f"wh = Warehouse.open({URL!r})\n")
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{code}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


DOCTOR_ROW = {"section": "data", "subject": "accounts", "status": "ok", "fix": None}
STORE = f"""
    def doctor(item, message):
        return pd.DataFrame([{{**{DOCTOR_ROW!r}, "item": item, "message": message}}])

    wh.store_result("doctor", doctor(1, "first"), dt.date(2024, 3, 31))
    wh.con.create_table("result_clv", schema={{"old_column": "string"}})  # a layout an older Retain stored
    wh.con.insert("result_clv", pd.DataFrame({{"old_column": ["stale"]}}))
    a = wh.raw("accounts")
    print(json.dumps({{"segment_a": str(wh.execute(a.filter(a.account_id == "a").select("segment")).iloc[0, 0]),
                      "accounts": wh.count("accounts")}}))
"""
REPLACE = f"""
    def doctor(item, message):
        return pd.DataFrame([{{**{DOCTOR_ROW!r}, "item": item, "message": message}}])

    wh.store_result("doctor", doctor(1, "second day"), dt.date(2024, 6, 30))
    wh.store_result("doctor", doctor(2, "replaced"), dt.date(2024, 3, 31))
    clv = pd.DataFrame({{"account_id": ["a"], "clv": [10.0], "expected_purchases": [1.0], "p_alive": [0.9],
                        "expected_spend": [5.0], "method": ["simple"]}})
    wh.store_result("clv", clv, dt.date(2024, 6, 30))
    print(json.dumps({{}}))
"""
READ = """
    t = wh.execute(wh.raw_result("doctor")).sort_values(["as_of", "item"])
    clv = wh.execute(wh.raw_result("clv"))
    print(json.dumps({"rows": [[str(r.as_of)[:10], int(r.item), r.message] for r in t.itertuples()],
                      "clv": [list(clv.columns), clv["account_id"].tolist()], "tables": sorted(wh.con.list_tables())}))
"""


def test_tables_and_results_outlive_the_process(env, tmp_path):
    book = accounts_frame()
    _retain(env, tmp_path, "ingest", str(_files(tmp_path / "first", book, subs_frame())))
    changed = book[book.account_id == "a"].assign(segment="enterprise")
    added = book[book.account_id == "f"].assign(account_id="g", name="Account g")
    _retain(env, tmp_path, "ingest", str(_files(tmp_path / "second", pd.concat([changed, added]))))

    _retain(env, tmp_path, "status", "--out", str(tmp_path / "status.csv"))
    status = pd.read_csv(tmp_path / "status.csv").set_index("table")["rows"]
    assert (status["accounts"], status["subscriptions"]) == (7, 9)  # six + g; both loads' rows

    stored = _python(env, tmp_path, STORE)
    assert stored == {"segment_a": "enterprise", "accounts": 7}  # the second load's upsert, read by a third process
    tables = {p.name for p in (Path(env["RETAIN_SPARK_WAREHOUSE"]) / "catalog_test.db").iterdir()}
    assert {"accounts", "subscriptions", "loads", "result_doctor", "result_clv"} <= tables
    # a new process replaces one stored day of a re-attached table (one INSERT OVERWRITE) and rebuilds a result
    # stored with another layout over the files a DROP of a re-attached (external) table would leave
    _python(env, tmp_path, REPLACE)
    back = _python(env, tmp_path, READ)
    assert back["rows"] == [["2024-03-31", 2, "replaced"], ["2024-06-30", 1, "second day"]]
    assert back["clv"] == [["account_id", "clv", "expected_purchases", "p_alive", "expected_spend", "method",
                            "as_of"], ["a"]]
    assert {"accounts", "loads", "result_doctor", "result_clv"} <= set(back["tables"])
