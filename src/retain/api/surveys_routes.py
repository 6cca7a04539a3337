"""``/api/v1`` routes for surveys: the configured programmes and the response rates of Retain's own invitations
(company-wide aggregates: no account, no person)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from retain.api.deps import Reader
from retain.api.errors import ErrorBody
from retain.server.deps import DB
from retain.surveys import analytics
from retain.surveys.spec import configured_programmes

ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 422)}
router = APIRouter(prefix="/v1", responses=ERRORS, tags=["surveys"])


class ProgrammePublic(BaseModel):
    name: str
    survey: str = Field(description="nps (0-10), csat (1-5) or ces (1-7).")
    trigger: str = Field(description="onboarding_completed, qbr_held, ticket_resolved, renewal_signed or periodic.")
    touchpoint: str = Field(description="The `survey_responses.touchpoint` of its answers.")
    audience: list[str] = Field(description="Contact roles asked (every role when empty).")
    delay_days: int
    reminder_days: int | None


class ProgrammesPublic(BaseModel):
    recontact_days: int = Field(description="No contact is surveyed twice within this many days, across programmes.")
    account_monthly_cap: int
    exclusions: list[str]
    programmes: list[ProgrammePublic]


class RatePublic(BaseModel):
    value: str
    invited: int
    answered: int
    rate: float
    rate_lo: float = Field(description="Lower bound of the Wilson 95% interval.")
    rate_hi: float


@router.get("/surveys/programmes", operation_id="list_survey_programmes",
             response_model=ProgrammesPublic, summary="The survey programmes Retain runs")
def programmes(caller: Reader) -> ProgrammesPublic:
    spec = configured_programmes()
    return ProgrammesPublic(
        recontact_days=spec.recontact_days, account_monthly_cap=spec.account_monthly_cap,
        exclusions=[e.value for e in spec.exclusions],
        programmes=[ProgrammePublic(name=p.name, survey=p.survey.value, trigger=p.trigger.kind.value,
                                    touchpoint=p.trigger.kind.touchpoint, audience=[r.value for r in p.audience],
                                    delay_days=p.delay_days, reminder_days=p.reminder_days)
                    for p in spec.programmes])


@router.get("/surveys/rates", operation_id="list_survey_response_rates",
             response_model=list[RatePublic], summary="Response rates of Retain's invitations")
def rates(caller: Reader, db: DB,
          by: Literal["programme", "touchpoint", "segment"] = Query("programme", description="Group by this.")
          ) -> list[RatePublic]:
    frame = analytics.response_rates(db, by)
    return [RatePublic(**{k: r[k] for k in RatePublic.model_fields}) for r in frame.to_dict("records")]
