"""Per-account CLV from the warehouse, as of a date, and CLV by acquisition channel, campaign and cohort.

Subscription accounts: a shifted-beta-geometric model per segment, fitted on contract renewal history
(periods survived, churned or not), values each active account at DERL × contract value × margin. One-off
transactions: a buy-till-you-die model (BG/NBD or Pareto/NBD, Gamma-Gamma spend) on the RFM summary. An account
with both gets both parts. ``method="simple"`` uses the business formula of :mod:`retain.clv.simple` instead.

A fit that runs to a boundary or an absurd scale (``fit_issues_``) is never used as it stands: a diverging sBG is
replaced by its limit, the geometric (constant churn) model of the same accounts; a degenerate BG/NBD, Pareto/NBD
or Gamma-Gamma by the simple CLV of purchases, or the observed spend. Each replacement adds a note saying which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from retain.clv.base import issues_note
from retain.clv.beta_geo import BetaGeoFitter
from retain.clv.gamma_gamma import GammaGammaFitter
from retain.clv.geometric import GeometricFitter
from retain.clv.pareto_nbd import ParetoNBDFitter
from retain.clv.predict import customer_predictions
from retain.clv.rfm import rfm_from_warehouse
from retain.clv.sbg import ShiftedBetaGeometricFitter
from retain.clv.simple import simple_clv, yearly_churn_rate, yearly_inputs
from retain.errors import ConvergenceError, ModelError, RetainError
from retain.metrics.dimensions import count_if
from retain.warehouse import AsOf, Warehouse, as_of_date

RESULT_COLUMNS = ["account_id", "clv", "expected_purchases", "p_alive", "expected_spend", "method"]
MIN_SEGMENT_ACCOUNTS = 30
MIN_SEGMENT_CHURNED = 10
MIN_BTYD_CUSTOMERS = 20


class Method(StrEnum):
    BGNBD = "bgnbd"
    PARETO = "pareto"
    SIMPLE = "simple"


class By(StrEnum):
    CHANNEL = "channel"
    CAMPAIGN = "campaign"
    COHORT = "cohort"


@dataclass(frozen=True)
class ClvSettings:
    """How CLV is computed: horizon, yearly discount rate, gross margin, contract period."""

    method: Method = Method.BGNBD
    horizon_months: int = 36
    discount_rate: float = 0.10
    margin: float = 0.8
    period_months: int = 12

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", Method(self.method))
        if self.horizon_months < 1 or self.period_months < 1:
            raise ModelError("horizon and contract period must be at least one month", hint="e.g. --horizon-months 36")
        if not 0 <= self.margin <= 1:
            raise ModelError(f"margin {self.margin} is not between 0 and 1", hint="e.g. --margin 0.8 for 80%")


@dataclass
class ClvResult:
    """Per-account values plus the fitted models (for the parameter tables) and notes for people: fits replaced
    by a fallback (and which), segments using the pooled fit, penalised refits."""

    values: pd.DataFrame
    models: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# -- subscriptions: sBG on renewal history --------------------------------------------------------------------


def contract_history(wh: Warehouse, as_of: AsOf, period_months: int = 12) -> ir.Table:
    """Per account with subscriptions: segment, ``periods`` (renewals survived, or the period it left in),
    ``churned``, ``active`` and current contract value per period (``period_value``), known at ``as_of``."""
    day = as_of_date(as_of)
    day_lit = ibis.literal(day, type="date")
    subs = wh.as_of("subscriptions", day)
    running = subs.ended_on.isnull() | (subs.ended_on > day_lit)
    per = subs.group_by("account_id").aggregate(
        start=subs.started_on.min(), last_end=subs.ended_on.max(),
        running=count_if(running), mrr=subs.mrr.sum(where=running),
    )
    accounts = wh.as_of("accounts", day).select("account_id", "segment")
    per = per.left_join(accounts, "account_id").drop("account_id_right")
    active = per.running > 0
    end = ibis.ifelse(active, day_lit, per.last_end)
    length = end.delta(per.start, unit="day").cast("float64") / (period_months * 365.25 / 12)
    periods = ibis.ifelse(active, (length + 0.01).floor(), ibis.greatest((length - 0.02).ceil(), 1))
    return per.select(
        "account_id",
        segment=per.segment.fill_null("unknown"),
        periods=periods.cast("float64"),
        churned=ibis.ifelse(active, 0.0, 1.0),
        active=active,
        period_value=per.mrr.fill_null(0.0) * period_months,
    )


ContractModel = ShiftedBetaGeometricFitter | GeometricFitter


def fit_sbg_by_segment(history: ir.Table, wh: Warehouse) -> tuple[dict[str, ContractModel], list[str]]:
    """One sBG per segment with enough history and a well-determined fit; the pooled fit (``"all"``) otherwise.

    A fit whose α, β diverge is replaced by the geometric model of the same accounts. Returns the models by
    segment and notes saying where a segment uses the pooled fit or the geometric model, and why.
    """
    counts = history.group_by(["segment", "periods", "churned"]).aggregate(n=history.count())
    rows = wh.execute(counts)
    if rows.empty or rows.loc[rows.churned == 1, "n"].sum() == 0:
        raise ModelError("no subscription has ended yet, so churn cannot be modelled",
                         hint="CLV by sBG needs some contract history with cancellations; try --model simple")
    notes: list[str] = []
    models: dict[str, ContractModel] = {"all": _fit_contracts(rows, "all accounts", notes)}
    for segment, part in rows.groupby("segment"):
        accounts, churned = int(part.n.sum()), int(part.loc[part.churned == 1, "n"].sum())
        if accounts < MIN_SEGMENT_ACCOUNTS or churned < MIN_SEGMENT_CHURNED:
            notes.append(f"segment {segment}: {accounts} accounts, {churned} churned (a fit of its own needs "
                         f"{MIN_SEGMENT_ACCOUNTS} and {MIN_SEGMENT_CHURNED}); using the fit on all accounts")
            continue
        try:
            model = _fit_contracts(part, f"segment {segment}", notes)
        except RetainError as exc:
            notes.append(f"the sBG fit for segment {segment} failed ({exc.message}); using the fit on all accounts")
            continue
        if not _identified(model):
            notes.append(f"the sBG fit for segment {segment} is not determined (standard errors over twice the "
                         "estimates); using the fit on all accounts")
            continue
        models[str(segment)] = model
    return models, notes


def _identified(model: ContractModel) -> bool:
    """A segment's own fit is used only when its parameters are pinned down (finite, not huge, errors)."""
    se, coef = model.standard_errors_.to_numpy(), model.params_.to_numpy()
    return bool(np.all(np.isfinite(se)) and np.all(se < 2 * coef))


