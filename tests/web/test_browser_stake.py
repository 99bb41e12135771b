"""The Stake page in headless Chromium: a member's stake, all members side by side, CSV = shown data."""

from __future__ import annotations

import csv
import io

import pytest

from .conftest import Visit

pytestmark = pytest.mark.browser


def test_stake_page_for_korea(visit: Visit) -> None:
    # a selector wait (no string evaluation in the page: the dashboard's CSP forbids eval)
    visit.page.goto(visit.base + "/stake?member=KOR&levy_rate=0.2", wait_until="load")
    visit.page.wait_for_selector("#chart-risk .bars path", timeout=90_000)
    visit.screenshot("stake")
    visit.assert_clean()
    assert "KOR loses" in visit.page.inner_text("p.intro") or "KOR gains" in visit.page.inner_text("p.intro")
    assert visit.page.locator("#chart-risk .bars path").count() >= 1
    assert visit.page.locator("#table-codes tbody tr").count() >= 10  # Korea's HS6 codes exported to China
    href = visit.page.locator("#block-members a[download]").get_attribute("href") or ""
    response = visit.page.request.get(visit.base + href)
    assert response.status == 200
    rows = {r["iso3"]: r for r in csv.DictReader(io.StringIO(response.text()))}
    assert "KOR" in rows and "ARG" in rows and len(rows) > 60  # the secretariat's side-by-side view
    shown = visit.page.locator("#table-members tbody tr").count()
    assert shown == len(rows)
