"""Reserve page on the real data (critmin.runs.reserve + reserve_finance): budget respected, the plan's
reasons, the rules, the finances by year with bands, the headline in words, errors."""

from __future__ import annotations

import pytest

from critmin.web.page import PageError
from critmin.web.render import money
from critmin.web.reserve import build_reserve, reserve_page

SMALL = {"scenarios": "200", "seed": "1", "budget": "2e9", "horizon": "24"}


def test_plans_within_budget_and_tables_consistent() -> None:
    page = build_reserve(SMALL)
    cmp = page.block("comparison").frame.set_index("plan")
    assert cmp.index[0] == "optimised" and len(cmp) == 4
    assert (cmp["cost_usd"] <= 2e9 * (1 + 1e-9)).all()
    optimised = page.block("optimised").frame
    assert optimised["cost_usd"].sum() == pytest.approx(cmp.loc["optimised", "cost_usd"], rel=1e-9)
    why = page.block("why").frame
    assert set(why["binding"]) <= {
        "cap",
        "budget",
        "benefit = carry",
        "carry > benefit",
    }
    # a material held below its cap is held only while its next dollar avoids at least its carry
    held = why[(why["tonnes"] > 0) & (why["binding"] != "cap")]
    assert (held["marginal_loss_avoided_per_usd"] >= held["carry_per_usd"] - 1e-6).all()


def test_zero_budget_holds_nothing_and_shows_no_finances() -> None:
    page = reserve_page({"scenarios": "100", "budget": "0"})
    assert page.block("optimised").frame.empty
    assert page.block("comparison").frame["cost_usd"].abs().max() == pytest.approx(0.0, abs=1e-6)
    assert not any(b.key == "finances" for b in page.blocks)
    assert any("holds nothing" in line for line in page.context["lead"])


def test_bad_settings_are_named() -> None:
    with pytest.raises(PageError) as err:
        reserve_page({"budget": "ninety"})
    assert err.value.status == 422 and "ninety" in str(err.value)


def test_the_page_leads_with_the_headline_the_rules_and_the_finances() -> None:
    page = build_reserve(SMALL)
    lead = page.context["lead"]
    assert lead[0].startswith("Over 24 months: spend ") and "net benefit" in lead[0]
    opt = page.block("comparison").frame.set_index("plan").loc["optimised"]
    assert lead[1].startswith("Optimised (stochastic LP): spends ")
    assert f"net benefit {money(opt['net_benefit_usd'])}" in lead[1]
    assert page.context["form"]["budget"] == "2000000000"  # no 2e+09 in the budget box
    if opt["cost_usd"] > 0:
        fin = page.block("finances").frame
        assert fin["year"].tolist() == list(range(16))  # the 15-year loan, year 0 first
        assert (fin["equity_p5_usd"] <= fin["equity_p50_usd"] + 1e-6).all()
        assert (fin["equity_p50_usd"] <= fin["equity_p95_usd"] + 1e-6).all()
        assert "Debt service is missed in" in lead[-1]
