"""``retain health fit``: a scorecard for *this* company, learned from its own outcomes.

1. **Rows.** Customers at several past dates (monthly, up to a year; a labels file's own dates; or one snapshot)
   with their churn outcome within the horizon (:func:`retain.health.outcomes.churn_observations`) and every
   measure the data supports (:func:`candidate_measures`: usage with or without user ids, per-event-type volumes,
   licences of seat-based products, tenure, MRR trend, products, billing period and contract, tickets and their
   satisfaction, surveys, invoices, meetings, numeric ``attributes`` keys), computed as of each date.
2. **Points per measure** (:func:`retain.health.fit_bins.monotone_bins`): churn rate per quantile bin made monotone
   (isotonic) in the measure's direction (declared for usage, surveys and billing, so more usage never lowers
   health; learned from the data otherwise); 0 points for the bin that churns most, 100 for the one that churns least.
3. **Weights**: a ridge logistic regression of churn on the points with non-negative weights; a measure's weight is
   its share of the total, a component's weight the sum of its measures'.
4. **Calibration and grades**: health total -> churn probability within the horizon (isotonic, stored in the YAML);
   red where that probability is at least twice the average, green where it is below the average.
5. **Validation**: the same recipe fitted on earlier dates and measured on later ones (a gap of one horizon), or on
   held-out accounts (grouped 5-fold) when there is one date, beside a plain regularised logistic regression on the
   same rows; AUCs with bootstrap intervals over accounts.

:func:`choose_scorecard` is what the main job calls: the fitted scorecard when there are at least
:data:`MIN_CHURNED` churned accounts, else the shipped default with :data:`DEFAULT_WARNING`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
import yaml
from threadpoolctl import threadpool_limits

from retain.errors import ModelError
from retain.health import fit_bins as fb
from retain.health import fit_cache
from retain.health import fit_categories as fc
from retain.health.fit_eval import Validation, validate_recipe
from retain.health.fit_rows import measure_frame
from retain.health.history import default_scorecards
from retain.health.measures import ACCOUNT_FIELDS, MEASURES, Context, MeasureKind, measure_key
from retain.health.outcomes import Observations, churn_observations
from retain.health.scoring import score_card
from retain.health.spec import (
    BandsRule,
    CalibrationPoint,
    CalibrationSpec,
    CategoriesRule,
    ComponentSpec,
    FitSpec,
    GradesSpec,
    MeasureSpec,
    ScorecardSetSpec,
    ScorecardSpec,
)
from retain.warehouse import AsOf, Warehouse, as_of_date

MIN_CHURNED = 20
DEFAULT_WARNING = ("health uses the shipped default scorecard: your data has {n} churned accounts; fit needs "
                   f"{MIN_CHURNED} → load more outcome history (subscription ends, churn_events, accounts.churned_at "
                   "or outcome_labels), then `retain health fit`")
MAX_EVENT_TYPES = 6
MAX_ATTRIBUTES = 10
MAX_PRODUCTS = 10
MIN_WEIGHT_PCT = 1.0
MIN_APPLICABLE = 0.5  # a measure with a value for fewer observations than this is not considered
MAX_MODE_SHARE = 0.995  # a measure whose most common value covers more than this is near-constant
MAX_ROWS = 60_000  # observations learned from; beyond, accounts are sampled (all their dates kept)
PRUNE_ROWS = 20_000  # observations of the check that drops measures adding nothing out of fold
# Attribute keys naming an outcome (an export's churn flag or current status) would leak the label.
OUTCOME_KEY = re.compile(r"churn|exit|attrition|cancel|status|outcome|label|target|closed|lost|left", re.I)

COMPONENT_OF = {
    "usage": ("active_users", "license_utilization", "usage_trend", "feature_breadth", "events", "active_days",
              "events_trend", "days_since_active"),
    "support": ("open_high_priority_tickets", "tickets", "tickets_per_user", "escalations", "ticket_satisfaction"),
    "surveys": ("last_nps", "last_csat", "avg_survey"),
    "billing": ("overdue_amount", "days_overdue", "billing_period_months", "billing_period", "discount_share"),
    "contract": ("days_to_renewal", "contract_months", "mrr_trend", "arr", "licences", "tenure_days", "employees"),
    "products": ("products_held", "holds_product"),
    "relationship": ("days_since_meeting", "meetings", "champion_left"),
    "attributes": ("attribute", "category", "account_field"),
}
COMPONENT = {m: comp for comp, names in COMPONENT_OF.items() for m in names}
LABELS = {"usage": "Usage and adoption", "support": "Support", "surveys": "Surveys", "billing": "Billing",
          "contract": "Contract and revenue", "products": "Products held", "relationship": "Relationship",
          "attributes": "Your attributes"}
# avg_survey repeats last_nps; billing_period (text, per value) replaces billing_period_months; the events
# measure takes parameters below
SKIP = ("avg_survey", "billing_period_months", "events")


# -- rows -------------------------------------------------------------------------------------------------


def event_types(wh: Warehouse, day: dt.date, n: int = MAX_EVENT_TYPES) -> list[str]:
    """The ``n`` busiest event types (usage features other than ``all``) of the last 90 days."""
    u = wh.as_of("usage", day)
    u = u.filter((u.feature != "all") & (u.usage_on > ibis.literal(day - dt.timedelta(days=90), type="date")))
    top = u.group_by("feature").agg(n=u.events.sum()).filter(ibis._.n > 0).order_by(ibis.desc("n")).limit(n)
    return sorted(wh.execute(top)["feature"].astype(str))


def top_products(wh: Warehouse, day: dt.date, n: int = MAX_PRODUCTS) -> list[str]:
    """The ``n`` products held (running subscriptions) by the most accounts at ``day``."""
    s = Context(wh, day).running_subscriptions()
    top = s.group_by("product_id").agg(n=s.account_id.nunique()).order_by([ibis.desc("n"), "product_id"]).limit(n)
    return [str(p) for p in wh.execute(top)["product_id"]]


def account_fields(wh: Warehouse, day: dt.date) -> list[str]:
    """The account columns (segment, industry, region, country) holding at least two values at ``day``."""
    a = wh.as_of("accounts", day)
    counts = wh.execute(a.aggregate(**{c: a[c].nunique() for c in ACCOUNT_FIELDS}))
    return [c for c in ACCOUNT_FIELDS if int(counts[c].iloc[0] or 0) > 1]


def attribute_keys(wh: Warehouse, day: dt.date, sample: int = 2000) -> tuple[list[str], list[str]]:
    """Keys of ``accounts.attributes`` present in at least 10 % of a sample of rows: ``(numeric, text)``, numeric
    when at least 80 % of the values are numbers, text when the values are few (at most
    :data:`~retain.health.fit_categories.MAX_DISTINCT` distinct); keys naming an outcome are left out."""
    a = wh.as_of("accounts", day)
    texts = wh.execute(a.filter(a.attributes.notnull()).select("attributes").limit(sample))["attributes"]
    seen: dict[str, list] = defaultdict(lambda: [0, 0, set()])
    for text in texts:  # a bounded sample, to discover keys; the values themselves are read in the engine
        try:
            doc = json.loads(text)
        except (TypeError, ValueError):
            continue
        for key, value in (doc.items() if isinstance(doc, dict) else ()):
            if value is None or isinstance(value, dict | list):
                continue
            seen[key][0] += 1
            seen[key][1] += _numeric(value)
            seen[key][2].add(str(value))
    rows = max(len(texts), 1)
    keys = sorted(k for k, (present, _, _) in seen.items() if present >= 0.1 * rows and not OUTCOME_KEY.search(k))
    numeric = [k for k in keys if seen[k][1] >= 0.8 * seen[k][0]]
    text = [k for k in keys if k not in numeric and 1 < len(seen[k][2]) <= fc.MAX_DISTINCT]
    return numeric[:MAX_ATTRIBUTES], text[:MAX_ATTRIBUTES]


def _numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def candidate_measures(wh: Warehouse, day: dt.date) -> list[tuple[str, dict]]:
    """Every built-in measure with its defaults, events in 30 and 90 days, events per busy event type, holding
    each of the top products (when there are several), attribute keys (numbers and categories) and account
    columns; measures the data does not support come out null and are dropped by the fit."""
    refs = [(name, {}) for name, m in MEASURES.items() if name not in SKIP and not m.required]
    refs += [("events", {}), ("events", {"window_days": 90})]
    types = event_types(wh, day)
    if len(types) > 1:
        refs += [("events", {"values": (t,)}) for t in types]
    products = top_products(wh, day)
    if len(products) > 1:
        refs += [("holds_product", {"values": (p,)}) for p in products]
    numeric, text = attribute_keys(wh, day)
    refs += [("attribute", {"attribute": k}) for k in numeric]
    refs += [("category", {"attribute": k}) for k in text]
    refs += [("account_field", {"values": (c,)}) for c in account_fields(wh, day)]
    return refs


def sample_accounts(obs: pd.DataFrame, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """``obs`` itself, or all the dates of a fixed share of its accounts (chosen by a hash of the id) so that about
    ``max_rows`` rows remain."""
    if len(obs) <= max_rows:
        return obs
    share = max_rows / len(obs)
    ids = pd.Series(obs["account_id"].unique())
    h = pd.util.hash_pandas_object(ids, index=False).to_numpy() % 10_000
    keep = set(ids[h < share * 10_000])
    return obs[obs["account_id"].isin(keep)].reset_index(drop=True)


def measure_rows(wh: Warehouse, obs: Observations, refs: list[tuple[str, dict]],
                 max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Measure values of the observed customers at every observation date (one engine query), with ``churned``;
    at most about ``max_rows`` rows (:func:`sample_accounts`)."""
    values = measure_frame(wh, list(obs.dates), refs)
    rows = values.merge(sample_accounts(obs.frame, max_rows), on=["account_id", "as_of"], how="inner")
    return rows.sort_values(["as_of", "account_id"], ignore_index=True)


