"""Response and request bodies of the API (``*Public`` out, ``*Request`` in). No secret ever leaves here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from retain.models.labels import CHURN_DAYS
from retain.schema import TABLES
from retain.state.insight import disagreement, insight_of
from retain.state.queries import PRINTABLE

CHURN_WINDOW_TEXT = f"Probability (0-1) that the account churns within {CHURN_DAYS} days of `as_of`."


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AccountPublic(Out):
    account_id: str
    name: str
    owner_id: str | None = None
    owner_name: str | None = None
    csm_id: str | None = None
    segment: str | None = None
    region: str | None = None
    status: str
    arr: float
    currency: str | None = None
    health_total: float | None = None
    health_grade: str | None = None
    health_change: float | None = None
    score_note: str | None = Field(None, description="Why the health total is not the weighted score: a cap "
                                   "(`capped at 40: ...`) or a default (`default: no data`); null otherwise.")
    churn_probability: float | None = Field(None, description=CHURN_WINDOW_TEXT)
    clv: float | None = None
    renewal_on: dt.date | None = None
    adoption_tier: str | None = None
    products_held: int
    open_tickets: int
    as_of: dt.date


class ReasonPublic(BaseModel):
    """A reason in plain words and whether it raises or lowers the churn risk."""

    phrase: str
    direction: Literal["raises", "lowers"]


class ComponentChange(BaseModel):
    """How much one component moved the total since the previous score (as ``retain explain`` shows)."""

    component: str
    score_before: float | None = None
    score_after: float | None = None
    change: float = Field(description="Points of the health total this component moved.")
    score_effect: float | None = None
    weight_effect: float | None = None


class WhyChanged(BaseModel):
    since: str | None = Field(None, description="Date of the previous stored score (YYYY-MM-DD).")
    changes: list[ComponentChange] = []


class Improvement(BaseModel):
    """One component alone reaching its peers' 75th percentile, and the total it would give."""

    component: str
    score: float | None = None
    target: float | None = None
    weight_pct: float | None = None
    total_now: float | None = None
    total_if: float | None = None
    uncapped_if: float | None = None
    gain: float | None = None


class Disagreement(BaseModel):
    """Health and the churn model read the account very differently; each side's top reasons."""

    health: str
    model: str
    health_reasons: list[str]
    model_reasons: list[ReasonPublic | str]


class HealthScorecardPublic(BaseModel):
    """Which scorecard the health total comes from (as the last `retain run` chose it) and what the total means."""

    scorecard: str = Field(description="Scorecard name: `fitted-<digest>` when fitted to this company's outcomes.")
    digest: str = Field(description="Short hash of the scorecard set: equal digests, the same scorecard.")
    fitted: bool = Field(description="False: the shipped default scorecard is used (see `warning`).")
    reason: str = Field(description="Why this scorecard: the fit's out-of-sample figures, or what a fit lacks.")
    warning: str | None = Field(None, description="Set when the shipped default is used: show it beside the score.")
    horizon_days: int | None = Field(None, description="Horizon of `churn_probability` (null: uncalibrated).")
    churn_probability: float | None = Field(None, description="Calibrated probability (0-1) of churn within "
                                            "`horizon_days` of this health total (null for the shipped default).")


class AccountDetailPublic(AccountPublic):
    industry: str | None = None
    acquisition_channel: str | None = None
    churn_window_days: int = Field(CHURN_DAYS, description="The window of `churn_probability`, in days.")
    reasons: list[ReasonPublic | str] | None = Field(
        None, description="Critical factor, then the churn model's reasons: {phrase, direction} or plain text.")
    components: list[dict[str, Any]] | None = None
    why_changed: WhyChanged = Field(WhyChanged(), description="Per component, the points of the total it moved "
                                    "since the previous score, biggest first (as the web page and `retain explain`).")
    what_to_improve: list[Improvement] = Field([], description="The top three components below their peers' 75th "
                                               "percentile, best gain first (as the web page and `retain explain`).")
    signals_disagree: Disagreement | None = Field(None, description="Set when health and the churn model disagree "
                                                  "by much (red health with low churn, or green with high).")
    health_scorecard: HealthScorecardPublic | None = Field(None, description="The scorecard behind "
                                                           "`health_total`, its warning and calibrated churn chance.")
    subscriptions: list[dict[str, Any]] = []
    open_ticket_list: list[dict[str, Any]] = []
    surveys: list[dict[str, Any]] = []
    timeline: list[dict[str, Any]] = []


