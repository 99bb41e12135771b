"""The expansion MILP against exhaustive enumeration, hand-worked infeasibility, and budget monotonicity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critmin.optimize.expansion import (
    ExpansionProblem,
    Target,
    build_expansion_model,
    capacity_shortfalls,
    evaluate_schedule,
    ramp_fraction,
    solve_expansion,
)
from critmin.planning.timeline import first_year_met, independence_timeline

from .oracle import enumerate_best, first_year_by_scan, meets, project_tables

YEARS = tuple(range(2026, 2032))  # 6 years
ALLIANCE = frozenset({"USA", "AUS", "CAN"})


def five_projects(**changes: list) -> pd.DataFrame:
    data = {
        "country_iso3": ["USA", "AUS", "CAN", "MOZ", "USA"],
        "capacity_t": [100.0, 200.0, 150.0, 300.0, 50.0],
        "capex_usd": [1e8, 3e8, 2e8, 2e8, 1e7],
        "unit_opex_usd_per_t": [0.0, 1000.0, 0.0, 500.0, 0.0],
        "lead_time_years": [1.0, 2.0, 1.0, 3.0, 0.0],
        "ramp_up_years": [1.0, 0.0, 2.0, 1.0, 0.0],
        "earliest_start": [2026.0, 2026.0, 2027.0, 2026.0, 2028.0],
    }
    data.update(changes)
    return pd.DataFrame(data, index=pd.Index(list("abcde"), name="project_id"))


def problem(targets, budget=None, projects=None, demand=None, rate=0.02) -> ExpansionProblem:
    return ExpansionProblem(
        years=YEARS,
        projects=five_projects() if projects is None else projects,
        baseline=pd.Series({"CHN": 800.0, "USA": 100.0, "OTH": 100.0}),
        demand_index=pd.Series(np.linspace(1.0, 1.3, 6) if demand is None else demand, index=YEARS),
        alliance=ALLIANCE,
        targets=tuple(targets),
        budget_per_year=budget,
        discount_rate=rate,
    )


CASES = {
    "share-40%-by-2030": problem([Target("non_china_share", 0.4, 2030)]),
    "share-40%-budget-200m": problem([Target("non_china_share", 0.4, 2030)], budget=2e8),
    "share-45%-free": problem([Target("non_china_share", 0.45, 2030)]),
    "share-45%-budget-200m": problem([Target("non_china_share", 0.45, 2030)], budget=2e8),
    "share-45%-with-cap": problem(
        [Target("non_china_share", 0.45, 2030), Target("third_country_cap", 0.65, 2030)]
    ),
    "cap-only": problem([Target("third_country_cap", 0.65, 2029)], budget=2.5e8),
    "alliance-share": problem([Target("alliance_self_sufficiency", 0.6, 2030, alliance_demand_t=500.0)]),
    "tight-budget": problem([Target("non_china_share", 0.3, 2029)], budget=1.1e8, rate=0.07),
}


def test_ramp_fraction_hand_values() -> None:
    k = np.array([-1, 0, 1, 2, 3])
    assert ramp_fraction(k, 2).tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1, 1])
    assert ramp_fraction(k, 0).tolist() == [0, 1, 1, 1, 1]


@pytest.mark.parametrize("name", sorted(CASES))
def test_milp_matches_exhaustive_enumeration(name: str) -> None:
    prob = CASES[name]
    best_cost, _ = enumerate_best(prob)
    res = solve_expansion(prob)
    if best_cost is None:
        assert not res.feasible
        assert res.explanation.startswith("infeasible")
        return
    assert res.feasible, res.explanation
    assert res.solve.objective == pytest.approx(best_cost, rel=1e-7, abs=1e-3)
    # the MILP's schedule itself meets every target when checked by the oracle's own arithmetic
    out, _, _, _ = project_tables(prob)
    starts = res.schedule.set_index("project_id")["start_year"]
    o = np.zeros((len(prob.projects), len(YEARS)))
    for i, pid in enumerate(prob.projects.index):
        if pid in starts.index:
            o[i] = out[i, YEARS.index(int(starts[pid]))]
    b = prob.baseline.sum()
    d = b * prob.demand_index.to_numpy()
    assert meets(prob, o, prob.projects["country_iso3"].tolist(), prob.baseline, b, d, np.asarray(YEARS))


def test_enumeration_cases_cover_feasible_and_binding_budget() -> None:
    # the suite is only meaningful if budgets bind somewhere: the budgeted optimum costs more
    free, _ = enumerate_best(CASES["share-45%-free"])
    tight, _ = enumerate_best(CASES["share-45%-budget-200m"])
    assert free is not None and tight is not None and tight > free


@pytest.mark.parametrize("seed", range(4))
def test_random_instances_match_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    projects = five_projects(
        capacity_t=list(rng.uniform(50, 300, 5)),
        capex_usd=list(rng.uniform(5e7, 4e8, 5)),
        lead_time_years=list(rng.integers(0, 4, 5).astype(float)),
        ramp_up_years=list(rng.integers(0, 3, 5).astype(float)),
        earliest_start=list(rng.integers(2026, 2029, 5).astype(float)),
    )
    prob = problem(
        [Target("non_china_share", float(rng.uniform(0.25, 0.45)), int(rng.integers(2028, 2032)))],
        budget=float(rng.uniform(1e8, 4e8)),
        projects=projects,
    )
    best_cost, _ = enumerate_best(prob)
    res = solve_expansion(prob)
    assert res.feasible == (best_cost is not None)
    if best_cost is not None:
        assert res.solve.objective == pytest.approx(best_cost, rel=1e-7, abs=1e-3)


def test_impossible_target_is_explained_with_the_hand_worked_shortfall() -> None:
    # target 40% from 2027: only project a (100 t, lead 1, ramp 1) can produce in 2027, at half capacity.
    # view (a): need 0.4*(1000+50) - (200+50) = 170 of share slack, i.e. 170/(1-0.4) = 283.3 t more.
    prob = problem([Target("non_china_share", 0.4, 2027)])
    res = solve_expansion(prob)
    assert not res.feasible
    assert res.solve.condition == "infeasible"
    assert "2027" in res.explanation and "short by 283 t" in res.explanation
    assert "non-China share of supply >= 40% from 2027" in res.explanation
    short = res.shortfalls
    assert set(short["year"]) == {2027}
    assert short["shortfall_t"].max() == pytest.approx(170 / 0.6)


def test_budget_infeasibility_names_the_budget() -> None:
    res = solve_expansion(problem([Target("non_china_share", 0.4, 2030)], budget=5e7))
    assert not res.feasible
    assert "within a budget of 50,000,000 USD a year" in res.explanation
    assert capacity_shortfalls(res.problem).empty


def test_model_is_built_apart_from_solved_and_hook_runs() -> None:
    prob = CASES["share-40%-by-2030"]
    model = build_expansion_model(prob)
    assert model.status == "initialized"
    names = set(model.constraints)
    assert {"start_once", "t0_nonchina_a", "t0_nonchina_b"} <= names
    seen = []

    def hook(m) -> None:
        seen.append(len(m.constraints))
        # forbid project d: the optimum must then cost at least as much as before
        m.add_constraints(m.variables["x"].sel(project="d").sum() == 0, name="no_d")

    base = solve_expansion(prob)
    hooked = solve_expansion(prob, hook=hook)
    assert seen and hooked.feasible
    assert "d" not in set(hooked.schedule["project_id"])
    assert hooked.solve.objective >= base.solve.objective - 1e-6


def test_timeline_bisection_matches_linear_scan() -> None:
    prob = problem([Target("non_china_share", 0.4, 2031)], budget=2e8)
    year, cost = first_year_met(prob, 2e8)
    assert year == first_year_by_scan(prob)
    assert cost == pytest.approx(enumerate_best(prob.with_target_year(year))[0], rel=1e-7)


def test_timeline_curve_never_later_with_more_budget_and_compares_with_experts() -> None:
    prob = problem([Target("non_china_share", 0.4, 2031)])
    curve = independence_timeline(prob, [5e7, 1e8, 2e8, 1e9])
    years = [np.inf if y is None or pd.isna(y) else y for y in curve["first_year"]]
    assert years == sorted(years, reverse=True)
    assert years[0] == np.inf and years[-1] < np.inf
    assert set(curve.columns) >= {"within_expert_10_20y", "years_from_start"}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    caps=st.lists(st.floats(20, 300), min_size=3, max_size=3),
    capex=st.lists(st.floats(2e7, 4e8), min_size=3, max_size=3),
    leads=st.lists(st.integers(0, 3), min_size=3, max_size=3),
    share=st.floats(0.22, 0.5),
    b1=st.floats(3e7, 4e8),
    factor=st.floats(1.0, 5.0),
)
def test_raising_the_budget_never_delays_the_first_year(caps, capex, leads, share, b1, factor) -> None:
    projects = pd.DataFrame(
        {
            "country_iso3": ["USA", "AUS", "CAN"],
            "capacity_t": caps,
            "capex_usd": capex,
            "unit_opex_usd_per_t": [0.0, 0.0, 0.0],
            "lead_time_years": [float(x) for x in leads],
            "ramp_up_years": [1.0, 1.0, 1.0],
            "earliest_start": [2026.0, 2026.0, 2026.0],
        },
        index=pd.Index(["p", "q", "r"], name="project_id"),
    )
    prob = problem([Target("non_china_share", share, 2031)], projects=projects)
    y1, _ = first_year_met(prob, b1)
    y2, _ = first_year_met(prob, b1 * factor)
    first1 = np.inf if y1 is None else y1
    first2 = np.inf if y2 is None else y2
    assert first2 <= first1


def test_phase1_proves_budget_infeasibility_without_the_milp(monkeypatch) -> None:
    import critmin.optimize.expansion as ex

    monkeypatch.setattr(ex, "PHASE1_PAIRS", 0)
    res = solve_expansion(problem([Target("non_china_share", 0.4, 2030)], budget=5e7))
    assert not res.feasible and res.solve.condition == "infeasible"
    assert "within a budget of 50,000,000 USD a year" in res.explanation
    assert "closest plan is still short by" in res.explanation
    assert res.shortfalls["shortfall_t"].gt(0).all() and res.shortfalls["year"].min() >= 2030
    # phase 1 agrees with the enumeration on every hand-made case
    for case in CASES.values():
        assert solve_expansion(case).feasible == (enumerate_best(case)[0] is not None)
    # a feasible instance goes through the pre-check to the same optimum as the enumeration
    ok = solve_expansion(CASES["share-45%-budget-200m"])
    assert ok.solve.objective == pytest.approx(enumerate_best(CASES["share-45%-budget-200m"])[0], rel=1e-7)


def test_scaled_up_real_pipeline_milp_between_lp_bound_and_greedy() -> None:
    """Fast version of benchmarks/bench_expansion.py: 40 resampled real lithium projects x 20 years."""
    from critmin.atlas import load_atlas
    from critmin.optimize.common import solve
    from critmin.parameters import ParameterSet
    from critmin.planning.pipeline import build_pipeline
    from critmin.planning.plan import PlanRequest, atlas_baseline, make_problem
    from critmin.planning.scaleup import greedy_plan, resample_projects

    req = PlanRequest(
        material="lithium",
        stage="refine",
        target=0.33,
        by=2032,
        budget_per_year=1.5e9,
        third_country_cap=False,
        scenario="flat",
    )
    real, _, _ = make_problem(
        req,
        build_pipeline(),
        atlas_baseline("lithium", "refine"),
        load_atlas().groups["ministerial-2026"],
        ParameterSet(),
    )
    big = resample_projects(real, 40, seed=7)
    assert len(big.projects) == 40 and big.projects.index.str.contains("#").all()
    res = solve_expansion(big, mip_rel_gap=0.01)
    assert res.feasible, res.explanation
    lp = solve(build_expansion_model(big, relax=True)).objective
    greedy_cost, greedy_starts = greedy_plan(big)
    assert lp is not None and res.solve.objective >= lp * (1 - 1e-9)
    assert greedy_cost is not None and res.solve.objective <= greedy_cost * 1.01 + 1e-6
    # the greedy plan is itself feasible when checked independently
    supply = evaluate_schedule(big, greedy_starts)
    assert (
        (supply.loc[supply["year"] >= 2032, ["non_china_share_a", "non_china_share_b"]] >= 0.33 - 1e-9)
        .all()
        .all()
    )
    assert (supply["capex_usd"] <= 1.5e9 + 1e-3).all()
