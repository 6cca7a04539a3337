"""The API application, mounted by the web app at ``/api`` (OpenAPI at ``/api/openapi.json``, docs ``/api/docs``)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from retain.api import actions_routes, docs, errors, plans_routes, sales_routes, surveys_routes
from retain.api.routes import router


def _operation_id(route: APIRoute) -> str:
    return route.name


def build_api(runtime) -> FastAPI:
    api = FastAPI(
        title="Retain API", version="1", docs_url=None, redoc_url=None, openapi_url="/openapi.json",
        description="Accounts, health scores, components, history, metrics and batch ingestion. "
                    "Authenticate with an API key in the `X-API-Key` header. Every error has one shape: "
                    "`{\"error\": {\"status\", \"code\", \"message\", \"hint\", \"details\"}}`.",
        generate_unique_id_function=_operation_id,
    )
    api.state.runtime = runtime
    errors.install(api)
    docs.install(api, "/docs")  # FastAPI's own page loads Swagger UI from a CDN with an inline script: CSP blocks it
    # the domains' routes first: their ``/v1/accounts/{id:path}/...`` sub-routes must win over the account route
    for module in (actions_routes, plans_routes, surveys_routes, sales_routes):
        api.include_router(module.router)
    api.include_router(router)
    actions_routes.document_webhooks(api)
    return api
