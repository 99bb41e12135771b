"""Plans on the real atlas and pipeline: sources and default flags, infeasibility, demand growth, burden."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from critmin.optimize.expansion import ExpansionProblem, Target
from critmin.planning.burden import funding_shares, share_burden
from critmin.planning.plan import PlanRequest, demand_index, run_plan
from critmin.planning.timeline import EXPERT_RANGE_YEARS

REE = {"material": "magnet-rare-earths", "stage": "refine"}


@pytest.fixture(scope="module")
def ree_plan():
    return run_plan(PlanRequest(**REE, target=0.12, by=2030, budget_per_year=2e8, third_country_cap=False))


def test_real_plan_names_projects_with_sources_and_flags_defaults(ree_plan) -> None:
    assert ree_plan.result.feasible
    chosen = ree_plan.chosen
    assert len(chosen) >= 1
    assert chosen["source_title"].str.len().gt(0).all()
    assert chosen["source_url"].str.startswith("http").all()
    assert (chosen["from_defaults"] == (chosen["defaults_used"] != "")).all()
    deps = ree_plan.depends_on_defaults()
    assert "plan_ramp_up_years" in deps  # no compiled project states a ramp-up
    out = ree_plan.to_dict()
    assert out["depends_on_defaults"] == deps
    json.dumps(out, default=str)
    params = out["metadata"]["parameters"]
    assert "plan_discount_rate[default]" in params
    assert "capex_usd_per_tpa_refine[magnet-rare-earths]" in params


def test_real_plan_meets_the_target_every_year_from_by_and_respects_the_budget(ree_plan) -> None:
    s = ree_plan.result.supply.set_index("year")
    later = s.loc[2030:]
    assert (later["non_china_share_a"] >= 0.12 - 1e-9).all()
    assert (later["non_china_share_b"] >= 0.12 - 1e-9).all()
    assert (s["capex_usd"] <= 2e8 + 1e-3).all()
    assert ree_plan.to_dict()["first_year_target_met"] <= 2030


def test_baseline_share_is_the_atlas_iea_fact(ree_plan) -> None:
    # IEA 2025: China refined 73.76 of 80.81 kt of magnet rare earths in 2024 -> non-China share 8.7%
    s = ree_plan.result.supply.set_index("year")
    assert s.loc[2026, "new_t"] == 0
    assert s.loc[2026, "non_china_share_a"] == pytest.approx(1 - 73.7567 / 80.8051, abs=1e-4)


def test_impossible_real_target_is_explained_not_raised() -> None:
    plan = run_plan(PlanRequest(material="lithium", stage="refine", target=0.6, by=2030))
    assert not plan.result.feasible
    text = plan.result.explanation
    assert (
        text.startswith("infeasible:") and "short by" in text and "t even with every eligible project" in text
    )
    assert plan.result.shortfalls["shortfall_t"].gt(0).all()
    assert plan.chosen.empty


def test_demand_index_from_iea_and_flat_fallback() -> None:
    years = list(range(2026, 2046))
    idx, note = demand_index("lithium", years, 2024, "STEPS")
    # IEA STEPS lithium total demand 205 kt (2024) -> 455.487 kt (2030)
    assert idx[2030] == pytest.approx(455.48724292580795 / 205.0)
    assert idx[2027] == pytest.approx(1 + 0.5 * (455.48724292580795 / 205.0 - 1))
    assert "IEA" in note
    flat, note2 = demand_index("gallium", years, 2024, "STEPS")
    assert (flat == 1.0).all() and "held flat" in note2


def test_timeline_property_on_real_data_budget_curve_is_monotone() -> None:
    from critmin.atlas import load_atlas
    from critmin.parameters import ParameterSet
    from critmin.planning.pipeline import build_pipeline
    from critmin.planning.plan import atlas_baseline, make_problem
    from critmin.planning.timeline import independence_timeline

    req = PlanRequest(**REE, target=0.12, by=2045, third_country_cap=False)
    problem, _, _ = make_problem(
        req, build_pipeline(), atlas_baseline(**REE), load_atlas().groups["ministerial-2026"], ParameterSet()
    )
    curve = independence_timeline(problem, [5e7, 1e9])
    years = [np.inf if pd.isna(y) else y for y in curve["first_year"]]
    assert years == sorted(years, reverse=True)
    assert np.isfinite(years[-1])
    assert EXPERT_RANGE_YEARS == (10, 20)


SCHEDULE = pd.DataFrame(
    {"project_id": ["a", "b", "c"], "country_iso3": ["USA", "AUS", "MOZ"], "capex_usd": [3e8, 1e8, 2e8]}
)
OUTPUT = pd.Series({"a": 100.0, "b": 50.0, "c": 30.0})


@pytest.mark.parametrize("rule,weights", [("equal", None), ("host", None), ("pledges", {"USA": 3, "AUS": 1})])
def test_burden_contributions_and_secured_supply_add_up(rule, weights) -> None:
    out = share_burden(SCHEDULE, OUTPUT, ["USA", "AUS"], rule, weights)
    assert out["contribution_usd"].sum() == pytest.approx(6e8)
    assert out["secured_t"].sum() == pytest.approx(180.0)
    assert out["share_of_capex"].sum() == pytest.approx(1.0)


def test_burden_rules_hand_worked() -> None:
    host = share_burden(SCHEDULE, OUTPUT, ["USA", "AUS"], "host").set_index("member")
    # USA pays a (3e8) + half of c (1e8); AUS pays b (1e8) + half of c (1e8)
    assert host.loc["USA", "contribution_usd"] == pytest.approx(4e8)
    assert host.loc["AUS", "contribution_usd"] == pytest.approx(2e8)
    assert host.loc["USA", "secured_t"] == pytest.approx(100 + 15)
    pledges = share_burden(SCHEDULE, OUTPUT, ["USA", "AUS"], "pledges", {"USA": 3e9, "AUS": 1e9})
    assert pledges.set_index("member").loc["USA", "contribution_usd"] == pytest.approx(4.5e8)
    with pytest.raises(ValueError, match="GDP figures"):
        funding_shares(SCHEDULE, ["USA", "AUS"], "gdp")
    with pytest.raises(ValueError, match="no value for members"):
        funding_shares(SCHEDULE, ["USA", "AUS"], "pledges", {"USA": 1.0})


def test_problem_rejects_missing_demand_years() -> None:
    from critmin.optimize.expansion import build_expansion_model

    prob = ExpansionProblem(
        years=(2026, 2027),
        projects=pd.DataFrame(
            {
                "country_iso3": ["USA"],
                "capacity_t": [1.0],
                "capex_usd": [1.0],
                "unit_opex_usd_per_t": [0.0],
                "lead_time_years": [0.0],
                "ramp_up_years": [0.0],
                "earliest_start": [2026.0],
            },
            index=pd.Index(["p"], name="project_id"),
        ),
        baseline=pd.Series({"CHN": 10.0}),
        demand_index=pd.Series({2026: 1.0}),
        alliance=frozenset({"USA"}),
        targets=(Target("non_china_share", 0.1, 2026),),
    )
    with pytest.raises(ValueError, match="demand_index must give a value for every plan year"):
        build_expansion_model(prob)


def test_cap_target_with_a_hand_made_baseline_is_met_first_in_the_target_year() -> None:
    # China 7,000 of 10,000 t: the 65 % cap needs N >= 7000/0.65 - 10000 = 769 t of new capacity
    from critmin.planning.plan import Baseline

    base = Baseline(pd.Series({"CHN": 7000.0, "USA": 3000.0}), 2024, "hand-made test baseline")
    plan = run_plan(
        PlanRequest(**REE, target=0.3, by=2030, scenario="flat"),
        baseline=base,
        alliance=frozenset({"USA", "AUS", "FRA"}),
    )
    assert plan.result.feasible, plan.result.explanation
    s = plan.result.supply.set_index("year")
    assert (s.loc[2030:, "max_third_country_share"] <= 0.65 + 1e-9).all()
    assert s.loc[2030, "new_t"] >= 7000 / 0.65 - 10000 - 1e-6
    out = plan.to_dict()
    assert out["first_year_target_met"] == int(s.index[s["max_third_country_share"] <= 0.65 + 1e-9].min())
    assert out["first_year_target_met"] <= 2030
