"""Every page in headless Chromium at 1366x768 and 390x844: axe-core (served from the local
axe-playwright-python package) finds no serious or critical violation, every chart's config turns cloud
sharing, the logo and the Chart Studio link off, and a screenshot of each page at both widths is saved in
artifacts/screenshots/. A chart page transfers less than 1.5 MB with compression."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .conftest import AXE_PATH, SCREENSHOTS, Server, Visit
from .test_browser_reserve import follow_reserve_job

pytestmark = pytest.mark.browser

PUBLIC = {
    "overview": "/",
    "material": "/materials?material=gallium",
    "reserve": "/reserve?scenarios=200&seed=1",  # the form; the result page is audited signed in
    "prices": "/prices?material=copper&paths=200&years=2",
    "scenario-lab": "/scenarios",
    "members-signin": "/members",
    "methodology": "/prices/methodology",
    "stake": "/stake",
    "plan": "/plan",
}
WIDTHS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
LIMIT_BYTES = 1_500_000


def _serious(visit: Visit) -> list[dict[str, Any]]:
    visit.page.add_script_tag(url=visit.base + AXE_PATH)
    result: dict[str, Any] = visit.page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _check_charts(visit: Visit) -> int:
    configs: list[dict[str, Any]] = visit.page.eval_on_selector_all(
        ".chart",
        "ds => ds.map(d => ({id: d.id, cloud: d._context.showSendToCloud, logo: d._context.displaylogo,"
        " link: d._context.showLink, studio: d._context.showEditInChartStudio}))",
    )
    for c in configs:
        assert c["cloud"] is False and c["logo"] is False, c
        assert not c["link"] and not c["studio"], c  # options plotly.js 4 no longer has: never switched on
    # no sharing button in any toolbar, and the toolbar buttons are out of the Tab order
    assert (
        visit.page.locator(
            ".modebar-btn[data-title*='Chart Studio'], .modebar-btn[data-title*='cloud']"
        ).count()
        == 0
    )
    tabbable = visit.page.eval_on_selector_all(".modebar-btn", "bs => bs.filter(b => b.tabIndex >= 0).length")
    assert tabbable == 0
    return len(configs)


def _sign_in(visit: Visit, token: str) -> None:
    visit.goto("/members")
    visit.page.fill("#token", token)
    with visit.page.expect_navigation():
        visit.page.keyboard.press("Enter")


def _audit(visit: Visit, name: str, path: str, report: dict[str, Any]) -> None:
    for width, size in WIDTHS.items():
        visit.page.set_viewport_size(size)
        visit.goto(path)
        charts = _check_charts(visit)
        problems = _serious(visit)
        visit.page.screenshot(path=str(SCREENSHOTS / f"page-{name}-{width}.png"), full_page=False)
        report[f"{name}-{width}"] = {"charts": charts, "serious": problems}
        assert problems == [], (name, width, problems)


def test_every_public_page_passes_axe_with_cloud_sharing_off(visit: Visit, server_url: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in PUBLIC.values():
        httpx.get(server_url + path, timeout=120)  # computed and cached once by the server
    report: dict[str, Any] = {}
    for name, path in PUBLIC.items():
        _audit(visit, name, path, report)
    (SCREENSHOTS / "axe-public.json").write_text(json.dumps(report, indent=1) + "\n")
    assert sum(r["charts"] for r in report.values()) >= 20
    visit.assert_clean()


def test_every_signed_in_page_passes_axe(visit: Visit, server: Server) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {}
    _sign_in(visit, server.tokens["member_a"])
    _audit(visit, "member", f"/members/{server.ids['member_a']}", report)
    _audit(visit, "published-prices", "/prices/published", report)
    visit.goto("/scenarios")
    with visit.page.expect_navigation():
        visit.page.click("#sc-run")
    visit.wait_for("!document.getElementById('job-progress')", timeout=120_000)
    visit.page.wait_for_load_state("load")
    _audit(visit, "scenario-result", visit.page.url.removeprefix(visit.base), report)
    visit.goto("/reserve?scenarios=100&seed=5&horizon=6")
    with visit.page.expect_navigation():
        visit.page.click("#reserve-run")
    follow_reserve_job(visit)
    _audit(visit, "reserve-result", visit.page.url.removeprefix(visit.base), report)
    visit.page.context.clear_cookies()
    _sign_in(visit, server.tokens["operator"])
    _audit(visit, "reserve-operations", "/reserve/operations", report)
    _audit(visit, "reserve-positions", "/reserve/positions", report)
    (SCREENSHOTS / "axe-signed-in.json").write_text(json.dumps(report, indent=1) + "\n")
    visit.assert_clean()


def test_a_chart_page_transfers_under_1_5_mb_with_compression(visit: Visit, server_url: str) -> None:
    sizes: dict[str, int] = {}

    def finished(request: Any) -> None:
        s = request.sizes()
        sizes[request.url] = int(s["responseBodySize"]) + int(s["responseHeadersSize"])

    visit.page.on("requestfinished", finished)
    for path in ("/", "/materials?material=gallium"):
        httpx.get(server_url + path, timeout=120)
        sizes.clear()
        visit.goto(path)
        total = sum(sizes.values())
        plotly = next(v for k, v in sizes.items() if k.endswith("/vendor/plotly.min.js"))
        print(f"{path}: {total:,} bytes transferred ({len(sizes)} requests; plotly {plotly:,})")
        assert total < LIMIT_BYTES, sizes
        assert plotly < 700_000  # the gzip-encoded partial bundle
    response = httpx.get(server_url + "/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert b"plotly.js v4.1.1 partial bundle" in response.content[:300]  # httpx decodes the body
