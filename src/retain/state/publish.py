"""Publish: copy what the pages need from the warehouse into the application database's snapshot tables.

Reads the canonical tables point-in-time (``wh.as_of``) for what every account has (ARR, owner, renewal,
products, tickets, surveys, a timeline) and the stored results of the analytics domains when present
(``health_scores``, ``health_components``, ``propensity``, ``clv``, retention metrics...). A result that is
absent is skipped, never an error: the pages show what exists.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import ibis
import ibis.expr.types as ir
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from retain import results
from retain.errors import RetainError, WarehouseError
from retain.health.choice import stored_summary
from retain.results import AdoptionTier
from retain.state import published
from retain.state.insight import add_health_insights
from retain.state.models import AccountDetail, AccountSnapshot, PublishRun, ScoreHistory, TeamMember
from retain.state.names import rebuild_name_index
from retain.warehouse import Warehouse, as_of_date, as_of_day

TIMELINE_LIMIT = 40
ADOPTION_WINDOW_DAYS = 30
BOOK_MONTHS = 12  # months of MRR movements per book, as the company-wide ``revenue_retention`` stores by month
BOOK_REVENUE = "book_revenue"


def _reads(name: str, **columns: str) -> tuple[str, dict[str, str]]:
    """A stored result and what the snapshot takes from it (snapshot column: declared column). A column the
    result's spec (:mod:`retain.results`) does not declare fails here, at import, not on a page."""
    result = results.spec(name)
    return name, {target: result.column(column).name for target, column in columns.items()}


# The per-account results the snapshot joins, by their declared column names.
ACCOUNT_RESULTS = (
    _reads("health_scores", health_total="total", health_grade="grade", critical="score_note",
           health_churn_probability="churn_probability"),
    _reads("propensity", churn_probability="churn_probability", model_tier="adoption_tier",
           model_reasons="reasons"),
    _reads("clv", clv="clv"),
)
_, COMPONENT = _reads("health_components", component="component", score="score", weight_pct="weight_pct")
HISTORY = ACCOUNT_RESULTS[0][1]
_, CHURN_HISTORY = _reads("propensity", churn_probability="churn_probability")


