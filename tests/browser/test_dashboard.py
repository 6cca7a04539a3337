"""The dashboard in a real browser: sign in, filter, open an account, see charts draw, export CSV, and be refused
another rep's account."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retain.state import testing

pytestmark = pytest.mark.browser


def sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/login?next=/accounts")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", testing.PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/accounts")


def pixel_spread(png: bytes) -> float:
    """Standard deviation of the grey levels: ~0 for a blank (single-colour) image."""
    return float(np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float).std())


def test_member_signs_in_filters_opens_account_sees_chart_exports_and_is_refused(page, server_url, tmp_path):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server_url, "rita")
    rows = page.locator("table.accounts tbody tr")
    assert rows.count() == 2  # Rita's book: Acme Corp and Globex

    page.select_option("select[name=grade]", "yellow")
    page.click("form#filters button[type=submit]")
    page.wait_for_url("**grade=yellow**")
    assert page.locator("table.accounts tbody tr").count() == 1
    assert page.locator("table.accounts tbody").inner_text().startswith("Globex")

    with page.expect_download() as info:
        page.click("#export-csv")
    exported = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))
    assert [r["account_id"] for r in exported] == ["a2"]

    page.goto(f"{server_url}/accounts?q=acme")
    page.click("text=Acme Corp")
    page.wait_for_url("**/accounts/a1")
    chart = page.locator("#chart-history")
    chart.locator("svg.main-svg").first.wait_for(timeout=15000)
    page.wait_for_selector("#chart-history[data-rendered='1']", timeout=15000)
    shot = chart.screenshot()
    assert pixel_spread(shot) > 10, "the history chart looks blank"
    assert page.locator("#chart-components .bars path").count() >= 2
    assert not errors, errors

    response = page.goto(f"{server_url}/accounts/a5")  # Olga's account
    assert response.status == 404
    assert "Umbrella" not in page.content()


def test_chinese_names_render_and_portfolio_charts_draw(page, server_url, tmp_path):
    sign_in(page, server_url, "admin")
    page.goto(f"{server_url}/accounts/a4")
    title = page.locator("h1")
    assert testing.CHINESE_NAME in title.inner_text()
    box = title.bounding_box()
    assert box and box["width"] > 150  # glyphs drawn, not collapsed
    assert pixel_spread(title.screenshot()) > 10
    page.goto(f"{server_url}/")
    page.wait_for_selector("#chart-grades[data-rendered='1']", timeout=15000)
    assert pixel_spread(page.locator("#chart-grades").screenshot()) > 10
    page.goto(f"{server_url}/analytics")
    page.wait_for_selector("#chart-pareto[data-rendered='1']", timeout=15000)
