"""Generic capacity classes inside the MILP plan (``--classes``) and the know-how start cap."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from critmin.cli import app
from critmin.optimize.expansion import ExpansionProblem, Target, solve_expansion
from critmin.planning.plan import PlanRequest, met_by_year, run_plan

YEARS = tuple(range(2026, 2036))


def _units(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"country_iso3": "USA", "capacity_t": 30.0, "capex_usd": 10.0, "unit_opex_usd_per_t": 0.0,
         "lead_time_years": 1.0, "ramp_up_years": 0.0, "earliest_start": 2026.0},
        index=pd.Index([f"u{i}" for i in range(n)], name="project_id"),
    )  # fmt: skip


def _problem(by: int, cap: int | None) -> ExpansionProblem:
    units = _units(3)
    caps = ((tuple(units.index), cap),) if cap else ()
    base = pd.Series({"CHN": 90.0, "USA": 10.0})
    return ExpansionProblem(YEARS, units, base, pd.Series(1.0, index=YEARS), frozenset({"USA"}),
                            (Target("non_china_share", 0.5, by),), start_caps=caps)  # fmt: skip


def test_start_cap_solved_by_hand() -> None:
    # need 80 t (see test_one_project_one_class_solved_by_hand): three 30 t units, lead 1 year.
    # At most one start a year: 2026, 2027, 2028 -> online 2027, 2028, 2029; 60 t in 2028 gives
    # (10 + 60) / 160 = 0.44 < 0.5, 90 t in 2029 gives 100 / 190 = 0.53 -> from 2029, not from 2028.
    ok = solve_expansion(_problem(2029, cap=1))
    assert ok.feasible and sorted(ok.schedule["start_year"]) == [2026, 2027, 2028]
    assert not solve_expansion(_problem(2028, cap=1)).feasible
    # without the cap all three start in 2026 and the target holds from 2027
    free = solve_expansion(_problem(2027, cap=None))
    assert free.feasible and set(free.schedule["start_year"]) == {2026}


def test_antimony_plans_on_generic_mines() -> None:
    req = PlanRequest(material="antimony", stage="mine", target=0.8, by=2045, third_country_cap=False,
                      timeline_samples=0)  # fmt: skip
    assert not run_plan(req).result.feasible  # no eligible antimony project
    plan = run_plan(req.model_copy(update={"classes": True}))
    assert plan.result.feasible
    chosen = plan.chosen
    assert len(chosen) > 0 and chosen["project_id"].str.startswith("class:mine#").all()
    assert chosen["source_title"].str.contains("capital intensity").all()
    assert bool(met_by_year(plan).loc[2045:].all())


def test_know_how_cap_holds_in_the_gallium_plan() -> None:
    args = ["plan", "-m", "gallium", "-s", "refine", "--target", "0.3", "--by", "2045", "--classes"]
    res = CliRunner().invoke(app, [*args, "--no-third-country-cap", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    starts = [p["start_year"] for p in out["projects"] if p["project_id"].startswith("class:refine#")]
    assert starts and len(starts) == len(set(starts))  # at most one generic gallium plant started a year
    assert any("generic capacity classes added" in n for n in out["notes"])