# -- learning ---------------------------------------------------------------------------------------------

Scorer = fb.Binned | fc.Categorised


@dataclass(frozen=True)
class Learned:
    """What one fit learned: bins (or category points) and weights per measure key, and the scorecard they make."""

    card: ScorecardSpec
    bins: dict[str, Scorer]
    weights: dict[str, float]


def _label(name: str, params: dict, scorer: Scorer) -> str:
    text = MEASURES[name].description.split(";")[0].split(" (")[0].split(":")[0].rstrip(".")
    merged = {**MEASURES[name].defaults, **params}
    extra = [f"{merged['window_days']} d"] if merged.get("window_days") else []
    extra += [f"{merged['baseline_days']} d baseline"] if merged.get("baseline_days") else []
    extra += ["+".join(params["values"])] if params.get("values") else []
    extra += [params["attribute"]] if params.get("attribute") else []
    if isinstance(scorer, fc.Categorised):
        way = "points per value"
    else:
        way = "more is better" if scorer.direction.value == "higher_is_better" else "less is better"
    shown = f" ({', '.join(extra)})" if extra else ""
    return f"{text}{shown}; {way}"


def measure_name(name: str, params: dict) -> str:
    """A readable measure name for the YAML: ``events``, ``events_90d``, ``events_login``, ``team_size``,
    ``contract``, ``holds_tech_support``, ``country``."""
    if params.get("attribute"):
        return str(params["attribute"])
    if name == "holds_product":
        return "holds_" + "_".join(params.get("values") or ())
    if name == "account_field":
        return "_".join(params.get("values") or ())
    parts = [name]
    parts += [f"{params['window_days']}d"] if "window_days" in params else []
    parts += list(params.get("values") or ())
    return "_".join(parts)


