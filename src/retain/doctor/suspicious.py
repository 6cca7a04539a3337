"""Suspicious data: values that load cleanly but would make analytics mean something else.

Each check is an aggregate in the engine (or reads the table facts already gathered) and returns flags:

- a quantity over :data:`OUTLIER_FACTOR` times its product's median (an allowance loaded as seats);
- a column holding one value on every row of a table with at least :data:`MIN_ROWS` rows;
- ARR implausibly high for the account count: a median above :data:`MAX_MEDIAN_ARR` per account (cents as units,
  an annual or whole-contract amount loaded as MRR);
- survey scores off their type's scale (NPS 0-10, CSAT 1-5, CES 1-7);
- every row of a file, or of one column of it, quarantined on load (ledger tables ``loads`` and ``quarantine``);
- a health component that every scored account would score 0 on, or that is not applicable for all of them;
- churn flags contradicting subscriptions: a churn event, or ``accounts.churned_at``, while a subscription of the
  account (of the product, when the event names one) that started by then runs more than :data:`GRACE_DAYS`
  after it.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from retain.doctor.report import Flag, FlagKind, TableFacts
from retain.errors import RetainError
from retain.ingest.ledger import LOADS, QUARANTINE
from retain.metrics.dimensions import count_if
from retain.schema import TABLES
from retain.warehouse import Warehouse

OUTLIER_FACTOR = 100
MIN_ROWS = 20
MAX_MEDIAN_ARR = 10_000_000.0
GRACE_DAYS = 31
EXAMPLES = 3
SURVEY_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
# one value everywhere is expected here: the currency of a one-currency company, tags set by hand, defaults of
# outcome tables that hold one kind of outcome
SINGLE_VALUE_EXPECTED = frozenset({
    ("*", "currency"), ("tags", "source"), ("outcome_labels", "outcome"), ("outcome_labels", "horizon_days"),
    ("churn_events", "event_type"), ("conversations", "language"),
})


def n(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


# -- quantities -------------------------------------------------------------------------------------------------


def quantity_outliers(wh: Warehouse, day: dt.date) -> list[Flag]:
    """Per table with a quantity and product, the products with a quantity over 100x their median."""
    flags = []
    for name, key in (("subscriptions", "subscription_id"), ("transactions", "transaction_id")):
        t = wh.as_of(name, day)
        t = t.filter(t.quantity.notnull() & t.product_id.notnull())
        medians = t.group_by("product_id").aggregate(median=t.quantity.median())
        j = t.join(medians, "product_id")
        over = j.filter((j.median > 0) & (j.quantity > j.median * OUTLIER_FACTOR))
        summary = over.group_by("product_id").aggregate(
            rows=over.count(), median=over.median.max(), largest=over.quantity.max(),
            example=over[key].min()).order_by([ibis.desc("rows"), "product_id"])
        for r in wh.execute(summary.limit(5)).itertuples(index=False):
            flags.append(Flag(
                FlagKind.QUANTITY_OUTLIER, f"{name}.quantity",
                f"{n(r.rows)} row(s) of product {r.product_id} have a quantity over {OUTLIER_FACTOR}x its median "
                f"({n(float(r.median))}); the largest is {n(float(r.largest))}",
                "check the unit: an allowance (5,000 searches) is not seats: declare the product seat_based: false "
                "in products, or correct the rows", int(r.rows), (str(r.example),)))
    return flags


# -- one value everywhere ---------------------------------------------------------------------------------------


def single_values(tables: tuple[TableFacts, ...]) -> list[Flag]:
    """Columns of tables with at least :data:`MIN_ROWS` rows that hold one value on every row that has one."""
    flags = []
    for facts in tables:
        if facts.rows < MIN_ROWS:
            continue
        spec = TABLES[facts.table]
        for col in facts.columns:
            expected = {("*", col.name), (facts.table, col.name)} & SINGLE_VALUE_EXPECTED
            if expected or col.name in spec.key or col.non_null < MIN_ROWS or not col.single_value:
                continue
            default = spec.column(col.name).default
            is_default = default is not None and default.strip("'") == col.min
            fix = ("is the column missing from your files or from the mapping? (this is its default)" if is_default
                   else "check the export or the mapping: a column that never varies tells analytics nothing")
            flags.append(Flag(FlagKind.SINGLE_VALUE, f"{facts.table}.{col.name}",
                              f"holds one value ({col.min}) on all {n(col.non_null)} rows that have one", fix,
                              col.non_null))
    return flags


# -- ARR ----------------------------------------------------------------------------------------------------


def arr_implausible(wh: Warehouse, day: dt.date) -> list[Flag]:
    s = wh.as_of("subscriptions", day)
    today = ibis.literal(day, type="date")
    running = s.filter((s.started_on <= today) & (s.ended_on.isnull() | (s.ended_on > today)))
    per_account = running.group_by("account_id").aggregate(arr=(running.mrr.sum() * 12).cast("float64"))
    row = wh.execute(per_account.aggregate(accounts=per_account.count(), median=per_account.arr.median(),
                                           total=per_account.arr.sum())).iloc[0]
    if not row["accounts"] or pd.isna(row["median"]) or float(row["median"]) <= MAX_MEDIAN_ARR:
        return []
    return [Flag(FlagKind.ARR_IMPLAUSIBLE, "subscriptions.mrr",
                 f"the median ARR per account is {n(float(row['median']))} over {n(row['accounts'])} accounts "
                 f"(total {n(float(row['total']))}): implausibly high",
                 "check the unit of mrr: monthly, in currency units (not cents, not an annual or whole-contract "
                 "amount)", int(row["accounts"]))]


# -- surveys ------------------------------------------------------------------------------------------------


def survey_off_scale(wh: Warehouse, day: dt.date) -> list[Flag]:
    s = wh.as_of("survey_responses", day)
    low = ibis.cases(*((s.survey_type == k, lo) for k, (lo, _) in SURVEY_SCALES.items()), else_=ibis.null("int64"))
    high = ibis.cases(*((s.survey_type == k, hi) for k, (_, hi) in SURVEY_SCALES.items()), else_=ibis.null("int64"))
    off = (s.score < low) | (s.score > high)
    summary = s.group_by("survey_type").aggregate(rows=s.count(), off=count_if(off), lo=s.score.min(),
                                                  hi=s.score.max(), example=s.response_id.min(where=off))
    flags = []
    for r in wh.execute(summary.order_by("survey_type")).itertuples(index=False):
        if pd.isna(r.off) or not r.off:
            continue
        lo, hi = SURVEY_SCALES[r.survey_type]
        flags.append(Flag(FlagKind.SURVEY_OFF_SCALE, f"survey_responses.score ({r.survey_type})",
                          f"{n(r.off)} of {n(r.rows)} {r.survey_type.upper()} scores are off its {lo}-{hi} scale "
                          f"(seen {r.lo}-{r.hi})",
                          "declare the survey's scale in the mapping so scores are rescaled, or correct the type",
                          int(r.off), (str(r.example),)))
    return flags


# -- quarantine -----------------------------------------------------------------------------------------------


def all_quarantined(wh: Warehouse) -> list[Flag]:
    """Files whose every row, or every row's value of one column, was quarantined (from the load ledger)."""
    existing = set(wh.con.list_tables())
    if LOADS not in existing:
        return []
    loads = wh.con.table(LOADS)
    flags = []
    empty = wh.execute(loads.filter((loads.read > 0) & (loads.loaded == 0))
                       .select("table_name", "source", "read").distinct().order_by(["table_name", "source"]))
    for r in empty.itertuples(index=False):
        flags.append(Flag(FlagKind.ALL_QUARANTINED, r.table_name,
                          f"all {n(r.read)} rows of {r.source} were quarantined",
                          "see `retain quarantine` for the reasons, fix the file or its mapping and load it again",
                          int(r.read)))
    if QUARANTINE not in existing:
        return flags
    q = wh.con.table(QUARANTINE)
    q = q.filter(q.column_name.notnull())
    per_column = q.group_by(["load_id", "column_name"]).aggregate(bad=q.row_number.nunique())
    j = per_column.join(loads, "load_id")
    whole = j.filter((j.read > 0) & (j.loaded > 0) & (j.bad >= j.read))
    found = wh.execute(whole.select("table_name", "column_name", "source", "read").distinct()
                       .order_by(["table_name", "column_name"]))
    for r in found.itertuples(index=False):
        flags.append(Flag(FlagKind.ALL_QUARANTINED, f"{r.table_name}.{r.column_name}",
                          f"every one of the {n(r.read)} rows of {r.source} had this column quarantined",
                          "see `retain quarantine --out bad_rows.csv`; fix the column's mapping or format",
                          int(r.read)))
    return flags