def json_safe(value):
    """Dates to ISO strings, NaN to None, numpy scalars to Python: what a JSON column accepts."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "tolist"):
        return json_safe(value.tolist())
    return value


def optional_result(wh: Warehouse, name: str, day: dt.date, limit: int | None = None) -> pd.DataFrame | None:
    """The latest stored result ``name`` as of ``day`` or before (all rows if it has no ``as_of``; at most
    ``limit``), or None."""
    try:
        t = wh.raw_result(name)
    except WarehouseError:
        return None
    if "as_of" in t.columns:
        on = t.as_of.cast("date")
        latest = t.filter(on <= day).as_of.cast("date").max()
        t = t.filter(on == latest)
    frame = wh.execute(t if limit is None else t.limit(limit))
    return frame if len(frame) else None


# -- from the canonical tables ------------------------------------------------------------------------------


def account_base(wh: Warehouse, day: dt.date) -> ir.Table:
    """Accounts with ARR, products held, renewal date, status and open tickets as of ``day``."""
    accounts = wh.as_of("accounts", day)
    subs = wh.as_of("subscriptions", day)
    today = ibis.literal(day, type="date")
    running = subs.filter((subs.started_on <= today) & (subs.ended_on.isnull() | (subs.ended_on > today)))
    live = running.group_by("account_id").aggregate(
        mrr=running.mrr.sum(), currency=running.currency.max(), products_held=running.product_id.nunique(),
        renewal_on=running.term_end_on.min(where=running.term_end_on >= today),
    )
    ever = subs.group_by("account_id").aggregate(subscriptions=subs.count())
    tickets = wh.as_of("support_tickets", day)
    open_tickets = tickets.filter(tickets.resolved_at.isnull()).group_by("account_id").aggregate(
        open_tickets=ibis._.count())
    usage = wh.as_of("usage", day)
    recent = usage.filter((usage.usage_on > today - ibis.interval(days=ADOPTION_WINDOW_DAYS)) & (usage.events > 0))
    adoption = recent.group_by("account_id").aggregate(active_days=recent.usage_on.nunique())
    t = (accounts.left_join(live, "account_id").left_join(ever, "account_id")
         .left_join(open_tickets, "account_id").left_join(adoption, "account_id"))
    active_days = t.active_days.fill_null(0)
    return t.select(
        "account_id", "name", "owner_id", "csm_id", "segment", "region", "industry", "acquisition_channel",
        "renewal_on",
        arr=(t.mrr.fill_null(0.0) * 12).cast("float64"),
        currency=t.currency.fill_null("USD"),
        products_held=t.products_held.fill_null(0).cast("int64"),
        open_tickets=t.open_tickets.fill_null(0).cast("int64"),
        status=ibis.cases((t.mrr.notnull(), "active"), (t.subscriptions.notnull(), "churned"), else_="prospect"),
        adoption_tier=ibis.cases((active_days >= 20, AdoptionTier.HIGH.value),
                                 (active_days >= 10, AdoptionTier.MEDIUM.value), else_=AdoptionTier.LOW.value),
    )


def _collect(t: ir.Table, order: str, limit: int, **fields) -> ir.Table:
    """Per account, the latest ``limit`` rows of ``t`` as a list of structs, each with its ``_rank`` (0: the
    latest): Spark cannot order a collected list, so :func:`_in_order` sorts it after the query, on every engine."""
    ranked = t.mutate(_rank=ibis.row_number().over(group_by="account_id", order_by=ibis.desc(order)))
    ranked = ranked.filter(ranked._rank < limit)
    items = {k: ranked[v] for k, v in fields.items()} | {"_rank": ranked._rank}
    return ranked.group_by("account_id").aggregate(items=ibis.struct(items).collect())


def _in_order(items) -> list[dict]:
    """A collected list of :func:`_collect`'s structs, latest first, without their ``_rank``."""
    rows = [dict(i) if isinstance(i, dict) else i.asDict() for i in (items if items is not None else [])]
    return [{k: v for k, v in r.items() if k != "_rank"} for r in sorted(rows, key=lambda r: r["_rank"])]


def account_details(wh: Warehouse, day: dt.date) -> dict[str, dict]:
    """Per account: subscriptions, open tickets, survey answers and a timeline of recent activity."""
    today = ibis.literal(day, type="date")
    subs = wh.as_of("subscriptions", day)
    products = wh.raw("products").select("product_id", product_name="name")
    subs = subs.left_join(products, "product_id")
    subs = subs.mutate(running=subs.ended_on.isnull() | (subs.ended_on > today),
                       product=subs.product_name.fill_null(subs.product_id).cast("string"))
    parts = {
        "subscriptions": _collect(subs, "started_on", 25, product=subs.product.get_name(), mrr="mrr",
                                  quantity="quantity", started_on="started_on", ended_on="ended_on",
                                  term_end_on="term_end_on", running="running"),
    }
    tickets = wh.as_of("support_tickets", day)
    open_t = tickets.filter(tickets.resolved_at.isnull())
    parts["open_tickets"] = _collect(open_t, "opened_at", 20, ticket_id="ticket_id", opened_at="opened_at",
                                     priority="priority", category="category", subject="subject")
    surveys = wh.as_of("survey_responses", day)
    parts["surveys"] = _collect(surveys, "responded_at", 20, responded_at="responded_at", survey_type="survey_type",
                                score="score", touchpoint="touchpoint", comment="comment")
    parts["timeline"] = _collect(timeline_events(wh, day), "at", TIMELINE_LIMIT, at="at", kind="kind",
                                 title="title", detail="detail")
    parts["people"] = _collect(key_people(wh, day), "created_at", 20, contact_id="contact_id", name="name",
                               title="title", role="role", email="email", left_at="left_at")
    parts["touches"] = _collect(last_touches(wh, day), "at", 20, team="team", at="at", kind="kind", who="who")
    out: dict[str, dict] = {}
    for key, expr in parts.items():
        frame = wh.execute(expr)
        for account_id, items in zip(frame["account_id"].tolist(), frame["items"].tolist(), strict=True):
            out.setdefault(account_id, {})[key] = json_safe(_in_order(items))
    return out


