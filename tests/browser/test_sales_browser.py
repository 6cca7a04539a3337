"""The Sales and Pipeline review pages in a real browser, for every role (issue 16).

The tiny company (:mod:`retain.state.testing`) with sales results rich enough to check by hand: closed deals with
dates, products and outcomes, goals with periods, the new-vs-existing call computed from its figures, open deals in
three stages and a pipeline review Mia recorded a month earlier. Roles (:class:`retain.state.models.Role`): an
admin sees everyone's; Mia (manager of Rita and Raj, team East) her team's and the accounts it owns; Rita and Olga
(members) their own and their accounts'. Pipeline review is for managers and admins: a member gets the 403 page.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time

import pandas as pd
import pytest

from retain.sales.capacity import _situations
from retain.server.app import create_app
from retain.server.settings import Settings
from retain.state import sales as reviews
from retain.state import testing, users
from retain.state.publish import publish
from retain.warehouse import Warehouse

pytestmark = pytest.mark.browser

AS_OF, PREVIOUS = testing.AS_OF, testing.PREVIOUS
YEAR = {"period_start_on": dt.date(2024, 1, 1), "period_end_on": dt.date(2024, 12, 31)}
# Closed deals: (id, owner, account, name, type, product, closed on, amount, units, won, loss reason)
CLOSED = [
    ("d1", "r1", "a1", "Acme expansion", "add_on", "plus", "2024-06-12", 1200.0, 4.0, True, None),
    ("d2", "r1", "a2", "Globex renewal", "renewal", "core", "2024-05-20", 3600.0, 10.0, True, None),
    ("d3", "r1", "a2", "Globex new team", "new_business", "core", "2024-04-10", 2400.0, 8.0, True, None),
    ("d4", "r1", None, "Prospect Zeta", "new_business", "core", "2024-06-05", 1800.0, 6.0, False, "price"),
    ("d5", "r2", "a3", "Initech platform", "new_business", "core", "2024-06-18", 5000.0, 15.0, True, None),
    ("d6", "r3", "a5", "Umbrella add-on", "add_on", "plus", "2024-06-22", 900.0, 3.0, True, None),
    ("d7", "r3", "a6", "Hooli platform", "new_business", "core", "2024-03-02", 4000.0, 12.0, True, None),
    ("d8", "r1", "a1", "Acme pilot", "new_business", "core", "2023-12-15", 700.0, 2.0, True, None),
]
TEAM = {"r1": "East", "r2": "East", "m1": "East", "r3": "West"}
# Goals: (id, member, team, metric, product, target, description); actuals are what CLOSED makes of them.
GOALS = [
    ("g1", "r1", None, "new_business_arr", None, 10000.0, "Rita: new business 2024"),
    ("g2", "r2", None, "new_business_arr", None, 12000.0, "Raj: new business 2024"),
    ("g3", "r3", None, "total_arr", None, 8000.0, "Olga: all ARR 2024"),
    ("g4", "r1", None, "meetings", None, 40.0, "Rita: meetings 2024"),
]
TEAM_GOALS = [
    ("g0", None, "East", "new_business_arr", None, 20000.0, "East: new business 2024"),
    ("gp", None, None, "units", "plus", 50.0, "Plus add-on units 2024"),
]
# Open deals now: (id, owner, account, stage, funnel position, amount, close on)
OPEN = [
    ("o1", "r1", "a1", "negotiation", 3.0, 5000.0, "2024-08-31"),
    ("o2", "r2", "a3", "proposal", 2.0, 8000.0, "2024-07-31"),
    ("o3", "r3", "a5", "proposal", 2.0, 2000.0, "2024-09-15"),
    ("o4", "r3", "a1", "discovery", 1.0, 3000.0, "2024-09-30"),
    ("o5", "r3", None, "discovery", 1.0, 1000.0, "2024-10-31"),
    ("o6", "m1", None, "discovery", 1.0, 1500.0, "2024-11-30"),
]
# What Mia reviewed on PREVIOUS: o1 closed earlier (slipped since), o2 smaller (amount changed), o4 further on
# (regressed since), o7 open then (moved out), o6 not there yet (moved in).
REVIEWED = [
    ("o1", "r1", "negotiation", 3.0, 5000.0, "2024-07-15"),
    ("o2", "r2", "proposal", 2.0, 6000.0, "2024-07-31"),
    ("o4", "r3", "negotiation", 3.0, 3000.0, "2024-09-30"),
    ("o7", "r2", "proposal", 2.0, 2500.0, "2024-06-30"),
]
PERSONAL = {"admin": {"g1", "g2", "g3", "g4"}, "mia": {"g1", "g2", "g4"}, "rita": {"g1", "g4"}, "olga": {"g3"}}
REPS = {"admin": {"Rita Rep", "Raj Rep", "Olga Other"}, "mia": {"Rita Rep", "Raj Rep"}, "rita": {"Rita Rep"},
        "olga": {"Olga Other"}}


def _goal_frame(rows: list[tuple], actual: dict[str, float]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["goal_id", "member_id", "team", "metric", "product_id", "target",
                                        "description"]).assign(**YEAR)
    frame["actual"] = frame["goal_id"].map(actual)
    frame["pace"] = frame["target"] * 0.5
    frame["attainment"] = frame["actual"] / frame["target"]
    frame["projected"] = frame["actual"] * 2
    frame["projected_attainment"] = frame["projected"] / frame["target"]
    return frame


def _capacity() -> pd.DataFrame:
    """East saturated (6 open deals per rep against 5): protect existing customers; West at half its capacity and
    converting better than before: grow new business. May's row is older and must not show."""
    frame = pd.DataFrame({
        "team": ["East", "West", "East"], "as_of": [AS_OF, AS_OF, PREVIOUS], "reps": [2, 1, 2],
        "open_deals_per_rep": [6.0, 2.0, 4.0], "capacity_per_rep": [5.0, 4.0, 5.0], "accounts": [4, 2, 4],
        "owners": [2, 1, 2], "win_rate": [0.25, 0.40, 0.30], "historical_win_rate": [0.30, 0.30, 0.30],
        "closed_recent": [8, 5, 8]})
    return _situations(frame)