# -- health -------------------------------------------------------------------------------------------------


def health_components(wh: Warehouse, day: dt.date, scorecards=None) -> list[Flag]:
    """Components of the scorecard that every scored account would score 0 on, or that apply to none of them.

    The component scores stored for ``day`` are read when they exist (the shipped scorecard only); else every
    account is scored now (the health package's own cost: about 12 s on 10M usage rows)."""
    from retain import health
    from retain.health.explain import stored_result

    try:
        stored = stored_result(wh, day, measures=False) if scorecards is None else None
        components = stored.components if stored is not None else health.component_scores(wh, day, scorecards)
    except RetainError as exc:
        return [Flag(FlagKind.HEALTH_COMPONENT, "health", f"scoring failed: {exc.message}",
                     exc.hint or "run `retain score` for details")]
    if components.empty:
        return []
    scores = components.assign(applies=components["score"].notna(), zero=components["score"].fillna(-1) == 0)
    per = scores.groupby(["scorecard", "component"], sort=True).agg(
        accounts=("account_id", "nunique"), applies=("applies", "sum"), zero=("zero", "sum")).reset_index()
    flags = []
    for r in per.itertuples(index=False):
        where = f"scorecard {r.scorecard} / {r.component}"
        if r.applies == 0:
            flags.append(Flag(FlagKind.HEALTH_COMPONENT, where,
                              f"not applicable for any of its {n(r.accounts)} accounts (its sources have no data)",
                              "load the source tables its measures read, or drop the component from the scorecard",
                              int(r.accounts)))
        elif r.zero == r.accounts:
            flags.append(Flag(FlagKind.HEALTH_COMPONENT, where,
                              f"every one of its {n(r.accounts)} accounts scores 0 on it",
                              "check the measure's unit and bands (e.g. usage without user ids gives 0 active users)",
                              int(r.accounts)))
    return flags


