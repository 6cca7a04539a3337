"""One account reads the same through the CLI, the web pages and the API (issue 11, "Agreement, tested").

The tiny company of :mod:`retain.state.testing` in a DuckDB file (plus the health components of the previous date,
so "why it changed" has something to attribute), published the way :func:`retain.server.testing.seeded_app` does;
the CLI runs on the same file. Each face is compared where it shows a figure: health total and change, churn
probability, CLV, reasons, why it changed, what to improve, a person's book, and the Calls and Portfolio pages.
"""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from retain.cli.common import console
from retain.cli.main import app as cli
from retain.server.app import create_app
from retain.server.settings import Settings
from retain.state import testing, users
from retain.state.publish import publish
from retain.state.testing import AS_OF, PREVIOUS
from retain.warehouse import Warehouse
from retain.web.formats import delta, money, num, pct

runner = CliRunner()
ACCOUNTS = ("a1", "a4")  # the two with health components


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    wh = testing.build(Warehouse.open(folder / "w.duckdb"))
    wh.store_result("health_components", pd.DataFrame({
        "account_id": ["a1", "a1", "a4", "a4"], "scorecard": "standard", "component": ["usage", "support"] * 2,
        "score": [80.0, 75.0, 35.0, 60.0], "weight_pct": [60.0, 40.0, 60.0, 40.0]}), PREVIOUS)
    wh.con.raw_sql("UPDATE accounts SET csm_id = 'r1' WHERE account_id = 'a3'")  # Raj owns it, Rita looks after it
    web = create_app(Settings(database_url=f"sqlite:///{folder / 'app.sqlite'}", dev=True))
    keys = {}
    with web.state.runtime.sessions() as db:
        publish(wh, db, AS_OF)
        for name, (role, member_id) in testing.ROLES.items():
            user = users.create_user(db, name, testing.PASSWORDS[name], role, member_id=member_id)
            keys[name], _ = users.create_key(db, user, f"{name}-read", "read")
    wh.con.disconnect()
    return str(folder / "w.duckdb"), web, keys


def _cli(db: str, *args: str, monkeypatch) -> str:
    monkeypatch.setattr(console, "width", 200)  # no truncated table cells
    res = runner.invoke(cli, ["--db", db, *args])
    assert res.exit_code == 0, res.output
    return res.output


def _signed_in(web, user: str) -> TestClient:
    client = TestClient(web)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": user, "password": testing.PASSWORDS[user], "csrf_token": token,
                                "next": "/"}, follow_redirects=False)
    return client


def _cli_explain(output: str) -> dict:
    total = re.search(r"change since (\S+): ([-\d.]+) -> ([-\d.]+) \(([-+\d.]+)\)", output)
    why = output.split("Why it changed")[1].split("What to improve")[0]
    changes = {m[0]: float(m[1]) for m in re.findall(r"│ (\w+)\s+│[^│]*│[^│]*│[^│]*│\s+([-\d.]+) │", why)}
    improve = re.findall(r"^  (\w+) ([\d.]+) -> ([\d.]+) lifts the total ([\d.]+) -> ([\d.]+)", output, re.M)
    return {"since": total[1], "before": float(total[2]), "after": float(total[3]), "change": float(total[4]),
            "changes": changes, "improve": improve}


