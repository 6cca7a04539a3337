"""The web CLI through typer's runner: db upgrade, publish, users and keys."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from retain.cli.main import app
from retain.state import testing
from retain.warehouse import Warehouse


def test_db_publish_users_and_keys(tmp_path, monkeypatch):
    warehouse = tmp_path / "wh.duckdb"
    wh = testing.build(Warehouse.open(warehouse))
    wh.con.disconnect()
    monkeypatch.delenv("RETAIN_DATABASE_URL", raising=False)
    runner = CliRunner()
    base = ["--db", str(warehouse)]

    r = runner.invoke(app, [*base, "db", "upgrade"])
    assert r.exit_code == 0, r.output
    assert "revision 0010" in r.output and (tmp_path / "retain.sqlite").exists()

    r = runner.invoke(app, [*base, "publish", "--as-of", "2024-06-30"])
    assert r.exit_code == 0, r.output
    assert "published 6 accounts as of 2024-06-30" in r.output

    r = runner.invoke(app, [*base, "users", "create", "root", "--admin", "--password", "root-password"])
    assert r.exit_code == 0 and "created admin root" in r.output
    r = runner.invoke(app, [*base, "users", "create", "rita", "--member", "--password", "rita-password"])
    assert r.exit_code != 0 and "member-id" in r.output
    r = runner.invoke(app, [*base, "users", "create", "x", "--admin", "--member", "--password", "long-enough"])
    assert r.exit_code != 0 and "exactly one role" in r.output
    r = runner.invoke(app, [*base, "users", "list"])
    assert "root" in r.output

    r = runner.invoke(app, [*base, "keys", "create", "root", "--scope", "write", "--name", "ci"])
    assert r.exit_code == 0, r.output
    key = re.search(r"rk_[0-9a-f]+_\S+", r.output).group(0)
    prefix = key.split("_")[1]
    r = runner.invoke(app, [*base, "keys", "list"])
    assert prefix in r.output and key not in r.output
    assert runner.invoke(app, [*base, "keys", "revoke", prefix]).exit_code == 0
    assert "revoked" in runner.invoke(app, [*base, "keys", "list"]).output
    assert runner.invoke(app, [*base, "keys", "revoke", "deadbeef"]).exit_code == 7  # NotFoundError
