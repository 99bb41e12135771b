"""Reserve pages in headless Chromium: sizing page; inventory and ledger for the operator only."""

from __future__ import annotations

import httpx
import pytest

from .conftest import Server, Visit

pytestmark = pytest.mark.browser


def _sign_in(visit: Visit, token: str) -> None:
    visit.goto("/members")
    visit.page.fill("#token", token)
    with visit.page.expect_navigation():
        visit.page.keyboard.press("Enter")


def test_reserve_sizing_page(visit: Visit) -> None:
    visit.goto("/reserve?scenarios=200&seed=3")
    visit.screenshot("reserve")
    visit.assert_clean()
    assert visit.page.locator("#table-optimised tbody tr").count() >= 1
    assert visit.page.locator("#chart-comparison .bars path").count() == 3


def test_operator_sees_inventory_and_ledger_others_do_not(visit: Visit, server: Server) -> None:
    api = f"{server.url}/api/v1"
    op = {"Authorization": f"Bearer {server.tokens['operator']}"}
    res = httpx.post(f"{api}/reserves", json={"name": "Gallium reserve", "material": "gallium"}, headers=op)
    assert res.status_code == 201, res.text
    rid = res.json()["id"]
    for key, body in (("a1", {"op": "acquire", "tonnes": 12.0}), ("d1", {"op": "draw", "tonnes": 5.0})):
        r = httpx.post(f"{api}/reserves/{rid}/operations", json=body | {"idempotency_key": key}, headers=op)
        assert r.status_code == 200, r.text

    assert visit.page.goto(f"{visit.base}/reserve/operations").status == 401
    _sign_in(visit, server.tokens["member_a"])
    assert visit.page.goto(f"{visit.base}/reserve/operations").status == 403

    visit.page.context.clear_cookies()
    _sign_in(visit, server.tokens["operator"])
    visit.goto("/reserve/operations")
    visit.screenshot("reserve-operations")
    inventory = visit.page.inner_text("#table-inventory")
    assert "Gallium reserve" in inventory and "7" in inventory  # 12 acquired - 5 drawn
    ledger = visit.page.locator("#table-ledger tbody tr")
    assert ledger.count() == 2
    assert [ledger.nth(i).locator("td").nth(2).inner_text() for i in range(2)] == ["acquire", "draw"]
    href = visit.page.locator("#block-ledger a[download]").get_attribute("href") or ""
    text = visit.page.request.get(visit.base + href).text()
    assert text.splitlines()[0].startswith("reserve_id,seq,op,tonnes,balance_after")
    assert text.splitlines()[-1].split(",")[4] == "7.0"
