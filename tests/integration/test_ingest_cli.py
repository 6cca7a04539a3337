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
