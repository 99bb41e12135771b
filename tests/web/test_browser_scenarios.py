"""Scenario lab in headless Chromium: a restriction composed in the form runs as a job with a progress
bar and shows its price chart; a bad form value is named; a job is invisible to other accounts; the
Monte Carlo ranking runs as a job."""

from __future__ import annotations

import pytest

from .conftest import Server, Visit

pytestmark = pytest.mark.browser


def _sign_in(visit: Visit, token: str) -> None:
    visit.goto("/members")
    visit.page.fill("#token", token)
    with visit.page.expect_navigation():
        visit.page.keyboard.press("Enter")


def _wait_done(visit: Visit) -> None:
    visit.wait_for("!document.getElementById('job-progress')", timeout=120_000)
    visit.page.wait_for_load_state("load")
    visit.wait_charts()


def test_form_scenario_runs_as_a_job_and_shows_its_price_chart(visit: Visit, server: Server) -> None:
    _sign_in(visit, server.tokens["member_a"])
    visit.goto("/scenarios")
    visit.screenshot("scenario-lab")
    visit.page.select_option("#sc-material", "cobalt")
    visit.page.fill("#sc-share", "1")
    with visit.page.expect_navigation():
        visit.page.click("#sc-run")
    assert "/scenarios/jobs/" in visit.page.url
    job_url = visit.page.url
    _wait_done(visit)
    assert "Scenario" in visit.page.inner_text("h1")
    traces = visit.page.locator("#chart-prices .scatterlayer .trace")
    assert traces.count() == 2  # outside and restrictor zones
    members = visit.page.locator("#block-members a[download]").get_attribute("href") or ""
    text = visit.page.request.get(visit.base + members).text()
    import httpx

    job = httpx.get(
        f"{server.url}/api/v1/jobs/{job_url.rsplit('/', 1)[-1]}",
        headers={"Authorization": f"Bearer {server.tokens['member_a']}"},
    ).json()
    by_member = job["result"]["materials"]["cobalt"]["shortfall_by_member_t"]
    # the CSV holds exactly the engine's shortfall by member (one row per member with a shortfall)
    assert text.splitlines()[0] == "material,member,shortfall_t"
    assert len(text.splitlines()) == 1 + len(by_member)
    visit.screenshot("scenario-result")
    visit.assert_clean()

    # another member cannot see this job, and the page does not echo its id
    visit.page.context.clear_cookies()
    _sign_in(visit, server.tokens["member_b"])
    response = visit.page.goto(job_url)
    assert response.status == 404
    assert job_url.rsplit("/", 1)[-1] not in visit.page.content()


def test_bad_form_value_is_named(visit: Visit, server: Server) -> None:
    _sign_in(visit, server.tokens["member_a"])
    visit.goto("/scenarios")
    visit.page.fill("#sc-share", "1.7")
    with visit.page.expect_navigation():
        visit.page.click("#sc-run")
    error = visit.page.inner_text("#scenario-error")
    assert "share" in error and "1.7" in error
    visit.assert_clean()


def test_monte_carlo_ranking_job(visit: Visit, server: Server) -> None:
    _sign_in(visit, server.tokens["member_a"])
    visit.goto("/scenarios")
    visit.page.fill("#mc-form input[name=n_scenarios]", "300")
    with visit.page.expect_navigation():
        visit.page.click("#mc-form button[type=submit]")
    _wait_done(visit)
    ranks = visit.page.eval_on_selector_all(
        "#table-ranking tbody tr", "rows => rows.map(r => Number(r.cells[4].dataset.sort))"
    )
    assert ranks == sorted(ranks) and len(ranks) > 10
    visit.screenshot("monte-carlo")
    visit.assert_clean()


