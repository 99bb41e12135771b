"""Reserve sizing page on the real data: budgets respected, tables consistent, inputs aligned, errors."""

from __future__ import annotations

import pytest

from critmin.web.page import PageError
from critmin.web.reserve import build_reserve, reserve_page

SMALL = {"scenarios": "200", "seed": "1", "budget": "2e9"}


def test_plans_within_budget_and_tables_consistent() -> None:
    page = build_reserve(SMALL)
    cmp = page.block("comparison").frame.set_index("plan")
    assert list(cmp.index) == ["optimised", "iea-net-imports", "japan-consumption"]
    assert (cmp["cost_usd"] <= 2e9 * (1 + 1e-9)).all()
    optimised = page.block("optimised").frame
    assert optimised["cost_usd"].sum() == pytest.approx(cmp.loc["optimised", "cost_usd"], rel=1e-9)
    assert (optimised["tonnes"] > 0).all()
    holdings = page.block("holdings").frame
    assert set(holdings["plan"]) == set(cmp.index)
    inputs = page.block("inputs").frame
    lp_cols = ["loss_per_tonne_usd", "price_usd_per_t", "max_holding_t", "carry_rate_per_year"]
    assert not inputs[lp_cols].isna().any().any()
    assert set(optimised["material"]) <= set(inputs["material"])
    # holdings never exceed the caps the LP was given
    caps = inputs.set_index("material")["max_holding_t"]
    assert (
        optimised.set_index("material")["tonnes"] <= caps.reindex(optimised["material"]) * (1 + 1e-9)
    ).all()


def test_zero_budget_holds_nothing() -> None:
    page = reserve_page({"scenarios": "100", "budget": "0"})
    assert page.block("optimised").frame.empty
    assert page.block("comparison").frame["cost_usd"].abs().max() == pytest.approx(0.0, abs=1e-6)


def test_bad_settings_are_named() -> None:
    with pytest.raises(PageError) as err:
        reserve_page({"scenarios": "100", "cvar": "ninety"})
    assert err.value.status == 422 and "ninety" in str(err.value)
    with pytest.raises(PageError):
        reserve_page({"scenarios": "10"})


def test_the_page_leads_with_each_plans_spend_loss_avoided_and_net_benefit() -> None:
    from critmin.web.render import money

    page = build_reserve(SMALL)
    cmp = page.block("comparison").frame.set_index("plan")
    lead = page.context["lead"]
    assert len(lead) == 3 and lead[0].startswith("Optimised (stochastic LP): spends ")
    opt = cmp.loc["optimised"]
    assert f"net benefit {money(opt['net_benefit_usd'])}" in lead[0]
    assert f"avoids an expected {money(opt['expected_loss_avoided_usd'])} of loss" in lead[0]
    # net benefit = loss avoided - carry (the stock bought keeps its value; the identity the words rest on)
    assert opt["net_benefit_usd"] == pytest.approx(
        opt["expected_loss_avoided_usd"] - opt["carry_usd"], rel=1e-9
    )
    assert page.context["form"]["budget"] == "2000000000"  # no 2e+09 in the budget box
    bars = page.block("comparison").figure["data"][0]  # type: ignore[index]
    assert bars["y"][0] == pytest.approx(opt["net_benefit_usd"] / 1e9)
    assert money(11_670_000_000.0) == "USD 11.67 bn" and money(-682_193_900.0) == "-USD 682 m"
