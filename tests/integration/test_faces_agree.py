"""One account reads the same through the CLI, the web pages and the API (issue 11, "Agreement, tested").

The tiny company of :mod:`retain.state.testing` in a DuckDB file (plus the health components of the previous date,
so "why it changed" has something to attribute; score notes on two totals; a red account the churn model rates
low), published the way :func:`retain.server.testing.seeded_app` does; the CLI runs on the same file. Each face is
compared where it shows a figure: health total and change, churn probability with its window, CLV, reasons, why
it changed, what to improve, score notes, a person's book, and the Calls and Portfolio pages.
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
from retain.models.labels import CHURN_DAYS
from retain.server.app import create_app
from retain.server.settings import Settings
from retain.state import published, testing, users
from retain.state.models import Role
from retain.state.publish import publish
from retain.state.queries import Scope
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
    scores = {"a1": (82.0, "green", None), "a2": (55.0, "yellow", None), "a3": (68.0, "yellow", None),
              "a4": (31.0, "red", "capped at 40: champion left (30 d)"), "a6": (50.0, "yellow", "default: no data")}
    wh.store_result("health_scores", pd.DataFrame(
        {"account_id": list(scores), "scorecard": "standard", "total": [v[0] for v in scores.values()],
         "grade": [v[1] for v in scores.values()], "score_note": [v[2] for v in scores.values()]}), AS_OF)
    reasons = '[{"feature": "tenure_days", "phrase": "long-standing customer: 530 days", "contribution": -0.4, ' \
              '"direction": "lowers"}, {"feature": "tickets", "phrase": "1 urgent ticket open", ' \
              '"contribution": 0.1, "direction": "raises"}]'
    wh.store_result("propensity", pd.DataFrame({  # a4: red health, but the model says 7 %
        "account_id": ["a1", "a2", "a3", "a4", "a6"], "churn_probability": [0.05, 0.35, 0.2, 0.07, 0.55],
        "reasons": [None, "low_usage", None, reasons, "low_usage"]}), AS_OF)
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
    # churn probability with its window, and CLV: API = page
    assert api["churn_window_days"] == CHURN_DAYS and f"Churn within {CHURN_DAYS} days" in page
    assert f">{pct(api['churn_probability'])}</span>" in page and money(api["clv"], api["currency"]) in page
    # reasons: every one the API gives is on the page, in the same order
    phrases = [html.escape(r["phrase"] if isinstance(r, dict) else r) for r in api["reasons"] or []]
    reasons_block = page.split('id="reasons"')[1].split("</ul>")[0] if phrases else ""
    assert [p for p in phrases if p in reasons_block] == phrases
    assert sorted(phrases, key=reasons_block.index) == phrases
    # why it changed and what to improve in the API: the CLI's (same components, order, points)
    assert api["why_changed"]["since"] == cli_view["since"]
    assert [c["component"] for c in api["why_changed"]["changes"]] == list(cli_view["changes"])
    assert [c["change"] for c in api["why_changed"]["changes"]] == pytest.approx(list(cli_view["changes"].values()),
                                                                              abs=0.051)
    assert [c["component"] for c in api["what_to_improve"]] == [c[0] for c in cli_view["improve"]]
    for a, c in zip(api["what_to_improve"], cli_view["improve"], strict=True):
        assert a["total_if"] == pytest.approx(float(c[4]), abs=0.51) and a["score"] == pytest.approx(float(c[1]))
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
    for w, c, a in zip(web_improve, cli_view["improve"], api["what_to_improve"], strict=True):
        assert float(w[4]) == pytest.approx(float(c[4]), abs=0.51)  # CLI prints whole points, the page one decimal
        assert w[4] == num(a["total_if"]) and w[1] == num(a["score"])  # the page prints the API's values
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
    assert re.findall(r'<tr><td class="n"[^>]*>(\d+)</td><td>([^<]+)</td>', leads) == [("1", "Lead l3")]
    assert "Na" not in re.sub(r"<[^>]+>", " ", leads).split()  # a missing callback date is blank, not "Na"


def test_lead_rows_blank_missing_callback_dates():
    from retain.web.routes.calls import lead_rows

    rows = lead_rows([{"rank": 7, "callback_due_at": "NaT"}, {"rank": 3, "callback_due_at": float("nan")},
                      {"rank": 9, "callback_due_at": "2024-07-01T09:30:00+00:00"}, {"rank": 8}])
    assert [(r["rank"], r["company_rank"], r["callback_due"]) for r in rows] == [
        (1, 3, ""), (2, 7, ""), (3, 8, ""), (4, 9, "2024-07-01 09:30")]


def _chart(page: str, element: str) -> dict:
    """The Plotly figure the page embeds for ``element`` (see ``_macros.html``)."""
    import json

    match = re.search(rf'<div class="chart" id="{element}" data-figure="([^"]*)"', page)
    return json.loads(html.unescape(match.group(1)))


def test_portfolio_charts_cover_the_viewers_books_and_add_up(company):
    """NRR/GRR and MRR movements on a member's Portfolio are their book's; the admin's the company's."""
    _, web, _ = company
    rita_page, admin_page = (_signed_in(web, u).get("/").text for u in ("rita", "admin"))
    assert "Company-wide" not in rita_page and 'id="company-wide-note"' not in rita_page
    with web.state.runtime.sessions() as db:
        rita = published.revenue_by_period(db, Scope(Role.MEMBER, "r1"))
        admin = published.revenue_by_period(db, Scope.admin())
        others = [published.revenue_by_period(db, Scope(Role.MEMBER, m)) for m in ("r2", "r3")]
    for page, rows in ((rita_page, rita), (admin_page, admin)):
        fig = _chart(page, "chart-decomp")
        churned = next(t for t in fig["data"] if t["name"] == "churned")
        assert churned["y"] == [-r["churned_mrr"] for r in rows]
        assert _chart(page, "chart-nrr")["data"][0]["y"] == pytest.approx([r["nrr"] for r in rows])
    # Rita's book: a1, a2 (hers) and a3 (she is its CSM): 2,050 of MRR; the company's 4,450
    assert rita[-1]["end_mrr"] == pytest.approx(2050) and admin[-1]["end_mrr"] == pytest.approx(4450)
    # Raj's book (a3, a4) and Olga's (a5, a6) with Rita's own accounts add up to the company, a3 once
    assert others[0][-1]["end_mrr"] + others[1][-1]["end_mrr"] + 1550 == pytest.approx(admin[-1]["end_mrr"])


def test_defaults_and_caps_are_marked_in_the_list_the_page_and_the_api(company):
    _, web, keys = company
    page = _signed_in(web, "admin").get("/accounts?sort=name&order=asc").text
    marks = dict(re.findall(r'<abbr class="score-note (\w+)" title="([^"]+)"', page))
    assert marks == {"capped": "capped at 40: champion left (30 d)", "default": "default: no data"}
    api = TestClient(web).get("/api/v1/accounts", params={"sort": "name", "order": "asc"},
                              headers={"X-API-Key": keys["admin"]}).json()["items"]
    notes = {a["account_id"]: a["score_note"] for a in api if a["score_note"]}
    assert notes == {"a4": "capped at 40: champion left (30 d)", "a6": "default: no data"}
    assert "capped at 40: champion left (30 d)" in _signed_in(web, "admin").get("/accounts/a4").text
    csv = _signed_in(web, "admin").get("/accounts.csv").text
    assert "default: no data" in csv and "score_note" in csv.splitlines()[0]


def test_red_health_with_low_churn_says_so_with_each_sides_reasons(company):
    _, web, keys = company
    page = _signed_in(web, "admin").get("/accounts/a4").text
    block = page.split('id="signals-disagree"')[1].split("</section>")[0]
    assert "red health (31.0)" in block and f"7% churn within {CHURN_DAYS} days" in block
    health = re.findall(r"<li>([^<]+)</li>", block.split('id="disagree-health"')[1].split("</ul>")[0])
    assert health == ["capped at 40: champion left (30 d)", "usage 20/100", "support 40/100"]
    assert "long-standing customer: 530 days" in block.split('id="disagree-model"')[1]
    assert "1 urgent ticket open" not in block.split('id="disagree-model"')[1]  # raises the risk: not the case
    api = TestClient(web).get("/api/v1/accounts/a4", headers={"X-API-Key": keys["admin"]}).json()
    assert api["signals_disagree"]["health_reasons"] == health
    assert [r["phrase"] for r in api["signals_disagree"]["model_reasons"]] == ["long-standing customer: 530 days"]
    assert 'id="signals-disagree"' not in _signed_in(web, "admin").get("/accounts/a1").text  # green and 5 %: agree
    assert TestClient(web).get("/api/v1/accounts/a1", headers={"X-API-Key": keys["admin"]}).json()[
        "signals_disagree"] is None


def test_every_page_prints_the_as_of_date_and_the_clocks_reason(company):
    _, web, _ = company
    client = _signed_in(web, "mia")
    for path in ("/", "/accounts", "/accounts/a1", "/team", "/analytics", "/calls", "/book"):
        page = client.get(path).text
        line = page.split('id="as-of"')[1].split("</p>")[0]
        assert f"<b>{AS_OF.isoformat()}</b>" in line and 'id="as-of-reason">(requested)' in line, path