def _applicable(values: pd.Series) -> bool:
    """Whether a measure has a value for most observations and is not near-constant."""
    present = values.notna()
    if present.mean() < MIN_APPLICABLE:
        return False
    counts = values[present].value_counts(normalize=True)
    return len(counts) > 1 and float(counts.iloc[0]) <= MAX_MODE_SHARE


def scorer_for(values: pd.Series, y: np.ndarray, name: str) -> Scorer | None:
    """The learned scoring of one measure's values: points per category for a text measure, monotone bands for a
    number; ``None`` when it is not applicable to most observations, near-constant, or separates nothing."""
    if not _applicable(values):
        return None
    if MEASURES[name].kind is MeasureKind.CATEGORY:
        return fc.category_points(values.astype("string"), y)
    x = values.to_numpy(dtype="float64", na_value=np.nan)
    return fb.monotone_bins(x, y, MEASURES[name].direction)


def _distinct(points: dict[str, np.ndarray], by_key: dict[str, tuple[str, dict]]) -> list[str]:
    """The keys whose points differ from every other key's: of measures that score every row alike (products held
    and holding the one optional product), the weights between them are arbitrary, so one is kept by rule -- the
    more specific (with parameters: a named product says what to do), then the first."""
    kept: list[str] = []
    for key in sorted(points, key=lambda k: (not by_key[k][1], list(points).index(k))):
        if not any(np.array_equal(points[key], points[other], equal_nan=True) for other in kept):
            kept.append(key)
    return [k for k in points if k in kept]


