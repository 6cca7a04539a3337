"""Rendering pages: the Jinja2 environment and the context every page shares."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from retain.state import queries
from retain.web import formats

TEMPLATES = Path(__file__).parent / "templates"


def make_templates(*, reload: bool = False) -> Jinja2Templates:
    """``reload`` (development): re-read a template when its file changes, at the cost of a stat per render."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.auto_reload = reload
    templates.env.globals["app_name"] = "Retain"
    templates.env.globals.update(formats.FUNCTIONS)
    return templates


def page(request: Request, template: str, *, db: Session | None = None, status_code: int = 200, **context):
    """Render ``template`` with the viewer, the last publish date and whether charts are on the page."""
    templates: Jinja2Templates = request.app.state.templates
    if db is not None and "published" not in context:
        context["published"] = request.app.state.runtime.memo(db, "published", lambda: queries.last_publish(db))
    context.setdefault("viewer", None)
    context.setdefault("charts", "figs" in context)
    return templates.TemplateResponse(request, template, context, status_code=status_code)
