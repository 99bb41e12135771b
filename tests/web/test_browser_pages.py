"""Public pages in headless Chromium: no console error, no request off 127.0.0.1, charts drawn, tables
sortable by mouse and keyboard, CSV links serving the shown data, a screenshot of each page."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from .conftest import SCREENSHOTS, Visit

pytestmark = pytest.mark.browser


def _csv_rows(visit: Visit, href: str) -> list[dict[str, str]]:
    response = visit.page.request.get(visit.base + href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text())))


def _column(visit: Visit, table: str, index: int) -> list[str]:
    cells: list[str] = visit.page.eval_on_selector_all(
        f"#table-{table} tbody tr", f"rows => rows.map(r => r.cells[{index}].dataset.sort)"
    )
    return cells


def test_overview(visit: Visit, server_url: str) -> None:
    import httpx

    httpx.get(server_url + "/", timeout=60)  # the server computes and caches the page once
    visit.goto("/")
    visit.wait_for("document.body.dataset.chartsDrawnMs !== undefined")
    timing: dict[str, Any] = visit.page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {load: n.loadEventEnd - n.startTime, dcl: n.domContentLoadedEventEnd - n.startTime,"
        " drawn: Number(document.body.dataset.chartsDrawnMs)}; }"
    )
    print(f"overview navigation timing (ms): {timing}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "overview-timing.json").write_text(json.dumps(timing) + "\n")
    # target (issue 8): the page loads in under 1 s. Plotly (4.8 MB) is fetched after the load event, so
    # ``drawn`` (all charts drawn) is printed and reported, not held to that target.
    assert 0 < timing["load"] < 1000, timing
    assert timing["drawn"] >= timing["load"]
    visit.screenshot("overview")
    visit.assert_clean()
    # the world map was drawn from the locally served topojson
    assert any(u.endswith("/assets/topojson/world_110m.json") for u in visit.requests)
    assert visit.page.locator("#chart-alliance-map path.choroplethlocation").count() > 50
    assert "USGS Mineral Commodity Summaries 2026" in visit.page.inner_text("p.edition")

    # keyboard: the first Tab reaches the skip link, Enter moves the focus to the main content
    visit.page.keyboard.press("Tab")
    assert visit.page.evaluate("document.activeElement.className") == "skip"
    visit.page.keyboard.press("Enter")
    assert visit.page.evaluate("document.activeElement.id") == "main"

    # the materials table: sortable by click, then by keyboard (Enter on the focused header button)
    header = visit.page.locator("#table-materials th button", has_text="Refine: China (%)")
    index = int(header.get_attribute("data-col") or "-1")
    header.click()
    ascending = [float(v) for v in _column(visit, "materials", index) if v]
    assert ascending == sorted(ascending) and len(ascending) > 10
    header.focus()
    visit.page.keyboard.press("Enter")
    descending = [float(v) for v in _column(visit, "materials", index) if v]
    assert descending == sorted(descending, reverse=True)
    assert descending[0] >= 98.0  # gallium or another material fully refined in China
    assert _column(visit, "materials", index)[-1] == ""  # gaps stay last

    # the CSV link returns the rows the table shows
    href = visit.page.locator("#block-materials a[download]").get_attribute("href") or ""
    rows = _csv_rows(visit, href)
    assert len(rows) == visit.page.locator("#table-materials tbody tr").count()
    gallium = next(r for r in rows if r["material"] == "gallium")
    assert float(gallium["Refine: China (%)"]) >= 98.0


def test_material_page(visit: Visit) -> None:
    visit.goto("/materials?material=cobalt")
    visit.screenshot("material-cobalt")
    visit.assert_clean()
    assert visit.page.locator("#chart-sankey .sankey-node").count() > 3
    assert "Cobalt" in visit.page.inner_text("h1")
    href = visit.page.locator("#block-sankey a[download]").get_attribute("href") or ""
    flows = _csv_rows(visit, href)
    assert {"mine_iso3", "refine_iso3", "tonnes", "basis"} <= set(flows[0])
    # choose another material with the keyboard
    visit.page.locator("#material-select").focus()
    visit.page.select_option("#material-select", "lithium")
    visit.page.keyboard.press("Tab")
    visit.page.keyboard.press("Enter")
    visit.page.wait_for_url("**/materials?material=lithium")
    visit.wait_charts()
    assert "Lithium" in visit.page.inner_text("h1")
    visit.assert_clean()


def test_unknown_material_is_a_clear_404(visit: Visit) -> None:
    response = visit.page.goto(visit.base + "/materials?material=unobtainium")
    assert response.status == 404
    assert "unobtainium" in visit.page.inner_text("p.error")


def test_prices_page_and_deals_assessment(visit: Visit) -> None:
    from importlib import resources

    visit.goto("/prices?material=copper&paths=500&years=3")
    visit.screenshot("prices")
    visit.assert_clean()
    assert visit.page.locator("#chart-fiscal-cost .bars path, #chart-fiscal-cost .point path").count() > 0
    rows = _csv_rows(visit, visit.page.locator("#block-fiscal-cost a[download]").get_attribute("href") or "")
    assert len(rows) == 500
    deals = resources.files("critmin.pricing").joinpath("examples/transactions_illustrative.csv")
    visit.page.set_input_files("#assess-file", str(deals))
    visit.page.fill("#assess-date", "2026-06-30")
    with visit.page.expect_navigation():
        visit.page.click("#assess-form button[type=submit]")
    visit.wait_charts()
    table = visit.page.locator("#table-reference-prices tbody tr")
    assert table.count() >= 1
    assert "published" in visit.page.inner_text("#table-reference-prices")
    visit.screenshot("prices-assessment")
    visit.assert_clean()


def test_plan_page(visit: Visit) -> None:
    visit.goto("/plan")
    visit.screenshot("plan")
    visit.assert_clean()
    assert visit.page.locator("#chart-roadmap .bars path").count() >= 1
    assert visit.page.locator("#chart-independence .scatterlayer .trace").count() == 2
    rows = _csv_rows(
        visit, visit.page.locator("#block-contributions a[download]").get_attribute("href") or ""
    )
    assert abs(sum(float(r["share_of_capex"]) for r in rows) - 1.0) < 1e-9


def test_secretariat_publishes_reference_prices_and_a_member_sees_them(visit: Visit, server: Any) -> None:
    """Task: the secretariat assesses the members' deals, reviews and publishes them; a member sees the
    published table (date, specification, band, liquidity, change, methodology link)."""
    import httpx

    # before the first release a member reads the empty state in words
    _sign_in(visit, server.tokens["member_b"])
    visit.goto("/prices/published")
    assert "No reference prices have been published yet" in visit.page.inner_text("#published-empty")
    visit.page.context.clear_cookies()

    # three members report one gallium deal each (test inputs, USD per t); the secretariat assesses them
    for account, price in (("member_a", 575.0), ("member_b", 590.0), ("member_c", 580.0)):
        deal = {"date": "2026-06-10", "material": "gallium", "stage": "refine", "tonnes": 1.0, "price": price,
                "currency": "USD", "counterparty": "Seller 1", "specification": "4N",
                "incoterm": "CIF"}  # fmt: skip
        r = httpx.post(
            f"{server.url}/api/v1/submissions",
            json={"kind": "transactions", "rows": [deal]},
            headers={"Authorization": f"Bearer {server.tokens[account]}"},
        )
        assert r.status_code == 201, r.text
    _sign_in(visit, server.tokens["secretariat"])
    visit.goto("/prices?material=copper&paths=200&years=2")
    visit.page.fill("#submitted-date", "2026-06-30")
    with visit.page.expect_navigation():
        visit.page.click("#submitted-form button[type=submit]")
    visit.wait_for("!document.getElementById('job-progress')", timeout=120_000)
    visit.page.wait_for_load_state("load")
    visit.wait_charts()
    rows = visit.page.eval_on_selector_all(
        "#table-assessed tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.dataset.sort))"
    )
    assert len(rows) == 1
    header = visit.page.eval_on_selector_all("#table-assessed th", "hs => hs.map(h => h.innerText.trim())")
    row = dict(zip(header, rows[0], strict=True))
    assert row["status"] == "published" and row["reporters"] == "3.0"
    price = float(row["price_usd_per_t"])
    assert 575.0 <= price <= 590.0  # submitted prices are per tonne
    assert float(row["band_low_usd_per_t"]) <= price <= float(row["band_high_usd_per_t"])
    visit.screenshot("prices-submitted")
    with visit.page.expect_navigation():
        visit.page.click("#publish-form button[type=submit]")
    assert visit.page.url.endswith("/prices/published")
    visit.assert_clean()

    # a member signs in and sees the release
    visit.page.context.clear_cookies()
    _sign_in(visit, server.tokens["member_b"])
    visit.goto("/prices/published")
    header = visit.page.eval_on_selector_all("#table-latest th", "hs => hs.map(h => h.innerText.trim())")
    cells = visit.page.eval_on_selector_all(
        "#table-latest tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))"
    )
    assert len(cells) == 1
    seen = dict(zip(header, cells[0], strict=True))
    assert seen["Material"] == "gallium" and seen["Specification"] == "4N" and seen["Status"] == "published"
    assert abs(float(seen["Price (USD/kg)"]) - price / 1000) < 0.001
    assert float(seen["Band low, P25 (USD/kg)"]) <= float(seen["Price (USD/kg)"])
    assert seen["Liquidity"] in ("thin", "liquid")
    assert seen["Change since last release (%)"] == "–"  # the first release has nothing to compare with
    assert "as of 2026-06-30" in visit.page.inner_text("#h-latest")
    assert visit.page.locator("#methodology-link").get_attribute("href") == "/prices/methodology"
    assert "Seller 1" not in visit.page.content()  # the deals themselves are not shown
    visit.screenshot("prices-published")
    visit.assert_clean()


def _sign_in(visit: Visit, token: str) -> None:
    visit.goto("/members")
    visit.page.fill("#token", token)
    with visit.page.expect_navigation():
        visit.page.keyboard.press("Enter")


def test_find_chinas_and_the_alliances_share_of_gallium_refining(visit: Visit) -> None:
    """Task: from the overview, open the materials page, choose gallium and read China's and the alliance's
    share of refining with its year (the library's exposure report is the oracle)."""
    from critmin.analytics.exposure import DEFAULT_GROUP, exposure_detail
    from critmin.atlas import load_atlas

    atlas = load_atlas()
    year = atlas.years_of("gallium", "refine")[-1]
    d = exposure_detail(atlas, "gallium", "refine", year=year, group=DEFAULT_GROUP)
    visit.goto("/")
    with visit.page.expect_navigation():
        visit.page.click("header nav a:has-text('Materials')")
    visit.page.select_option("#material-select", "gallium")
    with visit.page.expect_navigation():
        visit.page.click("form[aria-label='Choose a material'] button[type=submit]")
    visit.wait_charts()
    lead = visit.page.inner_text("#material-lead")
    expected = (
        f"Refining ({d['year']}): China {100 * d['china_share']:.1f}% of world output, "
        f"the alliance {100 * d['alliance_share']:.1f}%"
    )
    assert expected in lead, lead
    assert d["china_share"] > 0.9 and d["alliance_share"] < 0.1  # regression fact: China refines ~all gallium
    assert "top 3: China" in lead
    facts = _csv_rows(visit, visit.page.locator("#block-key-facts a[download]").get_attribute("href") or "")
    refine = next(r for r in facts if r["Stage"] == "refine")
    assert float(refine["China (% of world)"]) == round(100 * d["china_share"], 1)
    visit.screenshot("material-gallium")
    visit.assert_clean()