def learn(rows: pd.DataFrame, refs: list[tuple[str, dict]], horizon_days: int, name: str = "fitted") -> Learned:
    """Fit points, weights, calibration and grades on ``rows`` (measure values + ``churned``)."""
    y = rows["churned"].to_numpy(dtype="float64")
    by_key = {measure_key(n, p): (n, p) for n, p in refs}
    scorers: dict[str, Scorer] = {}
    for key, (mname, _) in by_key.items():
        if key in rows:
            found = scorer_for(rows[key], y, mname)
            if found is not None:
                scorers[key] = found
    if not scorers:
        raise ModelError("no measure separates churned from retained accounts in this data",
                         hint="load usage, support or billing data, or keep the shipped default scorecard")
    points = {k: scorers[k].score(rows[k].to_numpy()) for k in scorers}
    keys = _distinct(points, by_key)
    pts = np.column_stack([points[k] for k in keys])
    w, _ = fb.nonnegative_logistic(pts, y)
    share = 100.0 * w / w.sum() if w.sum() > 0 else np.full(len(w), 100.0 / len(w))
    kept = [i for i, s in enumerate(share) if s >= MIN_WEIGHT_PCT]
    kept = fb.prune(pts, y, rows["account_id"].to_numpy(), kept, max_rows=PRUNE_ROWS)
    if not kept:
        raise ModelError("the fit gave every measure a zero weight", hint="keep the shipped default scorecard")
    w, _ = fb.nonnegative_logistic(pts[:, kept], y)
    if w.sum() <= 0:
        raise ModelError("the fit gave every measure a zero weight", hint="keep the shipped default scorecard")
    weights = {keys[i]: round(100.0 * float(wi) / float(w.sum()), 1) for i, wi in zip(kept, w, strict=True)
               if 100.0 * wi / w.sum() >= MIN_WEIGHT_PCT / 2}
    card = _card(name, {k: (by_key[k], scorers[k], weights[k]) for k in weights}, GradesSpec(), None)
    totals = score_card(rows.reset_index(drop=True), card).scores["total"].to_numpy(dtype="float64")
    points = fb.calibration_points(totals, y)
    red, green = fb.grade_thresholds(points, float(y.mean()))
    calibration = CalibrationSpec(horizon_days=horizon_days, points=tuple(
        CalibrationPoint(total=t, probability=p) for t, p in points))
    card = card.model_copy(update={"grades": GradesSpec(red_below=red, green_from=green),
                                   "calibration": calibration})
    return Learned(card, {k: scorers[k] for k in weights}, weights)


def _rule(scorer: Scorer) -> BandsRule | CategoriesRule:
    return scorer.rule() if isinstance(scorer, fc.Categorised) else BandsRule(bands=scorer.bands())


def _card(name: str, parts: dict[str, tuple[tuple[str, dict], Scorer, float]], grades: GradesSpec,
          calibration: CalibrationSpec | None) -> ScorecardSpec:
    comps: dict[str, list[MeasureSpec]] = defaultdict(list)
    for (mname, params), scorer, weight in parts.values():
        comps[COMPONENT[mname]].append(MeasureSpec(
            name=measure_name(mname, params), label=_label(mname, params, scorer), measure=mname, weight=weight,
            scoring=_rule(scorer), missing=scorer.missing, **params))
    components = tuple(ComponentSpec(name=c, label=LABELS[c], weight=round(sum(m.weight for m in ms), 1),
                                     measures=tuple(ms)) for c, ms in sorted(comps.items(), key=lambda kv: kv[0]))
    return ScorecardSpec(name=name, description="Fitted to this company's outcomes by `retain health fit`.",
                         grades=grades, components=components, calibration=calibration)


