"""``/api/v1/sales`` routes: goals, opportunity scores and the forecast, with the key's role scope.

Read from the published results (:mod:`retain.state.published`), like the pages: a member's key reads their own
deals and goals, a manager's their team's; company results (team goals, forecast, backtest) are read whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from retain.api.deps import Reader
from retain.api.errors import ApiError
from retain.sales.forecast import NO_CATEGORIES
from retain.server.deps import DB
from retain.state import published

router = APIRouter(prefix="/v1")
SCORES = "opportunity_scores"


class SalesGoalsPublic(BaseModel):
    as_of: dt.date | None = Field(description="Day the goals were measured as of (null: not published).")
    personal: list[dict[str, Any]] = Field(description="Personal goals in the key's scope (sales_goals).")
    team: list[dict[str, Any]] = Field(description="Team and company goals (sales_team_goals).")


class OpportunityPage(BaseModel):
    as_of: dt.date
    total: int = Field(description="Open deals the key may read (before the below-benchmark filter).")
    records: list[dict[str, Any]]


class ForecastPublic(BaseModel):
    as_of: dt.date | None
    forecast: list[dict[str, Any]] = Field(description="Expected bookings per quarter and team (sales_forecast).")
    backtest: list[dict[str, Any]] = Field(description="The forecast at past quarters' starts vs what was won.")
    model_check: list[dict[str, Any]] = Field(description="Model vs CRM probability vs stage only: AUC, Brier.")
    categories_note: str | None = Field(None, description="Why the CRM category sums (commit, best_case, "
                                        "pipeline_category, omitted) are null: the export has no forecast categories.")


@router.get("/sales/goals", operation_id="get_sales_goals", response_model=SalesGoalsPublic, tags=["sales"])
def sales_goals(db: DB, who: Reader):
    """Goal progress: actual, pace, attainment and projected attainment with its 90 % interval."""
    return SalesGoalsPublic(as_of=published.as_of(db, "sales_team_goals") or published.as_of(db, "sales_goals"),
                            personal=published.records(db, who.scope, "sales_goals"),
                            team=published.records(db, who.scope, "sales_team_goals"))


@router.get("/sales/opportunities", operation_id="list_opportunity_scores", response_model=OpportunityPage,
            tags=["sales"])
def opportunity_scores(db: DB, who: Reader,
                       below_benchmark: Annotated[bool, Query(description="Only deals below benchmark.")] = False,
                       offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
                       limit: Annotated[int, Query(ge=1, le=published.MAX_ROWS)] = 1000):
    """Open deals with P(win), the stage benchmark, reasons and warnings (the deals the key may see)."""
    rows = published.read(db, who.scope, SCORES, limit=limit, offset=offset)
    if rows is None:
        raise ApiError(404, "no opportunity scores published", hint="run `retain run`, then `retain publish`")
    records = [r for r in rows.records if r.get("below_benchmark")] if below_benchmark else rows.records
    return OpportunityPage(as_of=rows.as_of, total=published.count(db, who.scope, SCORES), records=records)


@router.get("/sales/forecast", operation_id="get_sales_forecast", response_model=ForecastPublic, tags=["sales"])
def sales_forecast(db: DB, who: Reader):
    """Expected bookings per quarter and team, the backtest on past quarters and the model check."""
    forecast = published.records(db, who.scope, "sales_forecast")
    no_categories = bool(forecast) and all(r.get("commit") is None for r in forecast)
    return ForecastPublic(as_of=published.as_of(db, "sales_forecast"), forecast=forecast,
                          categories_note=NO_CATEGORIES if no_categories else None,
                          backtest=published.records(db, who.scope, "sales_backtest"),
                          model_check=published.records(db, who.scope, "sales_model_check"))
