"""The horizon reserve LP: a one-material, two-scenario problem solved by hand, its duals, zero budget,
CVaR weight 0 = risk neutral, and equivalence with the single-period linopy model on the same data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from critmin.optimize.reserve_lp import (
    Episodes,
    Formulation,
    ReserveProblem,
    build_segments,
    evaluate_fixed,
    marginal_avoided,
    solve_reserve,
)
from critmin.optimize.stockpile import (
    StockpileConfig,
    StockpileInputs,
    shortfall_array,
    size_stockpile,
)


def _hand(budget: float = 1000.0, cap: float = 8.0, **kw: float) -> ReserveProblem:
    # one material (price 10, carry 1 per tonne); two equally likely scenarios with episodes of 5 and 12
    # tonnes, each tonne released avoiding 4 USD
    return ReserveProblem(
        materials=["gallium"],
        price_usd_per_t=np.array([10.0]),
        cap_t=np.array([cap]),
        carry_usd_per_t=np.array([1.0]),
        episodes=Episodes(np.array([0, 1]), np.array([0, 0]), np.array([5.0, 12.0]), np.array([4.0, 4.0]), 2),
        budget_usd=budget,
        **kw,  # type: ignore[arg-type]
    )


FORMS = ["episodes", "segments"]


@pytest.mark.parametrize("form", FORMS)
def test_hand_worked_plan_stops_at_the_cap(form: Formulation) -> None:
    """Per tonne held: 0.5*4 + 0.5*4 = 4 avoided up to 5 t, then 2 up to 12 t; carry 1 < 2, so hold the
    cap of 8 t: objective 8 - 0.5*4*5 - 0.5*4*8 = -18; the budget (80 of 1000 USD) does not bind."""
    sol = solve_reserve(_hand(), form)
    assert sol.status == "Optimal"
    assert sol.holdings_t["gallium"] == pytest.approx(8.0)
    assert sol.releases_t.tolist() == pytest.approx([5.0, 8.0])
    assert sol.objective_usd == pytest.approx(-18.0)
    assert sol.budget_dual == pytest.approx(0.0)
    assert sol.marginal_avoided_usd_per_t["gallium"] == pytest.approx(2.0)  # only scenario 1 still binds


@pytest.mark.parametrize("form", FORMS)
def test_a_binding_budget_has_the_hand_worked_dual(form: Formulation) -> None:
    """Budget 60 USD buys 6 t: the next USD buys 0.1 t worth 2 - 1 = 1 net per tonne -> dual 0.1."""
    sol = solve_reserve(_hand(budget=60.0), form)
    assert sol.holdings_t["gallium"] == pytest.approx(6.0)
    assert sol.budget_dual == pytest.approx(0.1)


@pytest.mark.parametrize("form", FORMS)
def test_zero_budget_holds_nothing(form: Formulation) -> None:
    sol = solve_reserve(_hand(budget=0.0), form)
    assert sol.holdings_t["gallium"] == pytest.approx(0.0, abs=1e-9)
    assert evaluate_fixed(_hand(), np.zeros(1))["expected_loss_avoided_usd"] == 0.0


def test_cvar_weight_zero_is_the_risk_neutral_plan() -> None:
    neutral = solve_reserve(_hand())
    with_cvar = solve_reserve(_hand(cvar_alpha=0.9, cvar_weight=0.0))
    assert with_cvar.holdings_t["gallium"] == pytest.approx(neutral.holdings_t["gallium"])
    assert with_cvar.objective_usd == pytest.approx(neutral.objective_usd)
    averse = solve_reserve(_hand(cap=20.0, cvar_alpha=0.5, cvar_weight=1.0))
    assert averse.holdings_t["gallium"] >= neutral.holdings_t["gallium"] - 1e-9


def test_fixed_evaluation_matches_the_lp_objective() -> None:
    pr = _hand()
    sol = solve_reserve(pr)
    ev = evaluate_fixed(pr, sol.holdings_t.to_numpy())
    assert -ev["net_benefit_usd"] == pytest.approx(sol.objective_usd)


def test_twelve_months_reproduce_the_single_period_model() -> None:
    """Episodes built from the single-period model's data (gap = shortfall over the horizon, value = its
    loss per tonne, no discounting) give the linopy model's holdings and objective."""
    rng = np.random.default_rng(3)
    s, m, t = 40, 3, 12
    short = np.where(rng.random((s, m, t)) < 0.15, rng.uniform(1, 20, (s, m, t)), 0.0)
    mats = ["cobalt", "gallium", "tungsten"]
    loss = np.array([3e3, 8e4, 1e4])
    price = np.array([3e4, 5e5, 4e4])
    rate, cap, budget = np.array([0.08, 0.1, 0.09]), np.array([60.0, 15.0, 80.0]), 4e6
    old = size_stockpile(
        StockpileInputs(
            shortfall_t=shortfall_array(short, mats),
            loss_per_tonne_usd=pd.Series(loss, index=mats),
            price_usd_per_t=pd.Series(price, index=mats),
            max_holding_t=pd.Series(cap, index=mats),
            carry_rate_per_year=pd.Series(rate, index=mats),
        ),
        StockpileConfig(budget_usd=budget),
    )
    gap = short.sum(axis=2)
    si, mi = np.nonzero(gap > 0)
    new = solve_reserve(
        ReserveProblem(
            mats, price, cap, price * rate * t / 12, Episodes(si, mi, gap[si, mi], loss[mi], s), budget
        )
    )
    old_x = old.table.set_index("material")["tonnes"].reindex(mats).to_numpy()
    assert new.holdings_t.to_numpy() == pytest.approx(old_x, rel=1e-6, abs=1e-6)
    assert new.objective_usd == pytest.approx(old.solve.objective, rel=1e-6)


