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


def follow_reserve_job(visit: Visit, timeout_s: float = 240) -> list[tuple[str, float]]:
    """Poll the job page (through ``evaluate``, the CSP stays on) until the plan and its finances are shown;
    returns every (progress label, bar value) seen on the way."""
    import time

    from playwright.sync_api import Error

    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + timeout_s
    probe = ("() => { const b = document.getElementById('job-bar'); const l = document.querySelector("
             "'#job-progress label'); return [b ? b.value : null, l ? l.innerText : '', "
             "!!document.getElementById('chart-finances')]; }")  # fmt: skip
    while time.monotonic() < deadline:
        try:
            value, label, done = visit.page.evaluate(probe)
        except Error:  # the page reloads itself when a job has finished
            visit.page.wait_for_timeout(100)
            continue
        if value is not None:
            if not seen:
                visit.screenshot("reserve-job-progress")
            seen.append((label, float(value)))
        if done and value is None:
            visit.page.wait_for_load_state("load")
            visit.wait_charts()
            return seen
        visit.page.wait_for_timeout(100)
    raise TimeoutError(f"the reserve job page did not finish in {timeout_s} s; seen {seen[-3:]}")


def test_reserve_sizing_runs_as_a_job_with_progress_then_the_result(visit: Visit, server: Server) -> None:
    """Task: a member sizes the reserve in the form; the page shows the job's progress, then the plan
    beside the rules, then the finances; every block and the PDF brief download."""
    visit.goto("/reserve?scenarios=200&seed=3&horizon=12")
    assert "sign in" in visit.page.inner_text("#reserve-lead").lower()
    _sign_in(visit, server.tokens["member_b"])
    visit.goto("/reserve?scenarios=200&seed=3&horizon=12")
    assert visit.page.input_value("input[name=scenarios]") == "200"
    with visit.page.expect_navigation():
        visit.page.click("#reserve-run")
    assert "/reserve/jobs/" in visit.page.url
    seen = follow_reserve_job(visit)
    labels = {label.split(" (")[0] for label, _ in seen}
    assert "Sizing the reserve" in labels, seen  # the sizing job's progress was shown while it ran
    assert (
        "Running the Vault's finances for this plan" in labels
        or visit.page.locator("#chart-finances").count()
    )
    visit.screenshot("reserve-job-result")
    assert visit.page.locator("#table-optimised tbody tr").count() >= 1
    assert visit.page.locator("#chart-comparison .bars path").count() == 4  # optimised + IEA, Japan, NDS
    lead = visit.page.inner_text("#reserve-lead")
    assert (
        lead.startswith("Over 12 months: spend")
        and "net benefit" in lead
        and "Debt service is missed in" in lead
    )
    assert visit.page.input_value("input[name=seed]") == "3"  # the form holds the run's settings
    links = visit.page.eval_on_selector_all("a[download]", "as => as.map(a => a.getAttribute('href'))")
    blocks = {"comparison", "optimised", "why", "finances"}
    assert {h.split("block=")[1].split("&")[0] for h in links if "download.csv" in h} == blocks
    for href in links:
        r = visit.page.request.get(visit.base + href)
        assert r.status == 200 and r.headers["content-type"].startswith("text/csv"), href
        assert len(r.text().splitlines()) >= 2, href
    pdf = visit.page.request.get(visit.base + (visit.page.get_attribute("#reserve-brief", "href") or ""))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-")
    visit.assert_clean()


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
    # other tests of this server hold reserves of their own: read this reserve's rows
    inventory = visit.page.eval_on_selector_all(
        "#table-inventory tbody tr",
        f"rs => rs.filter(r => r.cells[0].innerText === '{rid}').map(r => r.cells[2].innerText)",
    )
    assert inventory == ["7"]  # 12 - 5
    assert "d1" in visit.page.inner_text("#table-draws")
    ops = visit.page.eval_on_selector_all(
        "#table-ledger tbody tr",
        f"rs => rs.filter(r => r.cells[0].innerText === '{rid}').map(r => r.cells[3].innerText)",
    )
    assert ops == ["open", "register", "subscribe", "acquire", "draw"]
    href = visit.page.locator("#block-inventory a[download]").get_attribute("href") or ""
    lines = visit.page.request.get(visit.base + href).text().splitlines()
    assert lines[0] == "reserve_id,material,tonnes,cost_of_stock_usd"
    assert [line.split(",")[1:3] for line in lines[1:] if line.split(",")[0] == str(rid)] == [
        ["gallium", "7.0"]
    ]


