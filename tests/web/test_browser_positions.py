"""A participant's positions in headless Chromium (CSP on): sign in, follow the reserve page's link, read
the message and the table, download the CSV; the rival participant's subscription never appears."""

from __future__ import annotations

import httpx
import pytest

from .conftest import Server, Visit

pytestmark = pytest.mark.browser
DAY = "2026-04-01"


def _reserve_with_two_participants(server: Server) -> None:
    from critmin.vault import default_terms

    api = f"{server.url}/api/v1"
    op = {"Authorization": f"Bearer {server.tokens['operator']}"}
    rid = httpx.post(f"{api}/reserves", json={"name": "Positions reserve"}, headers=op).json()["id"]
    ops = [
        {"op": "open", "key": "open", "on": DAY, "terms": default_terms().model_dump(mode="json")},
        *[{"op": "register", "key": f"reg-{p}", "on": DAY,
           "participant": {"id": p, "kind": "manufacturer", "name": name}}
          for p, name in (("ui-maker", "UI Maker Ltd"), ("ui-rival", "Rival Confidential Corp"))],
        {"op": "subscribe", "key": "s-mine", "on": DAY, "subscription_id": "ui-sub-mine",
         "participant_id": "ui-maker", "material": "gallium", "quantity_t": 25.0,
         "preset_price_usd_per_t": 2000.0, "upfront_fee_usd": 1000.0},
        {"op": "subscribe", "key": "s-rival", "on": DAY, "subscription_id": "ui-sub-rival",
         "participant_id": "ui-rival", "material": "cobalt", "quantity_t": 5555.0,
         "preset_price_usd_per_t": 33333.0, "upfront_fee_usd": 9999.0},
    ]  # fmt: skip
    for body in ops:
        r = httpx.post(f"{api}/reserves/{rid}/operations", json=body, headers=op)
        assert r.status_code == 200, r.text


def test_a_participant_reads_and_downloads_only_its_own_positions(visit: Visit, server: Server) -> None:
    _reserve_with_two_participants(server)
    visit.goto("/members")
    visit.page.fill("#token", server.tokens["participant"])
    with visit.page.expect_navigation():
        visit.page.keyboard.press("Enter")
    visit.goto("/reserve")
    with visit.page.expect_navigation():
        visit.page.click("#my-positions")
    visit.wait_charts()
    visit.screenshot("reserve-positions-participant")
    lead = visit.page.inner_text("#positions-lead")
    assert "25 t committed, 25 t still open, draw rights on 25 t" in lead
    assert "repurchase exposure USD 50,000" in lead
    rows = visit.page.eval_on_selector_all(
        "#table-positions tbody tr", "rs => rs.map(r => [r.cells[1].innerText, r.cells[3].innerText])"
    )
    assert rows == [["Positions reserve", "ui-sub-mine"]]
    body = visit.page.inner_text("body")
    for leak in ("ui-rival", "Rival", "ui-sub-rival", "5,555", "33,333", "cobalt"):
        assert leak not in body, leak
    href = visit.page.locator("#block-positions a[download]").get_attribute("href") or ""
    csv = visit.page.request.get(visit.base + href)
    assert csv.status == 200 and csv.headers["content-disposition"].endswith(
        '"reserve-positions-ui-maker.csv"'
    )
    text = csv.text()
    assert "ui-sub-mine" in text and "ui-sub-rival" not in text and "5555" not in text
    visit.assert_clean()
