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


def _vault_ops(day: str = "2026-01-05") -> list[dict[str, object]]:
    """Open a reserve (vault.csv terms), register a manufacturer, subscribe it, acquire 12 t, draw 5 t
    (test inputs: the prices are arbitrary positive numbers)."""
    from critmin.vault import default_terms

    return [
        {"op": "open", "key": "open", "on": day, "terms": default_terms().model_dump(mode="json")},
        {"op": "register", "key": "reg", "on": day,
         "participant": {"id": "m1", "kind": "manufacturer", "name": "Magnet maker"}},
        {"op": "subscribe", "key": "sub", "on": day, "subscription_id": "s1", "participant_id": "m1",
         "material": "gallium", "quantity_t": 100.0, "preset_price_usd_per_t": 1000.0,
         "upfront_fee_usd": 0.0},
        {"op": "acquire", "key": "acq", "on": day, "material": "gallium", "tonnes": 12.0,
         "price_usd_per_t": 1000.0},
        {"op": "draw", "key": "draw", "on": day, "draw_id": "d1", "subscription_id": "s1", "tonnes": 5.0,
         "due": "2026-04-05"},
    ]  # fmt: skip


def test_operator_sees_the_reserve_others_do_not(visit: Visit, server: Server) -> None:
    api = f"{server.url}/api/v1"
    op = {"Authorization": f"Bearer {server.tokens['operator']}"}
    res = httpx.post(f"{api}/reserves", json={"name": "Gallium reserve"}, headers=op)
    assert res.status_code == 201, res.text
    rid = res.json()["id"]
    for body in _vault_ops():
        r = httpx.post(f"{api}/reserves/{rid}/operations", json=body, headers=op)
        assert r.status_code == 200, r.text

    assert visit.page.goto(f"{visit.base}/reserve/operations").status == 401
    _sign_in(visit, server.tokens["member_a"])
    assert visit.page.goto(f"{visit.base}/reserve/operations").status == 403

    visit.page.context.clear_cookies()
    visit.errors.clear()  # the two refusals above are logged by Chromium as failed loads, as they should be
    _sign_in(visit, server.tokens["operator"])
    assert "Reserve operator (reserve_operator)" in visit.page.inner_text("#signin-info")
    visit.goto("/reserve/operations")
    visit.screenshot("reserve-operations")
    visit.assert_clean()
    assert "Magnet maker" in visit.page.inner_text("#table-participants")
    assert "s1" in visit.page.inner_text("#table-subscriptions")
    inventory = visit.page.locator("#table-inventory tbody tr")
    assert inventory.count() == 1 and inventory.first.locator("td").nth(2).inner_text() == "7"  # 12 - 5
    assert "d1" in visit.page.inner_text("#table-draws")
    ops = visit.page.eval_on_selector_all(
        "#table-ledger tbody tr", "rows => rows.map(r => r.cells[3].innerText)"
    )
    assert ops == ["open", "register", "subscribe", "acquire", "draw"]
    href = visit.page.locator("#block-inventory a[download]").get_attribute("href") or ""
    text = visit.page.request.get(visit.base + href).text()
    assert text.splitlines()[0] == "reserve_id,material,tonnes,cost_of_stock_usd"
    assert text.splitlines()[1].split(",")[1:3] == ["gallium", "7.0"]
