"""Stochastic independence timeline: a hand-solved instance, metamorphic relations and invariants."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.planning.independence import unit_pool
from critmin.planning.stochastic import (
    TimelineProblem,
    first_year_held,
    reference_simulate,
    required_capacity,
    simulate,
    triangular,
)

YEARS = tuple(range(2026, 2041))


def project(uid: str, **kw: Any) -> dict[str, Any]:
    """A named project unit (deterministic unless told)."""
    row = {"unit_id": uid, "kind": "project", "klass": "feasibility", "funded": True,
           "earliest_start": 2026.0, "p_success": 1.0, "lead_fixed": 0.0, "delay_p": 0.0, "delay_high": 0.0,
           "ramp_up_years": 0.0, "opex_usd_per_t": 0.0}  # fmt: skip
    return row | kw


def klass(uid: str, **kw: Any) -> dict[str, Any]:
    """A generic class unit (deterministic unless told)."""
    row = {"unit_id": uid, "kind": "class", "klass": "refine", "funded": True, "earliest_start": 2026.0,
           "p_success": 1.0, "permit_low": 1.0, "permit_mode": 1.0, "permit_high": 1.0, "build_low": 2.0,
           "build_mode": 2.0, "build_high": 2.0, "ramp_up_years": 0.0, "max_starts": 0.0, "foak_extra": 0.0,
           "opex_usd_per_t": 0.0}  # fmt: skip
    return row | kw


def problem(named: list[dict[str, Any]], classes: list[dict[str, Any]], budget: float | None,
            target: float = 0.5, samples: int = 50, seed: int = 3) -> TimelineProblem:  # fmt: skip
    pool = unit_pool(pd.DataFrame(named), pd.DataFrame(classes))
    p = TimelineProblem(YEARS, 100.0, 10.0, np.ones(len(YEARS)), target, pool, None, 0.9, samples, seed)
    return p.with_budget(budget)


def test_one_project_one_class_solved_by_hand() -> None:
    # baseline CHN 90 t + USA 10 t, flat demand, target 50%:
    #   (a) (10 + N) / (100 + N) >= 0.5 -> N >= 80;  (b) 0.1 + 0.9 N / 100 >= 0.5 -> N >= 44.4;  need 80 t
    # pool (2 USD/t each, project first): project 50 t, capex 100, lead 2; class unit 30 t, capex 60,
    # permit 1 + build 2 = 3 years. Budget 50 a year, cumulative 50, 100, 150, 200 from 2026:
    #   project starts 2027 (100 <= 100), online 2029; class unit needs 160 -> starts 2029, online 2032.
    #   2029-2031: (10 + 50) / 150 = 0.40 < 0.5; from 2032: (10 + 80) / 180 = 0.50 -> year 2032.
    p = problem([project("p", capacity_t=50.0, capex_usd=100.0, lead_fixed=2.0)],
                [klass(f"c#{i}", capacity_t=30.0, capex_usd=60.0) for i in (1, 2)], budget=50.0)  # fmt: skip
    assert required_capacity(p) == 80.0
    res = simulate(p)
    assert res.portfolio["unit_id"].tolist() == ["p", "c#1"]
    assert res.portfolio["start_year"].tolist() == [2027.0, 2029.0]
    assert res.quantile_years == {"p10": 2032, "p50": 2032, "p90": 2032}
    bands = res.share_bands.set_index("year")
    assert np.isclose(bands.loc[2029, "p50"], 0.4) and np.isclose(bands.loc[2032, "p50"], 0.5)
    # without a budget both start in 2026: online 2028 and 2029 -> the target holds from 2029
    assert simulate(p.with_budget(None)).quantile_years["p50"] == 2029
    # a budget of 10 a year funds the class unit (cumulative 160) only in 2041: not reached by 2040
    assert simulate(p.with_budget(10.0)).quantile_years == {"p10": None, "p50": None, "p90": None}


def test_know_how_cap_and_first_of_a_kind_delay() -> None:
    # three 30 t class units, at most one started a year, the first 2 years slower: starts 2026, 27, 28;
    # online 2026+3+2 = 2031, 2027+3 = 2030, 2028+3 = 2031 -> 90 t from 2031
    units = [
        klass(f"c#{i}", capacity_t=30.0, capex_usd=1.0, max_starts=1.0, foak_extra=2.0) for i in range(4)
    ]
    res = simulate(problem([], units, budget=None))
    assert res.portfolio["start_year"].tolist() == [2026.0, 2027.0, 2028.0]
    assert res.quantile_years["p50"] == 2031


def test_already_met_and_unreachable() -> None:
    met = simulate(problem([], [klass("c", capacity_t=1.0, capex_usd=1.0)], None, target=0.05))
    assert met.need_t == 0 and met.portfolio.empty and met.quantile_years["p90"] == 2026
    none = simulate(problem([], [], None))
    assert none.quantile_years == {"p10": None, "p50": None, "p90": None} and none.p_reached == 0


def test_triangular_inverse_cdf() -> None:
    u = np.array([0.0, 0.5, 1.0, 0.25])
    x = triangular(u, np.full(4, 1.0), np.full(4, 1.0), np.full(4, 3.0))
    # F(x) = 1 - (3 - x)^2 / 4 on [1, 3]: the median is 3 - sqrt(2), the quartile 3 - sqrt(3)
    assert np.allclose(x, [1.0, 3 - np.sqrt(2), 3.0, 3 - np.sqrt(3)])
    assert np.allclose(triangular(u, np.full(4, 2.0), np.full(4, 2.0), np.full(4, 2.0)), 2.0)


def test_first_year_held_needs_every_later_year() -> None:
    held = np.array([[True, False, True, True], [False, False, False, False], [True, True, True, True]])
    assert first_year_held(np.array([1, 2, 3, 4]), held).tolist() == [3.0, np.inf, 1.0]


unit_st = st.fixed_dictionaries(
    {
        "capacity_t": st.floats(5, 60),
        "capex_usd": st.floats(10, 400),
        "p_success": st.floats(0.3, 1.0),
        "lead": st.floats(0, 6),
        "spread": st.floats(0, 4),
        "delay_p": st.floats(0, 1),
        "ramp": st.integers(0, 3),
        "earliest": st.integers(2026, 2032),
        "cap": st.integers(0, 2),
        "is_class": st.booleans(),
        "funded": st.booleans(),
    }
)


def _random_problem(units: list[dict[str, Any]], budget: float | None, target: float) -> TimelineProblem:
    named, classes = [], []
    for i, u in enumerate(units):
        common = {"capacity_t": u["capacity_t"], "capex_usd": u["capex_usd"], "p_success": u["p_success"],
                  "ramp_up_years": float(u["ramp"]), "earliest_start": float(u["earliest"])}  # fmt: skip
        if u["is_class"]:
            lo, hi = u["lead"], u["lead"] + u["spread"]
            classes.append(klass(f"c#{i}", **common, permit_low=lo, permit_mode=lo, permit_high=hi,
                                 build_low=1.0, build_mode=1.5, build_high=2.0, max_starts=float(u["cap"]),
                                 foak_extra=1.0))  # fmt: skip
        else:
            named.append(project(f"p{i}", **common, lead_fixed=u["lead"], delay_p=u["delay_p"],
                                 delay_high=u["spread"], funded=u["funded"]))  # fmt: skip
    return problem(named, classes, budget, target=target, samples=40, seed=len(units))


@settings(max_examples=40, deadline=None)
@given(st.lists(unit_st, min_size=1, max_size=6), st.floats(5, 200), st.floats(0.15, 0.6))
def test_doubling_lead_times_never_brings_a_year_earlier(units: list[dict[str, Any]], budget: float,
                                                         target: float) -> None:  # fmt: skip
    p = _random_problem(units, budget, target)
    base = simulate(p).year_reached
    slow = simulate(p.with_lead_scale(2.0)).year_reached
    assert (slow >= base).all()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(unit_st, min_size=1, max_size=6), st.floats(5, 200), st.floats(1.0, 5.0), st.floats(0.15, 0.6)
)
def test_a_larger_budget_never_delays_a_year(units: list[dict[str, Any]], budget: float, factor: float,
                                             target: float) -> None:  # fmt: skip
    p = _random_problem(units, budget, target)
    small = simulate(p).year_reached
    large = simulate(p.with_budget(budget * factor)).year_reached
    free = simulate(p.with_budget(None)).year_reached
    assert (large <= small).all() and (free <= large).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(unit_st, min_size=1, max_size=5), st.floats(5, 200), st.floats(0.15, 0.6))
def test_vectorised_years_equal_the_plain_loop_reference(units: list[dict[str, Any]], budget: float,
                                                         target: float) -> None:  # fmt: skip
    p = _random_problem(units, budget, target)
    assert np.array_equal(simulate(p).year_reached, reference_simulate(p))


def test_deterministic_lead_times_give_equal_quantiles() -> None:
    # every lead-time distribution degenerate and every unit certain to succeed
    units = [klass(f"c#{i}", capacity_t=40.0, capex_usd=10.0, permit_low=2.0, permit_mode=2.0,
                   permit_high=2.0) for i in range(3)]  # fmt: skip
    res = simulate(problem([], units, budget=20.0, samples=200))
    q = res.quantile_years
    assert q["p10"] == q["p50"] == q["p90"] is not None
