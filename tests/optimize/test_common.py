"""Tests of the HiGHS helper: optimal solves, the hook, infeasibility explained, unboundedness."""

from __future__ import annotations

import linopy
import pandas as pd
import pytest

from critmin.optimize.common import SolveResult, solve


def _small_lp() -> linopy.Model:
    """max 3x + 2y s.t. x + y <= 4, x + 3y <= 6, x <= 3 (textbook: optimum x=3, y=1, value 11)."""
    m = linopy.Model()
    x = m.add_variables(lower=0, upper=3, name="x")
    y = m.add_variables(lower=0, name="y")
    m.add_constraints(x + y <= 4, name="capacity")
    m.add_constraints(x + 3 * y <= 6, name="labour")
    m.add_objective(-3 * x - 2 * y)
    return m


def test_optimal_solution_matches_hand_solution() -> None:
    m = _small_lp()
    r = solve(m)
    assert isinstance(r, SolveResult)
    assert r.ok and r.status == "ok" and r.condition == "optimal"
    assert r.objective == pytest.approx(-11.0)
    assert float(m.variables["x"].solution) == pytest.approx(3.0)
    assert float(m.variables["y"].solution) == pytest.approx(1.0)
    assert r.explanation == ""
    assert r.solve_seconds >= 0.0


def test_hook_runs_between_build_and_solve_and_changes_the_optimum() -> None:
    m = _small_lp()
    calls: list[int] = []

    def cap_x(model: linopy.Model) -> None:
        calls.append(1)
        model.add_constraints(model.variables["x"] <= 1, name="user_cap")

    r = solve(m, hook=cap_x)
    assert calls == [1]
    # with x <= 1: y = min(4 - 1, (6 - 1) / 3) = 5/3; value 3 + 10/3
    assert r.objective == pytest.approx(-(3 + 10 / 3))
    assert float(m.variables["y"].solution) == pytest.approx(5 / 3)


def test_infeasible_model_returns_explanation_naming_the_conflict() -> None:
    m = linopy.Model()
    idx = pd.RangeIndex(3, name="i")
    x = m.add_variables(lower=0, coords=[idx], name="x")
    m.add_constraints(x.sum() >= 10, name="demand")
    m.add_constraints(x <= 2, name="cap")
    m.add_constraints(x >= 0.5, name="harmless")
    m.add_objective(x.sum())
    r = solve(m)
    assert not r.ok
    assert r.condition == "infeasible"
    assert r.objective is None
    assert "infeasible" in r.explanation
    assert "demand" in r.explanation and "cap" in r.explanation
    assert "harmless" not in r.explanation


def test_infeasible_model_without_an_iis_still_gets_an_explanation(monkeypatch: pytest.MonkeyPatch) -> None:
    """linopy raises NotImplementedError for solvers without IIS support: reported, never raised."""
    m = linopy.Model()
    x = m.add_variables(lower=0, upper=2, name="x")
    m.add_constraints(x >= 10, name="demand")
    m.add_objective(1 * x)

    def no_iis(self: linopy.Model) -> list[int]:
        raise NotImplementedError("Computing infeasibilities is not supported for this solver")

    monkeypatch.setattr(linopy.Model, "compute_infeasibilities", no_iis)
    r = solve(m)
    assert r.condition == "infeasible" and r.objective is None
    assert "could not isolate the conflicting constraints" in r.explanation
    assert "not supported" in r.explanation


def test_unbounded_model_is_reported_not_raised() -> None:
    m = linopy.Model()
    x = m.add_variables(lower=0, name="x")
    m.add_constraints(x >= 1, name="floor")
    m.add_objective(-1 * x)
    r = solve(m)
    assert not r.ok
    assert r.objective is None
    assert r.condition in {"unbounded", "infeasible_or_unbounded"}
    assert r.explanation != ""


def test_as_dict_round_trips_fields() -> None:
    r = solve(_small_lp(), build_seconds=0.25)
    d = r.as_dict()
    assert d["status"] == "ok" and d["condition"] == "optimal"
    assert d["objective"] == pytest.approx(-11.0)
    assert d["build_seconds"] == 0.25