def test_run_an_export_ban_and_read_its_peak_price(visit: Visit, server: Server) -> None:
    """Task: compose China's ban on refined gallium in the form, follow the job, read the peak price, the
    ban window and the restated inputs on the result page (the job's stored result is the oracle)."""
    import httpx

    _sign_in(visit, server.tokens["member_a"])
    visit.goto("/scenarios")
    visit.page.select_option("#sc-material", "gallium")
    visit.page.select_option("#sc-stage", "refine")
    visit.page.select_option("#sc-exporter", "CHN")
    visit.page.fill("#sc-share", "1")
    visit.page.fill("#scenario-form input[name=start_month]", "2")
    visit.page.fill("#scenario-form input[name=duration_months]", "6")
    with visit.page.expect_navigation():
        visit.page.click("#sc-run")
    job_id = visit.page.url.rsplit("/", 1)[-1]
    _wait_done(visit)
    lead = visit.page.inner_text("#scenario-lead")
    job = httpx.get(
        f"{server.url}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {server.tokens['member_a']}"}
    ).json()
    outside = job["result"]["materials"]["gallium"]["price_index"]["outside"]
    peak = max(outside)
    assert peak > 1.0  # a ban raises the price outside China
    assert f"peak price outside the restricting zone {peak:.2f} x the pre-shock price" in lead, lead
    assert "restriction in months 2-7 of 24" in lead
    summary = visit.page.eval_on_selector_all(
        "#table-summary tbody tr", "rs => rs.map(r => Array.from(r.cells).map(c => c.innerText))"
    )
    assert summary[0][:2] == ["gallium", "months 2-7"]
    events = visit.page.eval_on_selector_all(
        "#table-inputs tbody tr", "rs => rs.map(r => Array.from(r.cells).map(c => c.innerText))"
    )
    assert events[0][:4] == ["export_restriction", "gallium", "CHN", "refine"]
    visit.screenshot("scenario-ban-result")
    visit.assert_clean()

    # the lab lists this run first, with its parameters
    visit.goto("/scenarios")
    first = visit.page.locator("section[aria-label='Your runs'] li").first.inner_text()
    assert "CHN refine gallium, share 1.0, months 2+6 of 24" in first, first


def test_only_valid_choices_are_offered_and_checked_before_queueing(visit: Visit, server: Server) -> None:
    """Stages follow the material; exporters are the producers of that material and stage; a forged
    exporter (DRC does not refine gallium) is refused before a job is queued; the form keeps its values."""
    import httpx

    _sign_in(visit, server.tokens["member_b"])
    visit.goto("/scenarios")
    visit.page.select_option("#sc-material", "cobalt")
    stages = visit.page.eval_on_selector_all("#sc-stage option", "os => os.map(o => o.value)")
    assert set(stages) <= {"mine", "refine"} and stages
    visit.page.select_option("#sc-stage", "mine")
    exporters = visit.page.eval_on_selector_all("#sc-exporter option", "os => os.map(o => o.value)")
    assert exporters[0] == "COD"  # the largest cobalt miner first
    visit.page.select_option("#sc-material", "gallium")
    visit.page.select_option("#sc-stage", "refine")
    # forge a choice the page does not offer
    visit.page.evaluate(
        "() => { const o = document.createElement('option'); o.value = 'COD'; o.textContent = 'COD';"
        " document.getElementById('sc-exporter').appendChild(o); }"
    )
    visit.page.select_option("#sc-exporter", "COD")
    token = {"Authorization": f"Bearer {server.tokens['member_b']}"}
    before = len(httpx.get(f"{server.url}/api/v1/jobs", headers=token).json())
    with visit.page.expect_navigation():
        visit.page.click("#sc-run")
    error = visit.page.inner_text("#scenario-error")
    assert "exporter" in error and "'COD' does not produce gallium" in error
    assert len(httpx.get(f"{server.url}/api/v1/jobs", headers=token).json()) == before  # nothing queued
    assert visit.page.input_value("#sc-material") == "gallium"
    assert visit.page.input_value("#sc-share") == "1"
    visit.assert_clean()


def test_compare_two_runs_side_by_side(visit: Visit, server: Server) -> None:
    """Two runs of one account (a 6- and a 12-month gallium ban) on one chart and one table."""
    _sign_in(visit, server.tokens["member_c"])
    for months in ("6", "12"):
        visit.goto("/scenarios")
        visit.page.select_option("#sc-material", "gallium")
        visit.page.fill("#scenario-form input[name=duration_months]", months)
        visit.page.fill("#scenario-form input[name=name]", f"ban-{months}")
        with visit.page.expect_navigation():
            visit.page.click("#sc-run")
        _wait_done(visit)
    visit.goto("/scenarios")
    picks = visit.page.locator(".compare-pick")
    assert picks.count() == 2
    picks.nth(0).check()
    picks.nth(1).check()
    with visit.page.expect_navigation():
        visit.page.click("#compare-run")
    visit.wait_charts()
    assert visit.page.locator("#chart-prices .scatterlayer .trace").count() == 2
    rows = visit.page.eval_on_selector_all(
        "#table-summary tbody tr", "rs => rs.map(r => [r.cells[0].innerText, r.cells[2].innerText])"
    )
    windows = {run.split(" (")[0]: window for run, window in rows}
    assert windows == {"ban-6": "months 0-5", "ban-12": "months 0-11"}
    assert "2 runs compared" in visit.page.inner_text("p.intro")
    visit.screenshot("scenario-compare")
    visit.assert_clean()
