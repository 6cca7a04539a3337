"""The accounts list (filter, sort, page, CSV export) and Account 360."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from retain.delivery.caps import contact_pressure
from retain.errors import ArgumentError
from retain.exports import csv_text
from retain.server.deps import DB, runtime
from retain.state import action_queries as aq
from retain.state import notes, queries
from retain.state.insight import account_insight, disagreement, snapshot_values
from retain.state.queries import AccountQuery
from retain.web import charts
from retain.web.deps import CsrfViewer, CurrentViewer, Viewer
from retain.web.formats import CHURN_WINDOW_DAYS
from retain.web.render import page
from retain.web.routes.portfolio import LIST_COLUMNS, NUMERIC

router = APIRouter()
CSV_COLUMNS = ("account_id", "name", "health_total", "health_grade", "score_note", "health_change", "churn_probability",
               "clv",
               "arr", "currency", "owner_id", "owner_name", "segment", "region", "renewal_on", "adoption_tier",
               "status", "products_held", "open_tickets", "as_of")


class BadQuery(Exception):
    """Invalid filters in the query string: a 400 page, never a 500."""


def account_query(request: Request) -> AccountQuery:
    """The list's filters from the query string; empty form fields mean 'no filter', unknown keys are ignored."""
    fields = AccountQuery.model_fields
    params = {k: v for k, v in request.query_params.items() if v != "" and k in fields}
    try:
        return AccountQuery(**params)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BadQuery(problems) from exc


def people(request: Request, db: DB) -> dict[str, str]:
    """Team members' names by id (they change only when a publish copies the team)."""
    return runtime(request).memo(db, "member_names", lambda: queries.member_names(db))


def _qs(query: AccountQuery, **changes) -> str:
    data = query.model_dump(mode="json", exclude_defaults=True) | changes
    return urlencode({k: v for k, v in data.items() if v is not None})


@router.get("/accounts", name="accounts")
def accounts(request: Request, db: DB, viewer: CurrentViewer, query: AccountQuery = Depends(account_query)):
    result = queries.list_accounts(db, viewer.scope, query,
                                   count_cache=lambda key, count: runtime(request).memo(db, key, count))

    def sort_link(key: str) -> str:
        order = "asc" if query.sort.value == key and query.order.value == "desc" else "desc"
        return "/accounts?" + _qs(query, sort=key, order=order, page=1)

    options = runtime(request).memo(db, ("options", viewer.scope), lambda: queries.filter_options(db, viewer.scope))
    return page(request, "accounts.html", db=db, viewer=viewer, nav="accounts", query=query, page=result,
                options=options, columns=LIST_COLUMNS, numeric=NUMERIC,
                sort_link=sort_link, page_link=lambda n: "/accounts?" + _qs(query, page=n),
                export_qs=_qs(query, page=None, per_page=None))


@router.get("/accounts.csv", name="accounts_csv")
def accounts_csv(db: DB, viewer: CurrentViewer, query: AccountQuery = Depends(account_query)):
    rows = queries.export_accounts(db, viewer.scope, query)
    return Response("\ufeff" + csv_text(rows, CSV_COLUMNS), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="accounts.csv"'})


@router.get("/accounts/{account_id:path}", name="account")  # ':path': an id may contain '/' (sent as %2F)
def account(request: Request, db: DB, viewer: CurrentViewer, account_id: str = Path(max_length=128)):
    return _account_page(request, db, viewer, account_id)


def _account_page(request: Request, db: DB, viewer: Viewer, account_id: str, *, note_error: str | None = None,
                  status_code: int = 200):
    a = queries.get_account(db, viewer.scope, account_id)
    history = queries.account_history(db, viewer.scope, account_id)
    figs = {"history": charts.health_history(history), "components": charts.component_bars(a.components)}
    detail = a.detail or {}
    timeline = notes.timeline(detail.get("timeline") or [], aq.account_notes(db, viewer.scope, account_id))
    ref_day = aq.reference_day(db)
    # Pages read the application database only: the pressure counts what Retain sent and holds (``retain caps
    # report`` adds the warehouse's activities of every team).
    contacts = {c["contact_id"]: c.get("name") for c in detail.get("people") or [] if c.get("name")}
    pressure = [dict(r, name=contacts.get(r["contact_id"], r["name"]))
                for r in contact_pressure(db, None, a.account_id, ref_day)]
    return page(request, "account.html", db=db, viewer=viewer, nav="accounts", a=a, detail=detail,
                figs=figs, insight=account_insight(a), disagree=disagreement(snapshot_values(a), CHURN_WINDOW_DAYS),
                ctas=aq.account_ctas(db, viewer.scope, account_id), ref_day=ref_day, timeline=timeline,
                pressure=pressure, plan=aq.plan_line(db, account_id), people=people(request, db),
                back=f"/accounts/{quote(account_id, safe='')}", note_error=note_error, status_code=status_code)


@router.post("/accounts/{account_id:path}/notes", name="account_note")
def add_note(request: Request, db: DB, viewer: CsrfViewer, account_id: str = Path(max_length=128),
             body: Annotated[str, Form(max_length=20_000)] = ""):
    """Write a note on the account (it appears on the timeline at once); a bad note re-shows the page saying why."""
    try:
        aq.add_note(db, viewer.scope, account_id, body, viewer.user.username)
    except ArgumentError as exc:
        db.rollback()
        message = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
        return _account_page(request, db, viewer, account_id, note_error=message, status_code=400)
    return RedirectResponse(f"/accounts/{quote(account_id, safe='')}#timeline", status_code=303)