def _fit_contracts(rows: pd.DataFrame, who: str, notes: list[str]) -> ContractModel:
    """sBG on (periods, churned, n) rows; its geometric limit, with a note, when the sBG fit is degenerate."""
    grouped = rows.groupby(["periods", "churned"], as_index=False)["n"].sum()
    frame, weights = grouped[["periods", "churned"]], grouped["n"].to_numpy()
    model = ShiftedBetaGeometricFitter().fit(frame, weights)
    if not model.is_degenerate:
        return model
    geometric = GeometricFitter().fit(frame, weights)
    keep = float(geometric.retention_rate(1))
    notes.append(issues_note(f"the sBG fit for {who}", model.fit_issues_,
                             f"using a constant-rate (geometric) model: every account renews with probability "
                             f"{keep:.2f}"))
    return geometric


def subscription_values(wh: Warehouse, as_of: AsOf, settings: ClvSettings) -> tuple[pd.DataFrame, dict, list[str]]:
    history = contract_history(wh, as_of, settings.period_months)
    models, notes = fit_sbg_by_segment(history, wh)
    active = wh.execute(history.filter(history.active))
    rate = (1 + settings.discount_rate) ** (settings.period_months / 12) - 1
    horizon = max(1, math.ceil(settings.horizon_months / settings.period_months))
    parts = []
    for segment, part in active.groupby("segment"):
        model = models.get(str(segment), models["all"])
        renewals = part["periods"].to_numpy(float)
        parts.append(pd.DataFrame({
            "account_id": part["account_id"].to_numpy(),
            "clv": model.derl(rate, renewals, horizon=horizon) * part["period_value"].to_numpy() * settings.margin,
            "expected_purchases": model.derl(0.0, renewals, horizon=horizon),
            "p_alive": model.retention_rate(renewals + 1),
            "expected_spend": part["period_value"].to_numpy(float),
            "method": _contract_method(model),
        }))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RESULT_COLUMNS)
    return frame, {f"{_contract_method(v)}:{k}": v for k, v in models.items()}, notes


