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
    visit.page.wait_for_function("!document.getElementById('job-progress')", timeout=120_000)
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
    assert text.splitlines()[0] == "material,member,shortfall_t" and len(text.splitlines()) > 2
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
