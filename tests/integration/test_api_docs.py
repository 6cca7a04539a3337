"""``/api/docs`` works offline under the app's CSP: same-origin assets only, no inline script, cacheable assets."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from retain.server.testing import seeded_app


class Refs(HTMLParser):
    """The page's script and stylesheet/icon addresses, and the text of any inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: dict[str, str] = {}
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attrs.get("src"):
                self.scripts.append(attrs["src"])
        elif tag == "link":
            self.links[attrs["href"]] = attrs["rel"]
        for name, value in attrs.items():
            assert not name.startswith("on"), f"inline event handler {name}={value!r}"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(data)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app, _ = seeded_app(f"sqlite:///{tmp_path_factory.mktemp('docs') / 'app.sqlite'}")
    return TestClient(app)


@pytest.fixture(scope="module")
def page(client):
    r = client.get("/api/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    refs = Refs()
    refs.feed(r.text)
    return r, refs


def test_docs_page_references_only_same_origin_assets_and_no_inline_script(page):
    r, refs = page
    assert "https://" not in r.text and "http://" not in r.text and "//cdn" not in r.text
    assert not refs.inline, refs.inline
    assert refs.scripts == ["/api/docs/static/swagger-ui-bundle.js", "/api/docs/static/swagger-init.js"]
    assert "/api/docs/static/swagger-ui.css" in refs.links
    assert 'data-openapi-url="/api/openapi.json"' in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"].split("script-src")[1].split(";")[0]


def test_every_docs_asset_is_served_with_its_type_and_cacheable(client, page):
    _, refs = page
    expected = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    assets = [*refs.scripts, *refs.links]
    assert len(assets) == 4
    for url in assets:
        assert url.startswith("/api/docs/static/"), url
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-type"].startswith(expected[url[url.rindex("."):]]), (url, r.headers["content-type"])
        assert r.headers["cache-control"] == "public, max-age=86400", url
        assert len(r.content) > 100, url
        assert client.get(url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304, url
    assert "SwaggerUIBundle" in client.get("/api/docs/static/swagger-ui-bundle.js").text


def test_missing_docs_asset_is_an_api_404(client):
    r = client.get("/api/docs/static/nope.js")
    assert r.status_code == 404 and r.json()["error"]["status"] == 404
    assert r.headers["cache-control"] == "no-store"
