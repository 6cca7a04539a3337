"""The public survey page and the unsubscribe page: no sign-in, the signed link is the only key.

``GET /s/{token}`` shows the question in the contact's language (a plain form: no JavaScript needed);
``POST /s/{token}`` records the answer (:func:`retain.surveys.answers.submit`) and redirects to the thanks page.
A tampered link gets a 400 page, an expired or already answered one a 410 page, each saying so in words.
``GET /s/unsubscribe/{token}`` asks for confirmation (mail scanners open links: a GET never opts anyone out);
``POST`` records the opt-out, which every programme honours.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from retain.server.deps import DB, runtime
from retain.surveys import texts
from retain.surveys.answers import AnswerError, check_unsubscribe, open_invitation, submit, unsubscribe
from retain.surveys.links import LinkError
from retain.surveys.spec import SurveyType, programme_named
from retain.web.render import page

router = APIRouter()
Token = Annotated[str, Path(min_length=10, max_length=300)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _secret(request: Request) -> str:
    return runtime(request).settings.secret_key.get_secret_value()


def _lang(request: Request) -> str:
    """The language of a page with no invitation behind it: ``?lang=``, else the browser's first choice."""
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "en")
    return texts.language(asked).value


def _error(request: Request, exc: LinkError, lang: str):
    w = texts.words(lang)
    key = exc.problem.value
    return page(request, "survey_error.html", status_code=exc.problem.status, lang=lang, w=w, title=w["error_title"],
                message=w.get(key, exc.message), problem=exc.problem.value)


def _form(request: Request, invitation, *, error: str | None = None, comment: str = "", status_code: int = 200):
    if error is None and not comment:  # the blank form is the same for every link of a programme and language
        key = (invitation.programme, invitation.survey_type, invitation.language)
        cache = getattr(request.app.state, "survey_forms", None)
        if cache is None:
            cache = request.app.state.survey_forms = {}
        if key not in cache:
            cache[key] = bytes(_render_form(request, invitation).body)
        return HTMLResponse(cache[key])
    return _render_form(request, invitation, error=error, comment=comment, status_code=status_code)


def _render_form(request: Request, invitation, *, error: str | None = None, comment: str = "", status_code: int = 200):
    survey = SurveyType(invitation.survey_type)
    lang = invitation.language
    w = texts.words(lang)
    low, high = survey.scale
    programme = programme_named(invitation.programme)
    return page(request, "survey_form.html", status_code=status_code, lang=lang, w=w,
                question=texts.question(programme, survey, lang, None), follow_up=texts.follow_up(programme, lang),
                scores=list(range(low, high + 1)), low_label=w[f"{survey.value}_low"],
                high_label=w[f"{survey.value}_high"], error=error, comment=comment)


@router.get("/s/thanks", name="survey_thanks")
def thanks(request: Request):
    lang = _lang(request)
    w = texts.words(lang)
    return page(request, "survey_done.html", lang=lang, w=w, title=w["thanks_title"], message=w["thanks"])


@router.get("/s/{token}", name="survey")
async def survey(request: Request, token: Token):
    """One read by primary key through the runtime's reader (on the event loop for SQLite: no thread hop)."""
    rt, secret, now = runtime(request), _secret(request), _now()

    def load():
        with Session(rt.reader) as db:
            return open_invitation(db, secret, token, now)

    try:
        invitation = await rt.read(load)
    except LinkError as exc:
        return _error(request, exc, _lang(request))
    return _form(request, invitation)


@router.post("/s/{token}")
def answer(request: Request, db: DB, token: Token, score: Annotated[str, Form(max_length=4)] = "",
           comment: Annotated[str, Form(max_length=4000)] = ""):
    settings = runtime(request).settings
    try:
        done = submit(db, _secret(request), token, score, comment, _now(), warehouse=settings.warehouse)
    except LinkError as exc:
        return _error(request, exc, _lang(request))
    except AnswerError:
        invitation = open_invitation(db, _secret(request), token, _now())
        return _form(request, invitation, error=texts.words(invitation.language)["score_required"],
                     comment=comment, status_code=400)
    return RedirectResponse(f"/s/thanks?lang={done.language}", status_code=303)


@router.get("/s/unsubscribe/{token}", name="survey_unsubscribe")
def unsubscribe_form(request: Request, db: DB, token: Token):
    try:
        invitation = check_unsubscribe(db, _secret(request), token, _now())
    except LinkError as exc:
        return _error(request, exc, _lang(request))
    w = texts.words(invitation.language)
    return page(request, "survey_done.html", lang=invitation.language, w=w, title=w["unsubscribe_title"],
                confirm=True, token=token)


@router.post("/s/unsubscribe/{token}")
def unsubscribe_confirm(request: Request, db: DB, token: Token):
    try:
        invitation = unsubscribe(db, _secret(request), token, _now())
    except LinkError as exc:
        return _error(request, exc, _lang(request))
    w = texts.words(invitation.language)
    return page(request, "survey_done.html", lang=invitation.language, w=w, title=w["unsubscribed_title"],
                message=w["unsubscribed"].format(company=texts.company(None, invitation.language)))
