"""``/api/v1`` routes: each parses input, calls the state layer or a domain function, and returns a schema."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.routing import APIRoute

from retain.api import schemas as s
from retain.api.deps import Reader, Writer, caller, key_header, writer
from retain.api.errors import ApiError, ErrorBody
from retain.api.ingestion import ingest
from retain.errors import NotFoundError
from retain.server.deps import DB
from retain.server.limits import capped
from retain.state import published, queries
from retain.state.queries import AccountQuery

ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 422, 500)}
router = APIRouter(prefix="/v1", responses=ERRORS)
AccountId = Annotated[str, Path(min_length=1, max_length=128, description="The account's id.")]
MetricName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


@router.get("/me", operation_id="get_me", response_model=s.MePublic, tags=["meta"])
def me(who: Reader):
    """Who the key belongs to and what it may do."""
    return s.MePublic(username=who.user.username, role=who.user.role, member_id=who.user.member_id,
                      key_scope=who.key.scope)


@router.get("/accounts", operation_id="list_accounts", response_model=s.AccountPage, tags=["accounts"])
def list_accounts(db: DB, who: Reader, query: Annotated[AccountQuery, Query()]):
    """Accounts the key's user may see, filtered, sorted and paginated."""
    page = queries.list_accounts(db, who.scope, query)
    return s.AccountPage(items=[s.AccountPublic.model_validate(dict(r)) for r in page.items], total=page.total,
                         page=page.page, per_page=page.per_page, pages=page.pages)


# ':path': an account id may contain '/' (Starlette decodes %2F before routing), so the sub-routes come first
@router.get("/accounts/{account_id:path}/components", operation_id="get_account_components",
            response_model=list[s.ComponentPublic], tags=["scores"])
def get_components(db: DB, who: Reader, account_id: AccountId):
    """The account's health components as last published."""
    a = queries.get_account(db, who.scope, account_id)
    out = []
    for c in a.components or []:
        rest = {k: v for k, v in c.items() if k not in ("component", "score", "weight")}
        out.append(s.ComponentPublic(component=str(c.get("component")), score=c.get("score"),
                                     weight=c.get("weight"), extra=rest))
    return out


@router.get("/accounts/{account_id:path}/history", operation_id="get_account_history",
            response_model=list[s.HistoryPoint], tags=["scores"])
def get_history(db: DB, who: Reader, account_id: AccountId):
    """Health and churn probability of the account at each published date."""
    return [s.HistoryPoint.model_validate(h) for h in queries.account_history(db, who.scope, account_id)]


@router.get("/accounts/{account_id:path}", operation_id="get_account", response_model=s.AccountDetailPublic,
            tags=["accounts"])
async def get_account(request: Request, who: Reader, account_id: AccountId):
    """One account with its components, reasons, subscriptions, open tickets, surveys and timeline."""
    runtime = request.app.state.runtime
    record = await runtime.read(runtime.records.read, who.scope, account_id)
    if record is None:
        raise NotFoundError(f"no account '{account_id}'", hint="check the id, or ask an admin for access")
    return Response(orjson.dumps(s.account_detail_body(record)), media_type="application/json")


@router.get("/scores", operation_id="list_scores", response_model=s.ScorePage, tags=["scores"])
def list_scores(db: DB, who: Reader, query: Annotated[AccountQuery, Query()]):
    """Health, churn probability and CLV of the accounts the key may see (same filters as /accounts)."""
    page = queries.list_accounts(db, who.scope, query)
    return s.ScorePage(items=[s.ScorePublic.model_validate(dict(r)) for r in page.items], total=page.total,
                       page=page.page, per_page=page.per_page, pages=page.pages)


@router.get("/metrics", operation_id="list_metrics", response_model=s.MetricList, tags=["metrics"])
def list_metrics(db: DB, who: Reader):
    """Names of the published results (each readable at /metrics/{name}, restricted to what the key may see)."""
    return s.MetricList(names=published.names(db))


@router.get("/metrics/{name}", operation_id="get_metric", response_model=s.MetricPublic, tags=["metrics"])
def get_metric(db: DB, who: Reader, name: MetricName,
               offset: Annotated[int, Query(ge=0, le=100_000_000, description="Rows to skip.")] = 0,
               limit: Annotated[int, Query(ge=1, le=published.MAX_ROWS, description="Rows to return.")
                                ] = published.MAX_ROWS):
    """One published result as records (e.g. revenue_retention, cohorts_logo, survival, call_metrics), with the
    same role scope as the pages: company-wide aggregates whole, per-person and per-account rows only within the
    key's book or team. Every row is published: page through more than ``limit`` with ``offset`` (``total`` says
    how many the key may read)."""
    rows = published.read(db, who.scope, name, limit=limit, offset=offset)
    if rows is None:
        raise ApiError(404, f"no metric '{name}'", hint="GET /api/v1/metrics lists the published ones")
    return s.MetricPublic(name=rows.name, as_of=rows.as_of, total=published.count(db, who.scope, name),
                          offset=offset, records=rows.records)


class KeyBeforeBody(APIRoute):
    """A route whose write key is checked before its body is read. FastAPI reads and parses a declared body before
    it solves dependencies, so without this a caller with no key made the server read a body of any size only to
    be told 401. The body is then read capped at ``max_ingest_bytes`` (as the web app's ``BodyLimit`` does); the
    body parameter stays declared, so the OpenAPI document is FastAPI's own."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def key_first(request: Request) -> Response:
            writer(await caller(request, request.headers.get(key_header.model.name)))
            limit = request.app.state.runtime.settings.max_ingest_bytes
            return await handler(Request(request.scope, capped(request.receive, limit)))

        return key_first


def ingest_rows(request: Request, db: DB, who: Writer, body: s.IngestRequest):
    """Load rows into canonical tables with the same checks as file ingestion; any bad row writes nothing."""
    return ingest(request.app.state.runtime, body, actor=who.user.username, db=db)


router.add_api_route("/ingest", ingest_rows, methods=["POST"], operation_id="ingest_rows", tags=["ingestion"],
                     response_model=s.IngestPublic, responses={413: {"model": ErrorBody}},
                     route_class_override=KeyBeforeBody)