def _contract_method(model: ContractModel) -> str:
    return "geometric" if isinstance(model, GeometricFitter) else "sbg"


# -- one-off transactions: BG/NBD or Pareto/NBD + Gamma-Gamma --------------------------------------------------


def transaction_values(wh: Warehouse, as_of: AsOf, settings: ClvSettings) -> tuple[pd.DataFrame, dict, list[str]]:
    summary = wh.execute(rfm_from_warehouse(wh, as_of, freq="D", freq_multiplier=7))
    if len(summary) < MIN_BTYD_CUSTOMERS or summary["frequency"].sum() == 0:
        return pd.DataFrame(columns=RESULT_COLUMNS), {}, []
    name = settings.method.value
    model = _fit_with_fallback(ParetoNBDFitter if settings.method is Method.PARETO else BetaGeoFitter, summary)
    if model.is_degenerate:
        note = issues_note(f"the {_LABELS[name]} fit", model.fit_issues_,
                           "using the simple CLV for purchases (last year's purchases and spend, kept at the "
                           "yearly account churn rate)")
        values = simple_transaction_values(wh, as_of, settings, summary["account_id"])
        return values, {}, [note]
    notes = []
    repeat = summary[(summary.frequency > 0) & (summary.monetary_value > 0)]
    spend_model = None
    if len(repeat) >= MIN_BTYD_CUSTOMERS:
        try:
            spend_model = GammaGammaFitter().fit(repeat)
        except RetainError:
            spend_model = None
        if spend_model is not None and spend_model.is_degenerate:
            notes.append(issues_note("the Gamma-Gamma fit", spend_model.fit_issues_,
                                     "using each customer's mean spend"))
            spend_model = None
        if spend_model is not None and spend_model.params_["q"] <= 1:  # no finite mean: use observed spend
            spend_model = None
    out = customer_predictions(model, summary, spend_model=spend_model, horizon_months=settings.horizon_months,
                               discount_rate=settings.discount_rate, margin=settings.margin, unit_days=7.0)
    models = {name: model}
    if spend_model is not None:
        models["gamma_gamma"] = spend_model
    return out.assign(method=name)[RESULT_COLUMNS], models, notes


_LABELS = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD"}


def simple_transaction_values(wh: Warehouse, as_of: AsOf, settings: ClvSettings, customers: pd.Series) -> pd.DataFrame:
    """The simple CLV of one-off purchases only (subscriptions are valued apart) of ``customers`` who bought in
    the last 365 days: yearly purchases × mean spend × margin, kept at the yearly account churn rate."""
    inputs = wh.execute(yearly_inputs(wh, as_of).filter(lambda t: t.tx_count > 0))
    inputs = inputs[inputs["account_id"].astype(str).isin(customers.astype(str))]
    churn = float(wh.execute(yearly_churn_rate(wh, as_of)))
    years = settings.horizon_months / 12
    frequency = inputs["tx_count"].to_numpy(float)
    spend = inputs["tx_revenue"].to_numpy(float) / frequency
    return pd.DataFrame({
        "account_id": inputs["account_id"].to_numpy(),
        "clv": simple_clv(frequency, spend, churn, margin=settings.margin, discount_rate=settings.discount_rate,
                          horizon_years=years),
        "expected_purchases": frequency * simple_clv(1, 1, churn, horizon_years=years),
        "p_alive": 1 - churn, "expected_spend": spend, "method": "simple",
    })[RESULT_COLUMNS]