def sales_results(wh: Warehouse) -> None:
    """Replace the tiny company's sales results with the hand-checkable ones above."""
    deals = pd.DataFrame(CLOSED, columns=["opportunity_id", "owner_id", "account_id", "name", "opportunity_type",
                                          "product_id", "closed_on", "amount", "units", "is_won", "loss_reason"])
    deals = deals.sort_values("closed_on", ascending=False)  # newest first, as retain.sales.bookings stores them
    deals["closed_on"] = pd.to_datetime(deals["closed_on"]).dt.date
    deals["month"] = pd.to_datetime(deals["closed_on"]).dt.strftime("%Y-%m")
    deals["team"] = deals["owner_id"].map(TEAM)
    deals["account_id"] = deals["account_id"].astype("string")
    wh.store_result("sales_deals", deals, AS_OF)
    won = deals[deals["is_won"]]
    wh.store_result("sales_bookings", won.groupby(["month", "owner_id", "team", "opportunity_type", "product_id"],
                                                  as_index=False).agg(arr=("amount", "sum"), units=("units", "sum"),
                                                                      deals=("opportunity_id", "count")), AS_OF)
    wh.store_result("sales_goals", _goal_frame(GOALS, {"g1": 2400.0, "g2": 5000.0, "g3": 4900.0, "g4": 12.0}),
                    AS_OF)
    wh.store_result("sales_team_goals", _goal_frame(TEAM_GOALS, {"g0": 7400.0, "gp": 7.0}), AS_OF)
    wh.store_result("sales_capacity", _capacity(), AS_OF)
    scores = pd.DataFrame(OPEN, columns=["opportunity_id", "owner_id", "account_id", "stage", "stage_position",
                                         "amount", "close_on"])
    scores["account_id"] = scores["account_id"].astype("string")
    scores["close_on"] = pd.to_datetime(scores["close_on"]).dt.date
    scores = scores.assign(name="Deal " + scores["opportunity_id"], opportunity_type="new_business", p_win=0.4,
                           stage_benchmark=0.55, below_benchmark=scores["opportunity_id"] == "o2",
                           reasons="no activity for 20 days", warnings="no_activity", warning_count=1)
    wh.store_result("opportunity_scores", scores, AS_OF)