def recipe(horizon_days: int, refs: list[tuple[str, dict]]):
    """The whole fit as ``train rows -> (test rows -> totals)``, for validation."""

    def fit(train: pd.DataFrame):
        card = learn(train, refs, horizon_days).card
        return lambda test: score_card(test.reset_index(drop=True), card).scores["total"].to_numpy(dtype="float64")

    return fit


# -- the fitted scorecard ---------------------------------------------------------------------------------


@dataclass
class FittedScorecard:
    """A scorecard learned from outcomes: ``spec`` (a set holding the one scorecard), its figures and YAML."""

    card: ScorecardSpec
    validation: Validation
    observations: Observations
    rows: int
    measures_considered: list[str] = field(default_factory=list)

    @property
    def rows_churn_rate(self) -> float:
        """The share of observations that churned within the horizon (the average the grades refer to)."""
        return float(self.card.fit.churn_rate) if self.card.fit else float("nan")

    @property
    def spec(self) -> ScorecardSetSpec:
        return ScorecardSetSpec(scorecards=(self.card,))

    def to_yaml(self) -> str:
        """The scorecard as a YAML file people can read, edit and ``retain validate``."""
        doc = _ordered(self.card.model_dump(mode="json", exclude_none=True))
        if not doc.get("critical"):
            doc.pop("critical", None)
        v = self.validation
        head = [
            "# Health scorecard fitted by `retain health fit` to this company's outcomes.",
            f"# As of {self.card.fit.as_of if self.card.fit else ''}: {self.rows:,} observations of customers at "
            f"{len(self.observations.dates)} date(s); churn within {self.observations.horizon_days} days.",
            "# Points per band: 0 for the band whose accounts churned most, 100 for the one that churned least",
            "# (monotone); weights from a non-negative logistic regression on the points, shown as % of the total.",
            f"# Out-of-sample ({v.design}):",
            f"#   AUC {v.auc:.3f} [{v.auc_ci[0]:.3f}, {v.auc_ci[1]:.3f}] vs plain logistic regression "
            f"{v.auc_logistic:.3f} [{v.auc_logistic_ci[0]:.3f}, {v.auc_logistic_ci[1]:.3f}] on the same rows.",
            "# missing: the points of an account without a value (learned); without it, missing = not applicable.",
            "# calibration: health total -> probability of churn within the horizon (linear between points).",
            "# Edit freely; check with `retain validate FILE`; score with `retain score --scorecard FILE`.",
        ]
        body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, allow_unicode=True, width=118)
        return "\n".join(head) + "\n" + body


FIRST_KEYS = ("version", "name", "label", "description", "measure", "attribute", "window_days", "baseline_days",
              "values", "weight", "missing", "grades", "scoring")


def _ordered(obj):
    """Dicts with their most telling keys first (name, label, measure...), recursively."""
    if isinstance(obj, dict):
        keys = [k for k in FIRST_KEYS if k in obj] + [k for k in obj if k not in FIRST_KEYS]
        return {k: _ordered(obj[k]) for k in keys}
    if isinstance(obj, list):
        return [_ordered(v) for v in obj]
    return obj


def fit_scorecard(wh: Warehouse, as_of: AsOf, horizon_days: int | None = None, *,
                  min_churned: int = MIN_CHURNED, name: str = "fitted", max_dates: int = 12,
                  observations: Observations | None = None) -> FittedScorecard:
    """Learn a scorecard from the company's outcomes as of ``as_of`` (module docs); a :class:`ModelError` saying
    what is missing when there are fewer than ``min_churned`` churned accounts. ``observations``: the
    :func:`churn_observations` of these arguments when the caller has them already."""
    day = as_of_date(as_of)
    obs = observations or churn_observations(wh, day, horizon_days, max_dates)
    n = obs.churned_accounts
    if n < min_churned:
        raise ModelError(f"{n} churned account(s) in the outcomes as of {day}; a fitted scorecard needs "
                         f"{min_churned}", hint="load more outcome history (subscription ends, churn_events, "
                         "accounts.churned_at or outcome_labels) or keep the shipped default scorecard")
    refs = candidate_measures(wh, day)
    rows = measure_rows(wh, obs, refs)
    if rows["churned"].nunique() < 2:
        raise ModelError("the observed customers all had the same outcome", hint="load more outcome history")
    numbers, texts = _baseline_keys(rows, refs)
    # hundreds of small solver runs: a threaded BLAS only waits for its threads (16x slower on a busy 2-core box)
    with threadpool_limits(limits=1, user_api="blas"):
        validation = validate_recipe(rows, recipe(obs.horizon_days, refs), obs.horizon_days, numbers,
                                     text_keys=texts)
        learned = learn(rows, refs, obs.horizon_days, name)
    info = FitSpec(
        as_of=day.isoformat(), horizon_days=obs.horizon_days, outcome_source=", ".join(obs.source) or "none",
        observation_dates=len(obs.dates), observations=len(rows), churned_accounts=n,
        churn_rate=round(float(rows["churned"].mean()), 4), validation=validation.design,
        auc=_r(validation.auc), auc_interval=_ri(validation.auc_ci), auc_logistic=_r(validation.auc_logistic),
        auc_logistic_interval=_ri(validation.auc_logistic_ci))
    card = learned.card.model_copy(update={"fit": info})
    return FittedScorecard(card, validation, obs, len(rows), [measure_key(n, p) for n, p in refs])