PENALTIES = (0.0, 0.001, 0.01, 0.1)


def _fit_with_fallback(model_cls, summary: pd.DataFrame):
    """Fit; on sparse data that does not converge, retry with growing penalties (lifetimes' advice)."""
    error: ConvergenceError | None = None
    for penalty in PENALTIES:
        try:
            return model_cls(penalizer_coef=penalty).fit(summary)
        except ConvergenceError as exc:
            error = exc
    raise error


# -- simple ------------------------------------------------------------------------------------------------


def simple_values(wh: Warehouse, as_of: AsOf, settings: ClvSettings) -> pd.DataFrame:
    inputs = wh.execute(yearly_inputs(wh, as_of).filter(lambda t: t.active))
    churn = float(wh.execute(yearly_churn_rate(wh, as_of)))
    years = settings.horizon_months / 12
    value = simple_clv(inputs["purchase_frequency"], inputs["average_spend"], churn, margin=settings.margin,
                       discount_rate=settings.discount_rate, horizon_years=years)
    return pd.DataFrame({
        "account_id": inputs["account_id"], "clv": value,
        "expected_purchases": inputs["purchase_frequency"].to_numpy() * simple_clv(1, 1, churn, horizon_years=years),
        "p_alive": 1 - churn, "expected_spend": inputs["average_spend"], "method": "simple",
    })


# -- together ----------------------------------------------------------------------------------------------


def account_clv(wh: Warehouse, as_of: AsOf, settings: ClvSettings | None = None) -> ClvResult:
    """CLV of every current account as of ``as_of`` (columns: :data:`RESULT_COLUMNS`)."""
    settings = settings or ClvSettings()
    if settings.method is Method.SIMPLE:
        return ClvResult(simple_values(wh, as_of, settings)[RESULT_COLUMNS])
    notes, models = [], {}
    try:
        subs, sub_models, sub_notes = subscription_values(wh, as_of, settings)
        models.update(sub_models)
        notes.extend(sub_notes)
    except ModelError as exc:
        subs = pd.DataFrame(columns=RESULT_COLUMNS)
        notes.append(f"subscriptions: {exc.message}")
    try:
        tx, tx_models, tx_notes = transaction_values(wh, as_of, settings)
        notes.extend(tx_notes)
    except ConvergenceError as exc:
        tx, tx_models = pd.DataFrame(columns=RESULT_COLUMNS), {}
        notes.append(f"transactions: {exc.message}")
    models.update(tx_models)
    penalised = [f"{k} (penalizer {m.penalizer_coef})" for k, m in tx_models.items() if m.penalizer_coef]
    if penalised:
        notes.append("sparse repeat purchases: fitted with a penalty " + ", ".join(penalised))
    if subs.empty and tx.empty:
        raise ModelError("nothing to value: no active subscriptions with churn history and no transactions",
                         hint="load subscriptions (with some cancellations) or transactions, or use --model simple")
    return ClvResult(_combine(subs, tx), models, notes)


