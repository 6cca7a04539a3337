"""What the data doctor found: per-table facts, outcome counts, per-analytic verdicts and suspicious-data flags.

Plain frozen dataclasses filled by :func:`retain.doctor.examine`; :meth:`DoctorReport.to_dict` is the JSON the CLI
writes with ``--out``, :meth:`DoctorReport.to_rows` one flat row per finding (what a dashboard or a stored result
shows). Messages never name an account: the few examples a flag carries are in ``examples`` only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Analytic(StrEnum):
    """The analytics the doctor gives a verdict on, in the order they are shown."""

    RETENTION = "retention"
    SURVIVAL = "survival"
    HEALTH = "health"
    CHURN_MODEL = "churn model"
    UPSELL_MODEL = "upsell model"
    CLV = "CLV"
    CALLS = "calls"


class Support(StrEnum):
    """Whether the data supports an analytic."""

    SUPPORTED = "supported"
    LIMITED = "limited"  # runs, but a part of it means little with this data (said in the verdict)
    SKIPPED = "skipped"  # the outcome never happens in this data (no expansion in a single-plan product)
    UNSUPPORTED = "unsupported"


class FlagKind(StrEnum):
    """Kinds of suspicious data."""

    QUANTITY_OUTLIER = "quantity_outlier"
    SINGLE_VALUE = "single_value"
    ARR_IMPLAUSIBLE = "arr_implausible"
    SURVEY_OFF_SCALE = "survey_off_scale"
    ALL_QUARANTINED = "all_quarantined"
    HEALTH_COMPONENT = "health_component"
    CHURN_CONTRADICTION = "churn_contradiction"


@dataclass(frozen=True)
class ColumnFacts:
    """One column of a table: how many rows have a value, and its smallest and largest value (as text)."""

    name: str
    non_null: int
    share: float
    min: str | None = None
    max: str | None = None

    @property
    def single_value(self) -> bool:
        return self.non_null > 0 and self.min == self.max


@dataclass(frozen=True)
class TableFacts:
    """One canonical table as of the day: rows, accounts present, date range and column coverage."""

    table: str
    rows: int
    accounts: int | None = None  # distinct accounts in the table (None: the table has no account column)
    account_share: float | None = None  # accounts / all accounts known as of the day
    date_column: str | None = None
    first_on: dt.date | None = None
    last_on: dt.date | None = None
    columns: tuple[ColumnFacts, ...] = ()

    @property
    def history_days(self) -> int | None:
        if self.first_on is None or self.last_on is None:
            return None
        return (self.last_on - self.first_on).days + 1

    @property
    def history_months(self) -> float | None:
        days = self.history_days
        return None if days is None else round(days / 30.44, 1)

    def column(self, name: str) -> ColumnFacts | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class ChurnSource:
    """Churns one outcome source records as of the day: accounts and the distinct days and months they fall on."""

    source: str
    accounts: int
    dates: int
    months: int
    first_on: dt.date | None = None
    last_on: dt.date | None = None


@dataclass(frozen=True)
class Outcomes:
    """The outcome counts analytics need."""

    churn_sources: tuple[ChurnSource, ...] = ()
    churned_accounts: int = 0  # over subscription ends, churn_events and churned_at (labels apart)
    churn_dates: int = 0
    churn_months: int = 0
    first_churn_on: dt.date | None = None
    last_churn_on: dt.date | None = None
    label_rows: int = 0  # outcome_labels rows about churn
    label_dates: int = 0
    labels_churned: int = 0  # churn labels that happened
    expansion_labels: int = 0  # expansion labels that happened
    expansions: int = 0  # MRR increases or new products (subscriptions) + upgrade events + expansion labels
    expansion_accounts: int = 0
    running_accounts: int = 0  # accounts holding a running subscription on the day
    subscription_accounts: int = 0  # accounts with any subscription known by the day
    max_periods: float = 0.0  # longest subscription history, in billing periods of the commonest period
    repeat_buyers: int = 0  # accounts with transactions on two or more days
    deals_won: int = 0
    deals_lost: int = 0
    deals_open: int = 0
    surveys: dict[str, int] = field(default_factory=dict)  # answers per survey type
    conversations: int = 0
    conversations_with_words: int = 0


@dataclass(frozen=True)
class Verdict:
    """Whether the data supports one analytic; if not, what is missing and how to supply it."""

    analytic: Analytic
    support: Support
    reason: str  # the figures behind the verdict
    fix: str | None = None  # how to supply what is missing

    @property
    def ok(self) -> bool:
        return self.support in (Support.SUPPORTED, Support.LIMITED)

    def line(self) -> str:
        text = f"{self.analytic.value}: {self.support.value} - {self.reason}"
        return text + (f" -> {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Flag:
    """One suspicious thing in the data, where it is, and what to check."""

    kind: FlagKind
    where: str  # table.column, table, or scorecard/component
    message: str
    fix: str
    count: int = 0
    examples: tuple[str, ...] = ()

    def line(self) -> str:
        return f"{self.where}: {self.message} -> {self.fix}"


@dataclass(frozen=True)
class DoctorReport:
    as_of: dt.date
    as_of_reason: str
    tables: tuple[TableFacts, ...]
    outcomes: Outcomes
    verdicts: tuple[Verdict, ...]
    flags: tuple[Flag, ...]

    def table(self, name: str) -> TableFacts | None:
        return next((t for t in self.tables if t.table == name), None)

    def verdict(self, analytic: Analytic | str) -> Verdict:
        return next(v for v in self.verdicts if v.analytic == Analytic(analytic))

    def flags_of(self, kind: FlagKind | str) -> list[Flag]:
        return [f for f in self.flags if f.kind == FlagKind(kind)]

    def to_dict(self) -> dict:
        """A JSON-safe dict of the whole report (dates as ISO text, enums as their values)."""
        return _json(asdict(self)) | {
            "tables": [_json(asdict(t)) | {"history_days": t.history_days, "history_months": t.history_months}
                       for t in self.tables],
        }

    def to_rows(self) -> list[dict]:
        """One flat row per finding, verdicts first: ``item`` (its order, a key), ``section`` (verdict, flag),
        ``subject`` (analytic or place), ``status`` (support or flag kind), ``message`` and ``fix``."""
        rows = [{"section": "verdict", "subject": v.analytic.value, "status": v.support.value, "message": v.reason,
                 "fix": v.fix or ""} for v in self.verdicts]
        rows += [{"section": "flag", "subject": f.where, "status": f.kind.value, "message": f.message, "fix": f.fix}
                 for f in self.flags]
        return [{"item": i, **row} for i, row in enumerate(rows)]


def _json(value):
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