@pytest.mark.parametrize("account_id", ACCOUNTS)
def test_explain_the_account_page_and_the_api_agree(company, account_id, monkeypatch):
    db, web, keys = company
    cli_view = _cli_explain(_cli(db, "explain", account_id, "--as-of", AS_OF.isoformat(), "--since",
                                 PREVIOUS.isoformat(), monkeypatch=monkeypatch))
    api = TestClient(web).get(f"/api/v1/accounts/{account_id}", headers={"X-API-Key": keys["admin"]}).json()
    page = _signed_in(web, "admin").get(f"/accounts/{account_id}").text

    # health total and its change since the previous score: CLI = API = page
    assert api["health_total"] == pytest.approx(cli_view["after"])
    assert api["health_change"] == pytest.approx(cli_view["change"])
    assert f"<b>{num(api['health_total'])} " in page and f"change {delta(api['health_change'])}" in page
    # churn probability (with its window) and CLV: API = page
    assert pct(api["churn_probability"]) in page and money(api["clv"]) in page
    # reasons: every one the API gives is on the page
    for reason in api["reasons"] or []:
        assert html.escape(reason["phrase"] if isinstance(reason, dict) else reason) in page
    # why it changed: the same components, in the same order, with the same points
    web_changes = re.findall(r'<li data-component="(\w+)">\w+: (?:<span class="\w+">)?([-+\d.]+)',
                             page.split('id="why-changed"')[1].split("</ul>")[0])
    assert cli_view["changes"] and [c for c, _ in web_changes] == list(cli_view["changes"])
    assert [float(v) for _, v in web_changes] == pytest.approx(list(cli_view["changes"].values()), abs=0.051)
    assert f"since {cli_view['since']}" in page
    # what to improve: the same ranking and the same totals if each component reached its target
    if not cli_view["improve"]:  # a1 is at or above its peers everywhere: nothing to improve on either face
        assert 'id="what-to-improve"' not in page and "at or above its peers' 75th percentile" in page
        return
    block = page.split('id="what-to-improve"')[1].split("</ol>")[0]
    web_improve = re.findall(r'data-component="(\w+)">\w+: score ([\d.]+) → ([\d.]+) lifts the total ([\d.]+) → '
                             r'([\d.]+)', block)
    assert [w[0] for w in web_improve] == [c[0] for c in cli_view["improve"]] and web_improve
    for w, c in zip(web_improve, cli_view["improve"], strict=True):
        assert float(w[4]) == pytest.approx(float(c[4]), abs=0.51)  # CLI prints whole points, the page one decimal
    # the API's components are the ones the page and the CLI rank
    comps = TestClient(web).get(f"/api/v1/accounts/{account_id}/components",
                                headers={"X-API-Key": keys["admin"]}).json()
    scores = {c["component"]: c["score"] for c in comps}
    assert {c: scores[c] for c, *_ in cli_view["improve"]} == {c: float(s) for c, s, *_ in cli_view["improve"]}


def test_a_persons_book_is_the_same_in_retain_books_and_on_the_team_page(company, monkeypatch, tmp_path):
    db, web, _ = company
    out = tmp_path / "books.csv"
    _cli(db, "books", "--as-of", AS_OF.isoformat(), "--out", str(out), monkeypatch=monkeypatch)
    books = pd.read_csv(out).set_index("owner_id")
    page = _signed_in(web, "mia").get("/team").text  # a manager: r1 and r2 (and herself, who owns nothing)
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"n\">(\d+)</td><td class=\"n\">[^<]*</td>"
                      r"<td class=\"n\">([-\d.]+)</td>", page)
    team = {name: (int(n), float(h)) for name, n, h in rows}
    assert set(team) == {"Rita Rep", "Raj Rep"}
    assert books.loc["r1", "accounts"] == 3 and books.loc["r2", "accounts"] == 2  # a3 is in both books
    for member in ("r1", "r2"):
        name = books.loc[member, "owner"]
        assert team[name] == (books.loc[member, "accounts"], pytest.approx(books.loc[member, "avg_health"], abs=0.05))


def test_calls_page_ranks_within_the_viewers_rows_and_leaves_missing_dates_blank(company):
    _, web, _ = company
    page = _signed_in(web, "olga").get("/calls").text  # r3: one lead (l3, company rank 3)
    leads = page.split("Leads worth calling back")[1]
    assert re.findall(r'<tr><td class="n">(\d+)</td><td>([^<]+)</td>', leads) == [("1", "Lead l3")]
    assert "Na" not in re.sub(r"<[^>]+>", " ", leads).split()  # a missing callback date is blank, not "Na"


def test_lead_rows_blank_missing_callback_dates():
    from retain.web.routes.calls import lead_rows

    rows = lead_rows([{"rank": 7, "callback_due_at": "NaT"}, {"rank": 3, "callback_due_at": float("nan")},
                      {"rank": 9, "callback_due_at": "2024-07-01T09:30:00+00:00"}, {"rank": 8}])
    assert [(r["rank"], r["company_rank"], r["callback_due"]) for r in rows] == [
        (1, 3, ""), (2, 7, ""), (3, 8, ""), (4, 9, "2024-07-01 09:30")]


def test_portfolio_labels_company_wide_charts_for_a_scoped_viewer(company):
    _, web, _ = company
    scoped = _signed_in(web, "rita").get("/").text
    assert 'id="company-wide-note"' in scoped and "Company-wide: NRR and GRR" in scoped
    admin = _signed_in(web, "admin").get("/").text
    assert 'id="company-wide-note"' not in admin and "Company-wide:" not in admin