def _r(x: float) -> float | None:
    return None if x != x else round(float(x), 4)


def _ri(pair: tuple[float, float]) -> tuple[float, float] | None:
    return None if pair[0] != pair[0] else (round(float(pair[0]), 4), round(float(pair[1]), 4))


def _baseline_keys(rows: pd.DataFrame, refs: list[tuple[str, dict]]) -> tuple[list[str], list[str]]:
    """The measure columns with any value: ``(numbers, texts)`` (the logistic baseline one-hot encodes texts)."""
    kinds = {measure_key(n, p): MEASURES[n].kind for n, p in refs}
    keys = [k for k in kinds if k in rows and rows[k].notna().any()]
    return ([k for k in keys if kinds[k] is MeasureKind.NUMBER], [k for k in keys if kinds[k] is MeasureKind.CATEGORY])


def choose_scorecard(wh: Warehouse, as_of: AsOf, horizon_days: int | None = None,
                     max_dates: int = 12, *, use_cache: bool = True) -> tuple[ScorecardSetSpec, str]:
    """The scorecard the main job should use, and why: fitted to the outcomes when there are at least
    :data:`MIN_CHURNED` churned accounts, else the shipped default with :data:`DEFAULT_WARNING` (a warning every
    face should show). The outcome is remembered in the warehouse (:mod:`retain.health.fit_cache`) per day, options
    and data fingerprint, so later calls on the same data return it at once."""
    day = as_of_date(as_of)
    options = json.dumps({"horizon_days": horizon_days, "max_dates": max_dates})
    stamp = fit_cache.fingerprint(wh) if use_cache else ""
    hit = fit_cache.recall(wh, day, options, stamp) if use_cache else None
    if hit is not None:
        text, reason = hit
        spec = ScorecardSetSpec.model_validate_json(text) if text else default_scorecards()
        return spec, reason
    spec, reason = _choose(wh, day, horizon_days, max_dates)
    if use_cache:
        fitted = spec.scorecards[0].calibration is not None
        fit_cache.remember(wh, day, options, stamp, spec.model_dump_json() if fitted else "", reason)
    return spec, reason


def _choose(wh: Warehouse, day: dt.date, horizon_days: int | None, max_dates: int) -> tuple[ScorecardSetSpec, str]:
    try:
        obs = churn_observations(wh, day, horizon_days, max_dates)
    except ModelError as exc:
        return default_scorecards(), DEFAULT_WARNING.format(n=0) + f" ({exc.message})"
    if obs.churned_accounts < MIN_CHURNED:
        return default_scorecards(), DEFAULT_WARNING.format(n=obs.churned_accounts)
    try:
        fitted = fit_scorecard(wh, day, obs.horizon_days, max_dates=max_dates, observations=obs)
    except ModelError as exc:
        return default_scorecards(), (f"health uses the shipped default scorecard: the fit failed ({exc.message}) "
                                      f"→ {exc.hint or 'check the outcome data'}")
    v = fitted.validation
    return fitted.spec, (f"health uses a scorecard fitted to your outcomes ({obs.churned_accounts} churned accounts,"
                         f" {obs.horizon_days}-day horizon; out-of-sample AUC {v.auc:.2f}, plain logistic "
                         f"regression {v.auc_logistic:.2f})")