def _record(visit: Visit, op: str, values: dict[str, str]) -> None:
    """Open the form of ``op``, fill it and submit it (through the page only)."""
    visit.page.locator(f"#op-forms details:has(#op-{op}) summary").click()
    for name, value in values.items():
        field = visit.page.locator(f"#op-{op}-{name.replace('.', '-')}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with visit.page.expect_navigation():
        visit.page.click(f"#op-{op} button[type=submit]")


def test_operator_records_a_draw_and_sees_it_in_the_ledger(visit: Visit, server: Server) -> None:
    """Task: the operator opens a reserve, registers and subscribes a manufacturer, buys stock and records a
    draw, all in the forms; the draw is in the ledger and the inventory falls by the tonnes drawn."""
    _sign_in(visit, server.tokens["operator"])
    visit.goto("/reserve/operations")
    _record(visit, "create", {"name": "UI reserve"})
    assert "UI reserve" in visit.page.inner_text("#op-done")
    rid = visit.page.eval_on_selector_all(
        "#table-reserves tbody tr",
        "rs => rs.filter(r => r.cells[1].innerText === 'UI reserve').map(r => r.cells[0].innerText)",
    )[0]
    day = {"reserve_id": rid, "on": "2026-02-02"}
    _record(visit, "open", day)
    _record(visit, "register", {**day, "participant.id": "ui-m", "participant.kind": "manufacturer",
                                "participant.name": "UI magnets"})  # fmt: skip
    _record(visit, "subscribe", {**day, "subscription_id": "ui-s", "participant_id": "ui-m",
                                 "material": "gallium", "quantity_t": "50", "preset_price_usd_per_t": "900",
                                 "upfront_fee_usd": "0"})  # fmt: skip
    _record(visit, "acquire", {**day, "material": "gallium", "tonnes": "20", "price_usd_per_t": "900"})
    # a draw above the stock is refused with the rule's reason, and the form keeps what was typed
    _record(visit, "draw", {**day, "draw_id": "ui-d", "subscription_id": "ui-s", "tonnes": "500",
                            "due": "2026-05-01"})  # fmt: skip
    assert "Not recorded" in visit.page.inner_text("#op-error")
    assert visit.page.input_value("#op-draw-tonnes") == "500"
    assert visit.page.input_value("#op-draw-draw_id") == "ui-d"
    visit.page.fill("#op-draw-tonnes", "6")
    with visit.page.expect_navigation():
        visit.page.click("#op-draw button[type=submit]")
    assert "draw recorded" in visit.page.inner_text("#op-done")
    ledger = visit.page.eval_on_selector_all(
        "#table-ledger tbody tr",
        f"rs => rs.filter(r => r.cells[0].innerText === '{rid}').map(r => [r.cells[3].innerText,"
        " r.cells[5].innerText])",
    )
    assert [op for op, _ in ledger] == ["open", "register", "subscribe", "acquire", "draw"]
    assert '"tonnes": 6.0' in ledger[-1][1] and '"due": "2026-05-01"' in ledger[-1][1]
    inventory = visit.page.eval_on_selector_all(
        "#table-inventory tbody tr",
        f"rs => rs.filter(r => r.cells[0].innerText === '{rid}').map(r => r.cells[2].innerText)",
    )
    assert inventory == ["14"]  # 20 bought - 6 drawn
    visit.screenshot("reserve-operations-draw")
    visit.errors.clear()  # the refused draw answered 422, which Chromium logs as a failed load