KEY_ROLES = ("champion", "decision_maker", "executive_sponsor")


def key_people(wh: Warehouse, day: dt.date) -> ir.Table:
    """Contacts in a key buying role (champion, decision maker, executive sponsor), those who left included: Account
    360 warns when a champion has gone."""
    c = wh.as_of("contacts", day)
    return c.filter(c.role.isin(KEY_ROLES))


def last_touches(wh: Warehouse, day: dt.date) -> ir.Table:
    """Per account and team (the member's role: csm, rep, support...), its latest activity: who touched it last."""
    acts = wh.as_of("activities", day)
    team = wh.raw("team_members").select("member_id", who="name", team="role")
    t = acts.filter(acts.account_id.notnull()).left_join(team, "member_id")
    t = t.mutate(team=t.team.fill_null("other").cast("string"), kind=t.activity_type.cast("string"))
    ranked = t.mutate(_n=ibis.row_number().over(group_by=["account_id", "team"], order_by=ibis.desc(t.occurred_at)))
    return ranked.filter(ranked._n == 0).select("account_id", "team", "kind", "who", at=ranked.occurred_at)


def timeline_events(wh: Warehouse, day: dt.date) -> ir.Table:
    """Activities, tickets, survey answers and recorded calls as one stream of (account, time, kind, title)."""
    s = "string"
    acts = wh.as_of("activities", day)
    acts = acts.filter(acts.account_id.notnull()).select(
        "account_id", at=acts.occurred_at, kind=acts.activity_type.cast(s), title=acts.subject.fill_null("").cast(s),
        detail=acts.outcome.fill_null("").cast(s))
    tickets = wh.as_of("support_tickets", day)
    tickets = tickets.select(
        "account_id", at=tickets.opened_at, kind=ibis.literal("ticket"), title=tickets.subject.fill_null("").cast(s),
        detail=(tickets.priority.fill_null("") + " " + tickets.category.fill_null("")).cast(s))
    surveys = wh.as_of("survey_responses", day)
    surveys = surveys.select(
        "account_id", at=surveys.responded_at, kind=ibis.literal("survey"),
        title=(surveys.survey_type.upper() + " " + surveys.score.cast(s)).cast(s),
        detail=surveys.comment.fill_null("").cast(s))
    calls = wh.as_of("conversations", day)
    calls = calls.filter(calls.account_id.notnull()).select(
        "account_id", at=calls.started_at, kind=ibis.literal("call"), title=calls.title.fill_null("").cast(s),
        detail=calls.call_type.fill_null("").cast(s))
    return ibis.union(acts, tickets, surveys, calls)


# -- from stored results -----------------------------------------------------------------------------------


def scores(wh: Warehouse, day: dt.date, sources: dict) -> pd.DataFrame:
    """Per account: health total/grade, critical factor, churn probability, model tier and reasons, CLV (of the
    results stored)."""
    frames = []
    for name, columns in ACCOUNT_RESULTS:
        frame = optional_result(wh, name, day)
        sources[name] = frame is not None
        if frame is None:
            continue
        part = frame.reindex(columns=["account_id", *columns.values()]).rename(  # an older layout: nulls
            columns={v: k for k, v in columns.items()})
        frames.append(part.drop_duplicates("account_id").set_index("account_id"))
    if not frames:
        return pd.DataFrame(index=pd.Index([], name="account_id"))
    return pd.concat(frames, axis=1)


def components(wh: Warehouse, day: dt.date, sources: dict) -> dict[str, list[dict]]:
    """Per account, its health components as records: component, score (0-100) and weight (a fraction)."""
    frame = optional_result(wh, "health_components", day)
    sources["health_components"] = frame is not None
    if frame is None:
        return {}
    frame = frame[["account_id", *COMPONENT.values()]].rename(columns={v: k for k, v in COMPONENT.items()})
    frame = frame.assign(weight=frame.pop("weight_pct") / 100.0)
    records = frame.to_dict("records")
    out: dict[str, list[dict]] = {}
    for rec in records:
        out.setdefault(rec.pop("account_id"), []).append(json_safe(rec))
    return out


