"""`retain ingest`, `retain status`, `retain quarantine` through the CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from retain.cli.main import app

runner = CliRunner()

ACCOUNTS = "account_id,name,created_at,segment\nA1,Acme,2024-01-01,smb\nA2,北京科技,2024-02-01,enterprise\n"


def run(db: Path, *args: str):
    return runner.invoke(app, ["--db", str(db), *args])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (data / "usage.csv").write_text("account_id,usage_on,feature,events\nA1,2024-03-01,all,3\n"
                                    "A9,2024-03-01,all,1\nA2,2024-03-01,all,-2\n", encoding="utf-8")
    return data


def test_ingest_prints_counts_and_quarantine_and_exits_zero(tmp_path, folder):
    db = tmp_path / "w.duckdb"
    result = run(db, "ingest", str(folder))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "read 5 = loaded 3 + quarantined 2" in out
    assert "2 row(s) quarantined" in out
    assert "'A9' not found in accounts.account_id" in out
    assert "retain quarantine --table usage --out quarantine.csv" in out

    again = run(db, "ingest", str(folder))
    assert again.exit_code == 0 and "read 5 = loaded 3 + quarantined 2" in again.output

    status = run(db, "status")
    assert status.exit_code == 0
    assert "accounts" in status.output and "2024-01-01" in status.output

    export = tmp_path / "q.csv"
    quarantine = run(db, "quarantine", "--table", "usage", "--out", str(export))
    assert quarantine.exit_code == 0
    text = export.read_text(encoding="utf-8")
    assert "-2 is below the minimum 0" in text and text.count("\n") == 3  # header + 2 problems


def test_single_file_with_table_option(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(ACCOUNTS, encoding="utf-8")
    result = run(tmp_path / "w.duckdb", "ingest", str(path), "--table", "accounts")
    assert result.exit_code == 0, result.output
    assert "read 2 = loaded 2 + quarantined 0" in result.output


def test_user_mistakes_are_messages_with_exit_codes_not_tracebacks(tmp_path, folder):
    db = tmp_path / "w.duckdb"
    (tmp_path / "gbk").mkdir()
    (tmp_path / "gbk" / "accounts.csv").write_bytes(ACCOUNTS.encode("gbk"))
    cases = [
        (["ingest", str(tmp_path / "gbk")], 4, "not UTF-8 encoded"),
        (["ingest", str(tmp_path / "nope.csv")], 4, "no such file or folder"),
        (["ingest", str(folder / "accounts.csv"), "--table", "acounts"], 3, "did you mean 'accounts'"),
        (["ingest", str(folder), "--mapping", "nosuch"], 2, "mapping file 'nosuch' not found"),
    ]
    (tmp_path / "wrong.csv").write_text("acount_id,name\nA1,x\n", encoding="utf-8")
    cases.append((["ingest", str(tmp_path / "wrong.csv"), "--table", "accounts"], 3, "closest found column"))
    for args, code, message in cases:
        result = run(db, *args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_strict_writes_nothing_and_fails(tmp_path, folder):
    db = tmp_path / "w.duckdb"
    result = run(db, "ingest", str(folder), "--strict")
    assert result.exit_code == 4
    assert "2 row(s) would be quarantined" in result.output
    assert "nothing was written" in result.output
    status = run(db, "status")
    assert "accounts" in status.output
    quarantine = run(db, "quarantine")
    assert "no quarantined rows" in quarantine.output


def test_dry_run_leaves_the_warehouse_file_unchanged(tmp_path, folder):
    import gc
    import hashlib

    from retain.ingest import ingest_path
    from retain.warehouse import Warehouse

    db = tmp_path / "w.duckdb"
    wh = Warehouse.open(db)
    ingest_path(wh, folder / "accounts.csv")
    wh.con.disconnect()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = run(db, "ingest", str(folder), "--dry-run")
    assert result.exit_code == 0, result.output
    gc.collect()  # the command's connection is closed: anything it would write is on disk now
    assert "Dry run (nothing written)" in result.output and "dry run: nothing was written" in result.output
    assert "read 5 = would load 3 + would be quarantined 2" in result.output
    assert "first rows that would load" in result.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    fresh = tmp_path / "none.duckdb"
    assert run(fresh, "ingest", str(folder), "--dry-run").exit_code == 0
    assert not fresh.exists()


def test_a_file_whose_every_row_is_quarantined_exits_non_zero(tmp_path, folder):
    (folder / "usage.csv").write_text("account_id,usage_on,feature\nA9,2024-03-01,all\n", encoding="utf-8")
    result = run(tmp_path / "w.duckdb", "ingest", str(folder))
    assert result.exit_code == 4
    assert "every row of usage.csv (1 rows) was quarantined; the other rows were written" in result.output


def test_query_mapping_alone_and_merge_from_the_command_line(tmp_path):
    data = tmp_path / "export"
    data.mkdir()
    (data / "crm.csv").write_text("id,since,tier\nA1,2024-01-01,gold\n", encoding="utf-8")
    mapping = data / "m.yaml"
    mapping.write_text("version: 1\nsources: {crm: crm.csv}\ntables:\n  accounts:\n"
                       "    query: SELECT id AS account_id, since AS created_at, tier AS segment FROM crm\n")
    db = tmp_path / "w.duckdb"
    result = run(db, "ingest", "--mapping", str(mapping))
    assert result.exit_code == 0, result.output
    assert "m.yaml/accounts" in result.output and "name is absent" in result.output
    (data / "later.csv").write_text("account_id,name,created_at\nA1,Acme,2024-01-01\n", encoding="utf-8")
    result = run(db, "ingest", str(data / "later.csv"), "--table", "accounts")
    assert "segment (1 row)" in result.output and "use --merge" in result.output


def test_a_locked_warehouse_is_a_retryable_error_naming_the_holder(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "w.duckdb"
    code = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        path = tmp_path / "accounts.csv"
        path.write_text(ACCOUNTS, encoding="utf-8")
        result = run(db, "ingest", str(path))
        assert result.exit_code == 11, result.output
        assert "is locked by another process" in result.output and f"(PID {holder.pid})" in result.output
        assert "retry when that process has finished" in result.output
    finally:
        holder.kill()
        holder.wait()
