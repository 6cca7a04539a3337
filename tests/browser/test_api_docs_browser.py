"""``/api/docs`` in a real browser: Swagger UI draws every operation from same-origin assets, with the app's CSP
on and no request leaving the server, and without a single CSP violation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def test_swagger_ui_renders_operations_offline_under_csp(page, server_url):
    console: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: console.append(str(exc)))
    page.add_init_script(CSP_LISTENER)

    def only_same_origin(route):
        if route.request.url.startswith(server_url):
            route.continue_()
        else:  # offline: nothing may come from elsewhere
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_same_origin)
    response = page.goto(f"{server_url}/api/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]

    page.locator(".opblock").first.wait_for(timeout=15000)
    page.wait_for_load_state("networkidle")
    spec = page.request.get(f"{server_url}/api/openapi.json").json()
    operations = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    webhooks = [op for hook in spec.get("webhooks", {}).values() for op in hook.values()]
    assert webhooks, "the webhook payloads are documented"
    assert page.locator(".opblock").count() == len(operations) + len(webhooks)  # one block per operation
    for operation_id in operations:  # Swagger UI ids its blocks operations-<tag>-<operationId>
        assert page.locator(f".opblock[id$='-{operation_id}']").count() == 1, operation_id
    assert page.locator(".opblock-summary-path", has_text="/v1/accounts").count() >= 1
    assert "Retain API" in page.locator(".info .title").inner_text()

    assert page.evaluate("window.__csp") == []
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console
    assert not console, console
    assert not outside, outside