# -- churn flags against subscriptions ------------------------------------------------------------------------


def _contradicted(flags: ir.Table, subs: ir.Table, day: dt.date, *, by_product: bool) -> ir.Table:
    """``(account_id)`` of churn flags with a subscription started by then and running past the grace period."""
    j = flags.join(subs, flags.account_id == subs.s_account)
    grace = j.churned_on + ibis.interval(days=GRACE_DAYS)
    runs_on = j.s_end.isnull() | (j.s_end > grace)  # an end after the as-of day is hidden: it still runs
    cond = (j.s_start <= j.churned_on) & runs_on & (grace <= ibis.literal(day, type="date"))
    if by_product:
        cond &= j.product_id.isnull() | (j.product_id == j.s_product)
    return j.filter(cond).select("account_id").distinct()


def churn_contradictions(wh: Warehouse, day: dt.date) -> list[Flag]:
    s = wh.as_of("subscriptions", day)
    subs = s.select(s_account=s.account_id, s_product=s.product_id, s_start=s.started_on, s_end=s.ended_on)
    e = wh.as_of("churn_events", day)
    e = e.filter(e.event_type == "churn").select("account_id", "product_id", churned_on=e.occurred_on)
    a = wh.as_of("accounts", day)
    a = a.filter(a.churned_at.notnull())
    a = a.select("account_id", churned_on=a.churned_at.cast("timestamp('UTC')").date())
    sources = (("churn_events", e, True, "churn event"), ("accounts.churned_at", a, False, "churned_at"))
    flags = []
    for where, rows, by_product, what in sources:
        bad = _contradicted(rows, subs, day, by_product=by_product)
        found = wh.execute(bad.aggregate(n=bad.count(), example=bad.account_id.min()))
        total = wh.execute(rows.aggregate(n=rows.account_id.nunique()))["n"].iloc[0]
        count = int(found["n"].iloc[0])
        if count:
            flags.append(Flag(
                FlagKind.CHURN_CONTRADICTION, where,
                f"{n(count)} of {n(total)} accounts have a {what} while a subscription that started by then still "
                f"runs more than {GRACE_DAYS} days after it",
                "export the subscriptions' end dates, or correct the churn flags (a downgrade is not a churn)",
                count, (str(found["example"].iloc[0]),)))
    return flags


def flags(wh: Warehouse, day: dt.date, tables: tuple[TableFacts, ...], scorecards=None) -> tuple[Flag, ...]:
    """Every suspicious-data flag as of ``day``."""
    return (*quantity_outliers(wh, day), *single_values(tables), *arr_implausible(wh, day),
            *survey_off_scale(wh, day), *all_quarantined(wh), *health_components(wh, day, scorecards),
            *churn_contradictions(wh, day))