DETAIL_LISTS = {"subscriptions": "subscriptions", "open_ticket_list": "open_tickets", "surveys": "surveys",
                "timeline": "timeline"}


def account_detail_body(record: dict[str, Any]) -> dict[str, Any]:
    """An :class:`AccountDetailPublic` body from a :class:`retain.state.records.AccountRecords` record, without
    re-validating what was validated when it was published (the hot path of the API; a test keeps the two equal).
    Why it changed, what to improve and a disagreement come from the same functions as the web page's."""
    detail = record.get("detail") or {}
    insight = insight_of(detail)
    disagree = disagreement(record, CHURN_DAYS)
    derived = {"churn_window_days": CHURN_DAYS, "why_changed": {"since": insight.since, "changes": insight.changes},
               "what_to_improve": insight.improve, "signals_disagree": None if disagree is None else vars(disagree),
               "health_scorecard": detail.get("health_scorecard")}
    derived |= {name: detail.get(key) or [] for name, key in DETAIL_LISTS.items()}
    return {name: derived[name] if name in derived else record.get(name) for name in AccountDetailPublic.model_fields}


class AccountPage(BaseModel):
    items: list[AccountPublic]
    total: int
    page: int
    per_page: int
    pages: int


class ScorePublic(Out):
    account_id: str
    health_total: float | None = None
    health_grade: str | None = None
    score_note: str | None = None
    churn_probability: float | None = Field(None, description=CHURN_WINDOW_TEXT)
    clv: float | None = None
    as_of: dt.date


class ScorePage(BaseModel):
    items: list[ScorePublic]
    total: int
    page: int
    per_page: int
    pages: int


class ComponentPublic(BaseModel):
    component: str
    score: float | None = None
    weight: float | None = None
    extra: dict[str, Any] = {}


class HistoryPoint(Out):
    as_of: dt.date
    health_total: float | None = None
    health_grade: str | None = None
    churn_probability: float | None = Field(None, description=CHURN_WINDOW_TEXT)


class MetricList(BaseModel):
    names: list[str]


class MetricPublic(BaseModel):
    name: str
    as_of: dt.date
    total: int = Field(description="Rows of the result the key may read (all pages).")
    offset: int = 0
    records: list[dict[str, Any]]


class MePublic(BaseModel):
    username: str
    role: str
    member_id: str | None
    key_scope: str


# a column name: not empty, no control characters (two such names can collide in the staging frame); an integer fits
# in 64 bits (the warehouse's BIGINT), a larger one is read as a number
Column = Annotated[str, Field(min_length=1, max_length=128, pattern=PRINTABLE)]
Value = str | Annotated[int, Field(ge=-(2**63), le=2**63 - 1)] | float | bool | None


def _column_pattern_in_property_names(schema: dict[str, Any]) -> None:
    """Pydantic writes the name pattern as ``patternProperties``, which lets other names through: move it."""
    [(pattern, value)] = schema.pop("patternProperties").items()
    schema["propertyNames"]["pattern"] = pattern
    schema["additionalProperties"] = value


Row = Annotated[dict[Column, Value], Field(json_schema_extra=_column_pattern_in_property_names)]


class IngestRequest(BaseModel):
    """Rows per canonical table, e.g. ``{"tables": {"product_events": [{...}, ...]}}``; all or nothing."""

    model_config = ConfigDict(extra="forbid")

    # keys: the canonical table names, declared here and checked (with the same list) by :mod:`retain.api.ingestion`
    tables: Annotated[dict[Annotated[str, Field(max_length=64)], Annotated[list[Row], Field(max_length=10_000)]],
                      Field(min_length=1, max_length=len(TABLES),
                            json_schema_extra={"propertyNames": {"enum": list(TABLES)}})]


class LoadPublic(BaseModel):
    table: str
    read: int
    loaded: int
    inserted: int
    updated: int


class IngestPublic(BaseModel):
    load_id: str
    committed: bool
    read: int
    loaded: int
    results: list[LoadPublic]