def history(wh: Warehouse, day: dt.date) -> pd.DataFrame:
    """Health total/grade per account and ``as_of`` from every stored health score up to ``day``."""
    try:
        t = wh.raw_result("health_scores")
    except WarehouseError:
        return pd.DataFrame(columns=["account_id", "as_of", "health_total", "health_grade"])
    fields = {target: t[HISTORY[target]] for target in ("health_total", "health_grade")}
    frame = wh.execute(t.filter(t.as_of <= day).select("account_id", "as_of", **fields))
    try:
        p = wh.raw_result("propensity")
    except WarehouseError:
        p = None
    if p is not None:
        probs = wh.execute(p.filter(p.as_of <= day).select(
            "account_id", "as_of", **{k: p[v] for k, v in CHURN_HISTORY.items()}))
        frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
        probs["as_of"] = pd.to_datetime(probs["as_of"]).dt.date
        frame = frame.merge(probs.drop_duplicates(["account_id", "as_of"]), on=["account_id", "as_of"],
                            how="outer")
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame.drop_duplicates(["account_id", "as_of"])


# -- the whole publish -------------------------------------------------------------------------------------


def publish(wh: Warehouse, db: Session, as_of: dt.date | str | None = None) -> PublishRun:
    """Replace the snapshot tables with the warehouse's state as of ``as_of`` (default: :func:`as_of_day`)."""
    clock = as_of_day(wh, as_of)
    day = clock.day
    sources: dict[str, bool] = {}
    try:  # degrade, never abort: without it the Portfolio's revenue charts say they have no data
        store_book_revenue(wh, day)
        book_note = None
    except (RetainError, ibis.common.exceptions.IbisError) as exc:
        book_note = f"{BOOK_REVENUE} not computed: {exc}"
    team = wh.execute(wh.raw("team_members").select("member_id", "name", "role", "email", "manager_id", "team"))
    base = wh.execute(account_base(wh, day))
    names = dict(zip(team["member_id"], team["name"], strict=True))
    base["owner_name"] = base["owner_id"].map(names)
    extra = scores(wh, day, sources)
    frame = base.set_index("account_id")
    frame = frame.drop(columns=[c for c in extra.columns if c in frame.columns]).join(extra, how="left")
    frame = frame.reset_index()
    if "model_tier" in frame:  # a learned adoption tier wins over the usage-days fallback
        frame["adoption_tier"] = frame["model_tier"].where(frame["model_tier"].notna(), frame["adoption_tier"])
    parts = components(wh, day, sources)
    details = add_health_insights(wh, day, account_details(wh, day))  # explain's changes and improvements
    hist = history(wh, day)
    prev = _previous_health(db, hist, day)
    if "health_total" in frame:
        frame["health_change"] = frame["health_total"] - frame["account_id"].map(prev)
    frame["at_risk"] = is_at_risk(frame)
    if "critical" in frame:  # the health result's score note: the list marks defaults and caps with it
        frame["score_note"] = frame["critical"].where(frame["critical"].notna(), None)
    columns = {c.name for c in AccountSnapshot.__table__.columns}
    health_card = stored_summary(wh, day)  # which scorecard health used and its warning (retain.health.choice)
    sources["health_scorecard"] = health_card
    records, extras = [], []
    for rec in frame.to_dict("records"):
        row = {k: json_safe(v) for k, v in rec.items() if k in columns and k != "renewal_on"}
        row["renewal_on"] = _as_date(rec.get("renewal_on"))
        row["as_of"] = day
        row["name"] = row.get("name") or rec["account_id"]
        records.append(row)
        extras.append({"account_id": rec["account_id"], "components": parts.get(rec["account_id"]),
                       "reasons": reason_codes(rec.get("critical"), rec.get("model_reasons")),
                       "detail": with_health_card(details.get(rec["account_id"], {}), health_card, rec)})
    db.execute(delete(TeamMember))
    if len(team):
        db.execute(insert(TeamMember), [json_safe(r) for r in team.to_dict("records")])
    db.execute(delete(AccountDetail))
    db.execute(delete(AccountSnapshot))
    if records:
        db.execute(insert(AccountSnapshot), records)
        db.execute(insert(AccountDetail), extras)
    rebuild_name_index(db)
    frame["components"] = frame["account_id"].map(
        {k: {str(c.get("component")): c.get("score") for c in v} for k, v in parts.items()})
    _write_history(db, hist, frame, day)
    refused = _write_metrics(wh, db, day, sources, ids={*frame["account_id"].astype(str), *team["member_id"]})
    refused += [book_note] if book_note else []
    run = PublishRun(as_of=day, as_of_reason=clock.reason, accounts=len(records), sources=sources,
                     note="; ".join(refused) or None)
    db.add(run)
    db.commit()
    return run


