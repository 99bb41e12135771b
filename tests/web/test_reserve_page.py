"""Reserve page model on the real data, built from the results of the ``stockpile`` and ``reserve_finance``
job kinds exactly as the worker computes them: budget respected, the plan's reasons, the rules, the
finances by year with bands, the headline in words, errors named."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from critmin.api.job_kinds import run_reserve_finance, run_stockpile
from critmin.parameters import ParameterSet
from critmin.vault.sizing import default_budget
from critmin.web.page import PageError
from critmin.web.render import money
from critmin.web.reserve import FINANCE_SCENARIOS, _request, finance_request, sizing_page
from critmin.web.reserve_jobs import form_page

SMALL = {"scenarios": "200", "seed": "1", "budget": "2e9", "horizon": "24"}


def _quiet(fraction: float, message: str) -> None:
    assert 0.0 <= fraction <= 1.0 and message


@cache
def _jobs(items: tuple[tuple[str, str], ...]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The sizing job's result for the form ``items`` and the finance job's result for its plan."""
    sizing = run_stockpile(_request(dict(items)), _quiet)
    fin = finance_request(sizing)
    return sizing, None if fin is None else run_reserve_finance(fin, _quiet)


def _page(params: dict[str, str]) -> Any:
    return sizing_page(*_jobs(tuple(sorted(params.items()))))


def test_plans_within_budget_and_tables_consistent() -> None:
    page = _page(SMALL)
    cmp = page.block("comparison").frame.set_index("plan")
    assert cmp.index[0] == "optimised" and len(cmp) == 4
    assert (cmp["cost_usd"] <= 2e9 * (1 + 1e-9)).all()
    optimised = page.block("optimised").frame
    assert optimised["cost_usd"].sum() == pytest.approx(cmp.loc["optimised", "cost_usd"], rel=1e-9)
    why = page.block("why").frame
    assert set(why["binding"]) <= {"cap", "budget", "benefit = carry", "carry > benefit"}
    # a material held below its cap is held only while its next dollar avoids at least its carry
    held = why[(why["tonnes"] > 0) & (why["binding"] != "cap")]
    assert (held["marginal_loss_avoided_per_usd"] >= held["carry_per_usd"] - 1e-6).all()


def test_the_finance_job_finances_exactly_the_plans_spend() -> None:
    sizing, finance = _jobs(tuple(sorted(SMALL.items())))
    request = finance_request(sizing)
    assert request is not None and finance is not None
    spent = {r["material"]: r["cost_usd"] for r in sizing["materials"] if r["cost_usd"] > 0}
    assert request.holdings_usd == spent and request.seed == 1
    assert request.n_scenarios == FINANCE_SCENARIOS == finance["request"]["n_scenarios"]
    assert sum(finance["book"]["purchase_usd"]) == pytest.approx(sum(spent.values()), rel=1e-9)


def test_zero_budget_holds_nothing_queues_no_finance_and_shows_none() -> None:
    sizing, finance = _jobs((("budget", "0"), ("scenarios", "100")))
    assert finance is None and finance_request(sizing) is None
    page = sizing_page(sizing, None)
    assert page.block("optimised").frame.empty
    assert page.block("comparison").frame["cost_usd"].abs().max() == pytest.approx(0.0, abs=1e-6)
    assert not any(b.key == "finances" for b in page.blocks)
    assert any("holds nothing" in line for line in page.context["lead"])


def test_bad_settings_are_named_and_the_form_keeps_them() -> None:
    with pytest.raises(PageError) as err:
        _request({"budget": "ninety"})
    assert err.value.status == 422 and "ninety" in str(err.value)
    page = form_page({"budget": "ninety", "seed": "4"}, None, [])
    assert "ninety" in page.context["error"] and page.context["form"]["budget"] == "ninety"
    assert page.context["form"]["seed"] == "4"


def test_the_form_holds_the_request_the_job_gets() -> None:
    page = form_page({"scenarios": "300", "seed": "7", "horizon": "36", "cvar": "0.9:0.25"}, None, [])
    form = page.context["form"]
    req = _request({"scenarios": str(form["scenarios"]), "seed": str(form["seed"]), "budget": form["budget"],
                    "horizon": str(form["horizon"]), "cvar": form["cvar"]})  # fmt: skip
    assert req.n_scenarios == 300 and req.seed == 7 and req.horizon_months == 36
    assert (req.cvar_alpha, req.cvar_weight) == (0.9, 0.25)
    assert req.budget_usd == pytest.approx(default_budget(ParameterSet()), rel=1e-12)
    assert "e+" not in form["budget"]  # the default budget written out, no 1.167e+10


def test_the_page_leads_with_the_headline_the_rules_and_the_finances() -> None:
    page = _page(SMALL)
    lead = page.context["lead"]
    assert lead[0].startswith("Over 24 months: spend ") and "net benefit" in lead[0]
    opt = page.block("comparison").frame.set_index("plan").loc["optimised"]
    assert lead[1].startswith("Optimised (stochastic LP): spends ")
    assert f"net benefit {money(opt['net_benefit_usd'])}" in lead[1]
    assert page.context["form"]["budget"] == "2000000000"  # no 2e+09 in the budget box
    assert opt["cost_usd"] > 0
    fin = page.block("finances").frame
    assert fin["year"].tolist() == list(range(16))  # the 15-year loan, year 0 first
    assert (fin["equity_p5_usd"] <= fin["equity_p50_usd"] + 1e-6).all()
    assert (fin["equity_p50_usd"] <= fin["equity_p95_usd"] + 1e-6).all()
    assert "Debt service is missed in" in lead[-1]
    # before the finance job has finished the page shows the plan and no finances block
    sizing, _ = _jobs(tuple(sorted(SMALL.items())))
    assert not any(b.key == "finances" for b in sizing_page(sizing, None).blocks)


def _job(status: str, **extra: Any) -> dict[str, Any]:
    params = _request(SMALL).model_dump(mode="json")
    return {"id": "j1", "kind": "stockpile", "status": status, "progress": 0.4, "message": "80/200 scenarios",
            "params": params, "error": None} | extra  # fmt: skip


def test_the_job_page_follows_the_job_that_is_still_running() -> None:
    from critmin.web.reserve_jobs import job_page

    running = job_page(_job("running"), None)
    assert running.context["follow"]["id"] == "j1" and running.blocks == []
    assert running.context["form"]["scenarios"] == 200 and running.context["form"]["budget"] == "2000000000"
    failed = job_page(_job("failed", error="ValueError: boom"), None)
    assert failed.context["follow"] is None and "boom" in failed.context["error"]
    sizing, finance = _jobs(tuple(sorted(SMALL.items())))
    done = _job("succeeded", result=sizing)
    fin = {"id": "f1", "kind": "reserve_finance", "status": "queued", "progress": 0.0, "message": ""}
    waiting = job_page(done, fin)
    assert waiting.context["follow"]["id"] == "f1" and not any(b.key == "finances" for b in waiting.blocks)
    assert waiting.csv_base == "/reserve/jobs/j1/download.csv"
    broken = job_page(done, fin | {"status": "failed", "error": "RuntimeError: no solver"})
    assert broken.context["follow"] is None and "no solver" in broken.context["lead"][-1]
    finished = job_page(done, fin | {"status": "succeeded", "result": finance})
    assert finished.context["follow"] is None and finished.block("finances").frame["year"].max() == 15