def test_bad_problems_are_refused_with_the_field() -> None:
    with pytest.raises(ValueError, match="gap_t must be finite and > 0"):
        Episodes(np.array([0]), np.array([0]), np.array([0.0]), np.array([1.0]), 1)
    with pytest.raises(ValueError, match="budget"):
        _hand(budget=float("nan"))
    with pytest.raises(ValueError, match="cvar_alpha"):
        _hand(cvar_alpha=1.0)


def _random(seed: int, s: int = 300, m: int = 5, budget: float = 2e5) -> ReserveProblem:
    """Random episodes with ties in the gaps, some zero values, caps and a budget that may bind."""
    rng = np.random.default_rng(seed)
    si, mi = np.nonzero(rng.random((s, m)) < 0.3)
    gap = np.round(rng.exponential(20.0, si.size), 0) + 1.0  # integers: many ties
    value = np.where(rng.random(si.size) < 0.1, 0.0, rng.uniform(50, 5000, si.size))
    price = rng.uniform(100, 1000, m)
    return ReserveProblem(
        materials=[f"m{i}" for i in range(m)],
        price_usd_per_t=price,
        cap_t=rng.uniform(5, 60, m),
        carry_usd_per_t=price * rng.uniform(0.02, 0.3, m),
        episodes=Episodes(si, mi, gap, value, s),
        budget_usd=budget,
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("budget", [0.0, 5e3, 2e4, 1e9])
def test_segments_reach_the_episode_lp_optimum(seed: int, budget: float) -> None:
    """The risk-neutral segments form (one row per material) = the episode LP (one row per episode):
    objective to 1e-9, the same holdings' value, the same budget dual; the releases are the best ones."""
    pr = _random(seed, budget=budget)
    full, seg = solve_reserve(pr, "episodes"), solve_reserve(pr, "segments")
    assert full.status == seg.status == "Optimal"
    assert seg.objective_usd == pytest.approx(full.objective_usd, rel=1e-9, abs=1e-6)
    # holdings may differ only where the optimum is not unique; their value may not
    ev_full = evaluate_fixed(pr, full.holdings_t.to_numpy())
    ev_seg = evaluate_fixed(pr, seg.holdings_t.to_numpy())
    assert -ev_seg["net_benefit_usd"] == pytest.approx(seg.objective_usd, rel=1e-9, abs=1e-6)
    assert ev_seg["net_benefit_usd"] == pytest.approx(ev_full["net_benefit_usd"], rel=1e-9, abs=1e-6)
    assert ev_seg["cost_usd"] <= budget * (1 + 1e-9) + 1e-9
    assert seg.budget_dual == pytest.approx(full.budget_dual, rel=1e-6, abs=1e-9)
    x = seg.holdings_t.to_numpy()
    assert np.all(x <= pr.cap_t + 1e-9)
    assert seg.releases_t == pytest.approx(np.minimum(x[pr.episodes.material], pr.episodes.gap_t))


def test_the_marginal_is_one_more_tonne() -> None:
    """The reported marginal loss avoided = (avoided at x + 1e-3 t - avoided at x) / 1e-3 t, material by
    material (the right derivative), in both forms."""
    pr = _random(11, budget=3e4)
    for form in FORMS:
        sol = solve_reserve(pr, form)  # type: ignore[arg-type]
        x = sol.holdings_t.to_numpy()
        base = evaluate_fixed(pr, x)["expected_loss_avoided_usd"]
        for j in range(len(pr.materials)):
            bumped = x.copy()
            bumped[j] += 1e-3
            step = (evaluate_fixed(pr, bumped)["expected_loss_avoided_usd"] - base) / 1e-3
            assert sol.marginal_avoided_usd_per_t.iloc[j] == pytest.approx(step, rel=1e-6, abs=1e-6)
    assert marginal_avoided(pr, np.zeros(5)) == pytest.approx(
        np.bincount(pr.episodes.material, weights=pr.episodes.value_per_t / 300, minlength=5)
    )


def test_segments_are_the_sorted_gaps_with_their_tail_values() -> None:
    """Hand example: gaps 5, 5, 12 (values 4, 2, 6; 2 scenarios): segments [0, 5] worth (4+2+6)/2 = 6 and
    [5, 12] worth 6/2 = 3 per tonne; the empty segment of the tie is dropped; with carry 3 the second is
    worth no more than its carry and is dropped too."""
    gaps, values = np.array([12.0, 5.0, 5.0]), np.array([6.0, 4.0, 2.0])
    ep = Episodes(np.array([0, 1, 1]), np.array([0, 0, 0]), gaps, values, 2)
    pr = ReserveProblem(["ga"], np.array([10.0]), np.array([100.0]), np.array([1.0]), ep, 1e6)
    seg, _ = build_segments(pr)
    assert seg.length_t.tolist() == [5.0, 7.0]
    assert seg.value.tolist() == [6.0, 3.0]
    dear = ReserveProblem(["ga"], np.array([10.0]), np.array([100.0]), np.array([3.0]), ep, 1e6)
    assert build_segments(dear)[0].length_t.tolist() == [5.0]
    capped = ReserveProblem(["ga"], np.array([10.0]), np.array([4.0]), np.array([1.0]), ep, 1e6)
    assert build_segments(capped)[0].length_t.tolist() == [5.0]  # [5, 12] starts above the cap of 4


def test_segments_refuse_a_cvar_term() -> None:
    with pytest.raises(ValueError, match="risk-neutral"):
        solve_reserve(_hand(cvar_alpha=0.9, cvar_weight=0.5), "segments")
    with pytest.raises(ValueError, match="formulation"):
        solve_reserve(_hand(), "dense")  # type: ignore[arg-type]
    weight_zero = solve_reserve(_hand(cvar_alpha=0.9, cvar_weight=0.0), "segments")
    assert weight_zero.objective_usd == pytest.approx(-18.0)


def test_materials_without_episodes_hold_nothing_in_either_form() -> None:
    """The first and a middle material have no episode (no segment): both forms agree and hold none."""
    base = _random(4, m=5, budget=2e4)
    ep = base.episodes
    mat = ep.material.copy()
    keep = (mat != 0) & (mat != 2)
    episodes = Episodes(ep.scenario[keep], mat[keep], ep.gap_t[keep], ep.value_per_t[keep], ep.n_scenarios)
    pr = dataclasses.replace(base, episodes=episodes)
    full, seg = solve_reserve(pr, "episodes"), solve_reserve(pr, "segments")
    assert seg.objective_usd == pytest.approx(full.objective_usd, rel=1e-9)
    assert seg.holdings_t.iloc[[0, 2]].tolist() == pytest.approx([0.0, 0.0], abs=1e-9)
    assert seg.holdings_t.iloc[[1, 3, 4]].sum() > 0