def book_revenue(wh: Warehouse, day: dt.date, months: int = BOOK_MONTHS) -> ir.Table:
    """MRR movements per month and book: each account's movements (:func:`retain.metrics.retention.unit_periods`,
    the same as the company-wide ``revenue_retention``) summed per (owner, CSM) pair of the account at ``day``.

    Every account is in exactly one pair, so the rows of any set of books add up without counting an account
    twice, and all rows add up to the company; a viewer's figures are the sums over the pairs in their scope
    (:func:`retain.state.published.revenue_by_period`), with GRR and NRR recomputed from the sums."""
    from retain.metrics.periods import Grain
    from retain.metrics.retention import unit_periods

    units = unit_periods(wh, day, Grain.MONTH, months)
    owners = wh.as_of("accounts", day).select("account_id", "owner_id", "csm_id")
    u = units.left_join(owners, "account_id")
    delta = u.end_mrr - u.start_mrr
    retained = u.status == "retained"

    def moved(status: str, column: ir.Column) -> ir.FloatingScalar:
        return ibis.ifelse(u.status == status, column, 0.0).sum()

    agg = u.group_by(["period", "period_start", "complete", "owner_id", "csm_id"]).aggregate(
        start_mrr=u.start_mrr.sum(), new_mrr=moved("new", u.end_mrr),
        expansion_mrr=ibis.ifelse(retained & (delta > 0), delta, 0.0).sum(),
        contraction_mrr=ibis.ifelse(retained & (delta < 0), -delta, 0.0).sum(),
        churned_mrr=moved("churned", u.start_mrr), reactivated_mrr=moved("reactivated", u.end_mrr),
        end_mrr=u.end_mrr.sum())
    start = agg.start_mrr.nullif(0.0)
    kept = agg.start_mrr - agg.churned_mrr - agg.contraction_mrr
    book = agg.owner_id.fill_null("-").concat("/", agg.csm_id.fill_null("-"))
    return agg.mutate(book=book, grr=kept / start, nrr=(kept + agg.expansion_mrr) / start).order_by(
        ["period_start", "owner_id", "csm_id"])


def store_book_revenue(wh: Warehouse, day: dt.date) -> int:
    """Compute and store :func:`book_revenue` as of ``day`` (rows stored; 0 without subscriptions)."""
    frame = wh.execute(book_revenue(wh, day))
    if len(frame):
        wh.store_result(BOOK_REVENUE, frame, day)
    return len(frame)


def with_health_card(detail: dict, card: dict | None, rec: dict) -> dict:
    """An account's detail with ``health_scorecard``: the scorecard health used (its warning when the shipped
    default) and the calibrated churn probability of the account's total (fitted scorecards only)."""
    if card is None:
        return detail
    p = json_safe(rec.get("health_churn_probability"))
    return {**detail, "health_scorecard": {**card, "churn_probability": p}}


def is_at_risk(frame: pd.DataFrame) -> pd.Series:
    """A red health grade (as in the owners' books), or churn probability >= 0.5, or health < 40 when neither a
    grade nor a probability exists (see ``queries.RISK_*``)."""
    from retain.state.queries import RISK_HEALTH, RISK_PROBABILITY

    nan = pd.Series(float("nan"), frame.index)
    churn, health = frame.get("churn_probability", nan), frame.get("health_total", nan)
    grade = frame.get("health_grade", pd.Series(None, frame.index, dtype=object))
    red = grade.astype("string").str.lower().eq("red").fillna(False)
    risky = red | (churn >= RISK_PROBABILITY) | (churn.isna() & grade.isna() & (health < RISK_HEALTH))
    return risky.fillna(False).astype(bool)


def _as_date(value) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return as_of_date(value)