def _combine(subs: pd.DataFrame, tx: pd.DataFrame) -> pd.DataFrame:
    """Sum the two parts for accounts that have both; P(alive) of the subscription wins when there is one."""
    if tx.empty:
        return subs[RESULT_COLUMNS].reset_index(drop=True)
    if subs.empty:
        return tx[RESULT_COLUMNS].reset_index(drop=True)
    tx = tx.assign(account_id=tx["account_id"].astype(str))
    subs = subs.assign(account_id=subs["account_id"].astype(str))
    both = subs.merge(tx, on="account_id", how="outer", suffixes=("_s", "_t"))
    has_s, has_t = both["method_s"].notna(), both["method_t"].notna()
    out = pd.DataFrame({"account_id": both["account_id"]})
    out["clv"] = both["clv_s"].fillna(0.0) + both["clv_t"].fillna(0.0)
    out["expected_purchases"] = both["expected_purchases_s"].fillna(0.0) + both["expected_purchases_t"].fillna(0.0)
    out["p_alive"] = both["p_alive_s"].where(has_s, both["p_alive_t"])
    out["expected_spend"] = both["expected_spend_t"].where(has_t, both["expected_spend_s"])
    method = np.where(has_s & has_t, both["method_s"].astype(str) + "+" + both["method_t"].astype(str),
                      both["method_s"].where(has_s, both["method_t"]))
    out["method"] = method
    return out[RESULT_COLUMNS]


def clv_by(wh: Warehouse, as_of: AsOf, values: pd.DataFrame, by: By | str) -> ir.Table:
    """CLV by acquisition channel, campaign or signup cohort (month of ``created_at``), as an Ibis expression."""
    by = By(by)
    day = as_of_date(as_of)
    accounts = wh.as_of("accounts", day)
    key = {
        By.CHANNEL: accounts.acquisition_channel.fill_null("unknown"),
        By.CAMPAIGN: accounts.campaign.fill_null("none"),
        By.COHORT: accounts.created_at.strftime("%Y-%m"),
    }[by]
    dims = accounts.select(account_id=accounts.account_id.cast("string"), group=key)
    vals = ibis.memtable(values[["account_id", "clv", "p_alive"]].astype({"account_id": str}))
    joined = vals.inner_join(dims, "account_id")
    out = joined.group_by("group").aggregate(
        accounts=joined.count(), total_clv=joined.clv.sum(), mean_clv=joined.clv.mean(),
        median_clv=joined.clv.median(), mean_p_alive=joined.p_alive.mean(),
    )
    return out.rename({by.value: "group"}).order_by(ibis.desc("total_clv"))


def with_accounts(wh: Warehouse, as_of: AsOf, values: pd.DataFrame) -> ir.Table:
    """Per-account values with the account's name and segment, highest CLV first (an Ibis expression)."""
    accounts = wh.as_of("accounts", as_of)
    names = accounts.select(account_id=accounts.account_id.cast("string"), name=accounts.name,
                            segment=accounts.segment)
    vals = ibis.memtable(values.astype({"account_id": str}))
    joined = vals.left_join(names, "account_id").drop("account_id_right")
    return joined.select("account_id", "name", "segment", *RESULT_COLUMNS[1:]).order_by(ibis.desc("clv"))


def at_risk(values: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """Accounts whose P(alive) (or renewal probability) is below ``threshold``, most value at stake first."""
    risky = values[values["p_alive"] < threshold]
    return risky.sort_values("clv", ascending=False)


def value_at_risk(values: pd.DataFrame, churn: pd.DataFrame | None = None) -> pd.DataFrame:
    """Expected value lost per live account: CLV x P(churn), highest first.

    ``churn`` (account_id, churn_probability) comes from the propensity model when it has run; without it,
    1 - P(alive) stands in. For contract customers P(alive) is a segment-level renewal rate, so the model's
    per-account probability is the one worth using.
    """
    live = values[values["clv"] > 0].copy()
    if churn is not None and not churn.empty:
        probs = churn.set_index(churn["account_id"].astype(str))["churn_probability"]
        live["p_churn"] = live["account_id"].astype(str).map(probs)
        live["p_churn_source"] = np.where(live["p_churn"].notna(), "propensity", "1 - p_alive")
        live["p_churn"] = live["p_churn"].fillna(1 - live["p_alive"])
    else:
        live["p_churn"], live["p_churn_source"] = 1 - live["p_alive"], "1 - p_alive"
    live["value_at_risk"] = live["clv"] * live["p_churn"]
    return live.sort_values("value_at_risk", ascending=False).reset_index(drop=True)