def sales_app(database_url: str):
    """The dashboard with the company above published, the four users and Mia's review of ``PREVIOUS``."""
    app = create_app(Settings(database_url=database_url, dev=True))
    wh = testing.build(Warehouse.open(":memory:"))
    sales_results(wh)
    with app.state.runtime.sessions() as db:
        publish(wh, db, AS_OF)
        for name, (role, member_id) in testing.ROLES.items():
            users.create_user(db, name, testing.PASSWORDS[name], role, member_id=member_id)
        reviewed = [{"opportunity_id": o, "owner_id": m, "name": f"Deal {o}", "stage": s, "stage_position": p,
                     "amount": a, "close_on": c, "p_win": 0.4} for o, m, s, p, a, c in REVIEWED]
        reviews.record_review(db, "m1", "mia", PREVIOUS, reviewed)
    return app


@pytest.fixture(scope="module")
def sales_url(tmp_path_factory):
    """A server of its own (reviews are recorded), on a free loopback port."""
    import uvicorn

    app = sales_app(f"sqlite:///{tmp_path_factory.mktemp('sales_browser') / 'app.sqlite'}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/login?next=/sales")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", testing.PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/sales")


def first_cells(page, selector: str) -> list[str]:
    """The first cell of each row of the table ``selector`` (not a "none" row spanning the table)."""
    return [t.strip() for t in page.locator(f"{selector} tbody tr td:first-child:not([colspan])").all_inner_texts()]


def row(page, selector: str, first: str) -> list[str]:
    """The cells of the row of table ``selector`` whose first cell is ``first``."""
    cells = page.locator(f"{selector} tbody tr").filter(has=page.locator("td:first-child", has_text=first))
    assert cells.count() == 1, f"{first} in {selector}: {cells.count()} rows"
    return [t.strip() for t in cells.first.locator("td").all_inner_texts()]


def drill_into_goal(page, description: str) -> list[str]:
    """Click a goal and return the deals listed under it."""
    goal_id = next(g for g, *_, d in GOALS + TEAM_GOALS if d == description)
    page.locator("#personal-goals a, #team-goals a", has_text=description).click()
    page.wait_for_url(re.compile(rf"/sales\?goal={goal_id}#deals$"))
    assert page.locator("h2#deals").inner_text() == f"Deals won toward {description}"
    return first_cells(page, "#drill-down")


def goal_ids(page, selector: str) -> set[str]:
    by_description = {d: g for g, *_, d in GOALS + TEAM_GOALS}
    return {by_description[d] for d in first_cells(page, selector)}


@pytest.mark.parametrize("who", ["rita", "olga"])
def test_a_rep_sees_only_her_own_goals_and_bookings_and_no_pipeline_review(page, sales_url, who):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, sales_url, who)
    assert page.locator("header nav a", has_text="Pipeline review").count() == 0
    assert goal_ids(page, "#personal-goals") == PERSONAL[who]
    assert goal_ids(page, "#team-goals") == {"g0", "gp"}  # team and company goals: company results, every role
    assert set(first_cells(page, "#reps")) == REPS[who]
    if who == "rita":  # new business 2,400 + 700 (Dec 2023), add-on 1,200, renewal 3,600; the lost deal not counted
        assert row(page, "#reps", "Rita Rep") == ["Rita Rep", "3,100", "1,200", "3,600", "7,900"]
        assert row(page, "#personal-goals", "Rita: new business 2024")[2:6] == ["10,000", "2,400", "5,000", "24%"]
        # the goal's deals: won, in 2024, new business, hers (not the lost Prospect Zeta, not December's pilot)
        assert drill_into_goal(page, "Rita: new business 2024") == ["Globex new team"]
        assert row(page, "#drill-down", "Globex new team")[1:] == ["Rita Rep", "core", "2024-04-10", "2,400", "8",
                                                                   "won"]
        # the team goal lists only the team's deals she may see (Raj's Initech deal is not hers)
        assert drill_into_goal(page, "East: new business 2024") == ["Globex new team"]
        assert page.locator("#personal-goals a", has_text="Rita: meetings 2024").count() == 0  # counts no deals
        page.goto(f"{sales_url}/sales")
        page.locator("#bookings tbody tr", has_text="2024-06").locator("a").nth(1).click()  # June, add-on
        page.wait_for_url(re.compile(r"/sales\?month=2024-06&type=add_on#deals$"))
        assert first_cells(page, "#drill-down") == ["Acme expansion"]  # not Olga's Umbrella add-on
    else:
        assert row(page, "#reps", "Olga Other") == ["Olga Other", "4,000", "900", "–", "4,900"]
        assert drill_into_goal(page, "Olga: all ARR 2024") == ["Umbrella add-on", "Hooli platform"]
        assert drill_into_goal(page, "East: new business 2024") == []  # none of East's deals are hers
        assert page.locator("#drill-down tbody").inner_text().strip() == "No deals you can see."
    response = page.goto(f"{sales_url}/pipeline-review")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "403 · Forbidden"
    assert "Pipeline review is for managers" in page.locator("main").inner_text()
    assert "Deal o" not in page.content()
    assert not errors, errors