def _as_list(value) -> list[str]:
    """Reason codes from a list, a JSON list (of strings or of {phrase|feature: ...}) or a comma-separated text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = [text]
        else:
            return [v.strip() for v in text.replace(";", ",").split(",") if v.strip()]
    out = []
    for item in value:
        if isinstance(item, dict):  # a stored direction is kept: {phrase, direction} ("raises" / "lowers" risk)
            text = item.get("phrase") or item.get("reason") or item.get("feature")
            item = {"phrase": str(text), "direction": item["direction"]} if text and item.get("direction") else text
        if item:
            out.append(item if isinstance(item, dict) else str(item))
    return out


def reason_codes(critical, model_reasons) -> list[str | dict] | None:
    """The scorecard's critical factor first (it raises the risk, unless it only says a score is a default), then
    the churn model's reasons with their direction; the same phrase once."""
    crit = [c if c.startswith("default:") else {"phrase": c, "direction": "raises"} for c in _as_list(critical)]
    codes: dict[str, str | dict] = {}
    for c in crit + _as_list(model_reasons):
        codes.setdefault(c["phrase"] if isinstance(c, dict) else c, c)
    return list(codes.values()) or None


def _previous_health(db: Session, hist: pd.DataFrame, day: dt.date) -> dict[str, float]:
    """Each account's health at the last date before ``day``: from the stored results, else the app DB."""
    earlier = hist[(hist["as_of"] < day)] if len(hist) and "health_total" in hist else hist.iloc[0:0]
    if len(earlier):
        last = earlier.sort_values("as_of").drop_duplicates("account_id", keep="last")
        return dict(zip(last["account_id"], last["health_total"], strict=True))
    stmt = select(ScoreHistory.account_id, ScoreHistory.health_total, ScoreHistory.as_of).where(
        ScoreHistory.as_of < day).order_by(ScoreHistory.as_of)
    return {a: h for a, h, _ in db.execute(stmt) if h is not None}


def _write_history(db: Session, hist: pd.DataFrame, frame: pd.DataFrame, day: dt.date) -> None:
    cols = ["account_id", "as_of", "health_total", "health_grade", "churn_probability", "components"]
    current = frame.reindex(columns=cols[:1] + cols[2:]).assign(as_of=day)
    rows = pd.concat([hist.reindex(columns=cols), current[cols]]).drop_duplicates(["account_id", "as_of"], keep="last")
    rows = rows[rows["health_total"].notna() | rows["churn_probability"].notna()]
    days = sorted(set(rows["as_of"].tolist()))
    if days:
        db.execute(delete(ScoreHistory).where(ScoreHistory.as_of.in_(days)))
    records = [{k: (as_of_date(v) if k == "as_of" else json_safe(v)) for k, v in r.items()}
               for r in rows.to_dict("records")]
    if records:
        db.execute(insert(ScoreHistory), records)


def _write_metrics(wh: Warehouse, db: Session, day: dt.date, sources: dict, ids: set[str]) -> list[str]:
    """Every declared result (:data:`retain.state.published.RESULTS`), and only those: a result must say whose
    its rows are before any page or API route can show it. A result declared company-wide whose text values
    include an account or team-member id (``ids``) is refused, not published: it would show every role rows
    that belong to someone. Returns a note per refused result."""
    refused = []
    for name, result in published.RESULTS.items():
        frame = optional_result(wh, name, day)
        company = result.visibility is published.Visibility.COMPANY
        if frame is not None and company and (hit := _names_someone(frame, ids)):
            refused.append(f"{name} not published: declared company-wide but its column '{hit}' names accounts "
                           "or team members (declare its member/account column in retain.state.published)")
            frame = None
        sources[name] = frame is not None
        rows = None if frame is None else json_safe(frame.to_dict("records"))
        published.replace(db, result, day, rows)
    return refused


def _names_someone(frame: pd.DataFrame, ids: set[str]) -> str | None:
    """The first text column of ``frame`` holding an id of ``ids``, or None."""
    for column in frame.columns:
        values = frame[column]
        text = values.dtype == object or pd.api.types.is_string_dtype(values)
        if text and values.dropna().astype(str).isin(ids).any():
            return str(column)
    return None