def test_the_new_vs_existing_call_shows_its_figures(page, sales_url):
    sign_in(page, sales_url, "rita")  # a company result: the same for every role
    heading = page.locator("h2", has_text="New business or existing customers first?")
    assert heading.count() == 1
    assert first_cells(page, "#capacity") == ["East", "West"]  # the latest month only
    assert row(page, "#capacity", "East") == [
        "East", "2024-06", "6.0", "5.0", "120%", "25%", "30%",
        "protect existing customers first: 6.0 open deals per rep, 120% of capacity; win rate 25% over 90 days vs "
        "30% before"]
    assert row(page, "#capacity", "West")[4:] == [
        "50%", "40%", "30%", "prioritise new business: 2.0 open deals per rep, 50% of capacity; win rate 40% over 90 "
        "days vs 30% before"]


def test_a_manager_sees_her_team_and_what_changed_since_her_last_review(page, sales_url):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, sales_url, "mia")
    assert goal_ids(page, "#personal-goals") == PERSONAL["mia"]
    assert set(first_cells(page, "#reps")) == REPS["mia"]
    assert row(page, "#reps", "Raj Rep") == ["Raj Rep", "5,000", "–", "–", "5,000"]
    assert first_cells(page, "#reps")[0] == "Rita Rep"  # the larger total first
    assert drill_into_goal(page, "East: new business 2024") == ["Initech platform", "Globex new team"]
    assert drill_into_goal(page, "Raj: new business 2024") == ["Initech platform"]

    page.click("header nav >> text=Pipeline review")
    page.wait_for_url(f"{sales_url}/pipeline-review")
    assert "last review 2024-05-31 by mia" in page.locator("main").inner_text()
    changes = [[c.strip() for c in r.locator("td").all_inner_texts()] for r in page.locator("#changes tbody tr").all()]
    assert changes == [["moved in", "Deal o6", "", "discovery"],
                       ["moved out", "Deal o7", "proposal", "closed or out of scope"],
                       ["slipped", "Deal o1", "2024-07-15", "2024-08-31"],
                       ["amount changed", "Deal o2", "6,000", "8,000"],
                       ["stage regressed", "Deal o4", "negotiation", "discovery"]]
    stages = [h.strip() for h in page.locator("main h2").all_inner_texts() if "deals" in h]
    assert stages == ["negotiation (1 deals, 5,000)", "proposal (1 deals, 8,000)", "discovery (2 deals, 4,500)"]
    # her team's deals and those on its accounts (Olga's o4 is on Rita's Acme); not Olga's others
    shown = set(page.locator("table.stage tbody tr td:first-child").all_inner_texts())
    assert shown == {"Deal o1", "Deal o2", "Deal o4", "Deal o6"}
    assert "below benchmark" in row(page, "table.stage", "Deal o2")[6]
    assert row(page, "table.stage", "Deal o2")[7] == "no activity lately"

    with page.expect_navigation():  # this review becomes what the next one compares with
        page.click("#review-done button[type=submit]")
    assert page.url == f"{sales_url}/pipeline-review"
    assert "last review 2024-06-30 by mia" in page.locator("main").inner_text()
    assert page.locator("#changes tbody").inner_text().strip() == "Nothing changed since the last review."
    assert not errors, errors


def test_an_admin_sees_every_rep_and_deal(page, sales_url):
    sign_in(page, sales_url, "admin")
    assert goal_ids(page, "#personal-goals") == PERSONAL["admin"]
    assert set(first_cells(page, "#reps")) == REPS["admin"]
    assert drill_into_goal(page, "Plus add-on units 2024") == ["Umbrella add-on", "Acme expansion"]
    page.goto(f"{sales_url}/pipeline-review")
    assert "no review recorded yet" in page.locator("main").inner_text()  # the admin's review is her own
    assert page.locator("#changes").count() == 0
    shown = set(page.locator("table.stage tbody tr td:first-child").all_inner_texts())
    assert shown == {f"Deal o{i}" for i in range(1, 7)}
