"""An expansion plan for one (material, stage): atlas baseline + pipeline + IEA demand -> MILP -> result.

:func:`make_problem` assembles an :class:`~critmin.optimize.expansion.ExpansionProblem` (aligned by label,
no NaN left); :func:`run_plan` solves it and returns a :class:`PlanResult` that names every chosen project
with its source, flags the figures that came from class defaults, and carries :class:`RunMetadata`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, field_validator

from critmin.optimize.expansion import ExpansionProblem, ExpansionResult, Target, solve_expansion
from critmin.options import options
from critmin.parameters import ParameterSet
from critmin.planning.baseline import Baseline, atlas_baseline, demand_index
from critmin.planning.pipeline import Pipeline, ProjectDataError, build_pipeline
from critmin.provenance import RunMetadata

#: IEA Critical Minerals Dataset 2025 mineral names for the atlas slugs they measure (total demand)
#: host code of generic class units in a plan (counted as alliance, non-China supply)
CLASS_HOST = "ALLIANCE"
#: most copies of one class offered to the MILP
MAX_CLASS_COPIES = 60
PLAN_PARAMETERS = [
    "plan_lead_time_years_construction",
    "plan_lead_time_years_financed",
    "plan_lead_time_years_feasibility",
    "plan_lead_time_years_announced",
    "plan_ramp_up_years",
    "plan_unit_opex_usd_per_t",
    "plan_discount_rate",
    "plan_third_country_cap",
    "plan_first_year",
    "plan_last_year",
]


class PlanRequest(BaseModel):
    """What the user asks: a target for one material and stage, by a year, within a budget."""

    material: str
    stage: str
    target: float = Field(0.5, gt=0, lt=1, description="non-China share of supply to reach")
    by: int = Field(2035, ge=2026, le=2100)
    budget_per_year: float | None = Field(None, gt=0, description="USD of capex a year; None = no limit")
    third_country_cap: bool = Field(True, description="also cap any single non-alliance country (CRMA 65%)")
    alliance_share: float | None = Field(None, gt=0, description="alliance output / alliance demand to reach")
    alliance_demand_t: float | None = Field(None, gt=0, description="alliance demand in the baseline year, t")
    group: str = Field(default_factory=lambda: options().alliance_group, description="alliance group")
    scenario: str = "STEPS"
    classes: bool = Field(False, description="also plan generic capacity classes (not only named projects)")
    value: bool = Field(False, description="also report the expected disruption loss the plan avoids")
    timeline_samples: int = Field(
        1000, ge=0, le=100_000, description="stochastic timeline samples (0 = none)"
    )

    @field_validator("scenario")
    @classmethod
    def _scenario(cls, v: str) -> str:
        if v not in {"STEPS", "APS", "NZE", "flat"}:
            raise ValueError(f"scenario {v!r}; expected STEPS, APS, NZE or flat")
        return v


def read_baseline_csv(path: str | Path) -> Baseline:
    """A user baseline: CSV with columns ``iso3, tonnes`` and optional ``year`` (one year)."""
    p = Path(path)
    df = pd.read_csv(p, dtype={"iso3": str})
    for col in ("iso3", "tonnes"):
        if col not in df.columns:
            raise ProjectDataError([f"{p}: missing column {col}; expected columns iso3, tonnes[, year]"])
    vals = pd.to_numeric(df["tonnes"], errors="coerce")
    bad = df.index[vals.isna() | (vals < 0)]
    if len(bad):
        i = int(bad[0])
        raise ProjectDataError(
            [f"{p} row {i + 2}, column tonnes: {df['tonnes'].iloc[i]!r}; expected a number >= 0"]
        )
    year = int(df["year"].iloc[0]) if "year" in df.columns else options().default_year
    return Baseline(pd.Series(vals.to_numpy(), index=df["iso3"].to_numpy()), year, f"user file {p.name}")


@dataclass(frozen=True)
class PlanResult:
    """A plan with everything needed to trace it."""

    request: PlanRequest
    result: ExpansionResult
    projects: pd.DataFrame
    baseline: Baseline
    notes: list[str]
    metadata: RunMetadata
    timeline: dict[str, Any] | None = None
    value: dict[str, Any] | None = None

    @property
    def chosen(self) -> pd.DataFrame:
        """Chosen projects with start year, sources and the class defaults each depends on."""
        sched = self.result.schedule
        cols = ["project_id", "name", "source_title", "source_url", "defaults_used", "status"]
        info = self.projects.reset_index()[cols]
        out = sched.merge(info, on="project_id", how="left")
        out["from_defaults"] = out["defaults_used"] != ""
        return out

    def depends_on_defaults(self) -> list[str]:
        """Sorted class-default names the chosen projects depend on."""
        names = {n for s in self.chosen["defaults_used"] for n in str(s).split(";") if n}
        return sorted(names)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary of the plan."""
        r = self.result
        first = None
        if r.feasible:
            ok = met_by_year(self)
            first = int(ok[ok].index.min()) if ok.any() else None
        return {
            "material": self.request.material,
            "stage": self.request.stage,
            "targets": [t.describe() for t in r.problem.targets],
            "target_year": self.request.by,
            "budget_per_year_usd": self.request.budget_per_year,
            "status": r.solve.status,
            "condition": r.solve.condition,
            "feasible": r.feasible,
            "explanation": r.explanation,
            "discounted_cost_usd": r.solve.objective,
            "first_year_target_met": first,
            "projects": self.chosen.to_dict(orient="records"),
            "depends_on_defaults": self.depends_on_defaults(),
            "shortfalls": r.shortfalls.to_dict(orient="records"),
            "supply_by_year": r.supply.to_dict(orient="records"),
            "baseline": {
                "year": self.baseline.year,
                "source": self.baseline.source,
                "tonnes": float(self.baseline.tonnes.sum()),
            },
            "notes": self.notes,
            "timeline": self.timeline,
            "value_of_independence": self.value,
            "metadata": self.metadata.model_dump(),
        }


def met_by_year(plan: PlanResult) -> pd.Series:
    """Whether the share targets hold in each year under both accountings (index year).

    Checks the non-China share and, when requested, the third-country cap (the alliance-demand target is
    enforced by the model but not re-checked here).
    """
    s = plan.result.supply.set_index("year")
    share = pd.concat([s["non_china_share_a"], s["non_china_share_b"]], axis=1).min(axis=1)
    ok = share >= plan.request.target - 1e-9
    caps = [t.value for t in plan.result.problem.targets if t.kind == "third_country_cap"]
    if caps:
        ok &= s["max_third_country_share"] <= caps[0] + 1e-9
    return ok


def make_problem(
    request: PlanRequest,
    pipeline: Pipeline,
    baseline: Baseline,
    alliance: frozenset[str],
    params: ParameterSet,
) -> tuple[ExpansionProblem, pd.DataFrame, list[str]]:
    """The MILP inputs for a request, the candidate projects, and notes on what the result depends on."""
    first, last = int(params.get("plan_first_year")), int(params.get("plan_last_year"))
    years = list(range(first, last + 1))
    if not first <= request.by <= last:
        raise ValueError(f"target year {request.by} is outside the plan horizon {first}-{last}")
    cand = pipeline.candidates(request.material, request.stage)
    notes = []
    if cand.empty:
        notes.append(f"no project in the pipeline for {request.material}/{request.stage} on the atlas basis")
    idx, note = demand_index(request.material, years, baseline.year, request.scenario)
    notes.append(note)
    notes.append(f"baseline: {baseline.source}, {baseline.tonnes.sum():,.0f} t")
    targets = [Target("non_china_share", request.target, request.by)]
    if request.third_country_cap:
        targets.append(Target("third_country_cap", params.get("plan_third_country_cap"), request.by))
    if request.alliance_share is not None:
        if request.alliance_demand_t is None:
            raise ValueError(
                "the alliance-share target needs --alliance-demand (t in the baseline year): no alliance "
                "demand data is bundled"
            )
        targets.append(
            Target("alliance_self_sufficiency", request.alliance_share, request.by, request.alliance_demand_t)
        )
    fields = [
        "country_iso3",
        "capacity_t",
        "capex_usd",
        "unit_opex_usd_per_t",
        "lead_time_years",
        "ramp_up_years",
        "earliest_start",
    ]
    caps: tuple[tuple[tuple[str, ...], int], ...] = ()
    if request.classes:
        units, caps, note = class_candidates(request, pipeline, baseline, idx, params)
        cand = pd.concat([cand, units])
        alliance = alliance | {CLASS_HOST}
        notes.append(note)
    projects = cand[fields].astype({c: float for c in fields[1:]})
    if projects[fields[1:]].isna().any().any():
        raise ValueError("the pipeline left a NaN in a planning figure of a candidate project")
    problem = ExpansionProblem(
        years=tuple(years),
        projects=projects,
        baseline=baseline.tonnes.astype(float),
        demand_index=idx,
        alliance=alliance,
        targets=tuple(targets),
        budget_per_year=request.budget_per_year,
        discount_rate=params.get("plan_discount_rate", request.material),
        start_caps=caps,
    )
    return problem, cand, notes


def class_candidates(
    request: PlanRequest, pipeline: Pipeline, baseline: Baseline, idx: pd.Series, params: ParameterSet
) -> tuple[pd.DataFrame, tuple[tuple[tuple[str, ...], int], ...], str]:
    """Copies of the generic capacity classes as MILP candidates (mode lead times), their know-how caps."""
    from critmin.atlas import load_atlas
    from critmin.atlas.prices import latest_reference_prices
    from critmin.planning.classes import capacity_classes

    b = float(baseline.tonnes.sum())
    b_nc = b - float(baseline.tonnes.get("CHN", 0.0))
    x = request.target
    need = max(0.0, (x * b - b_nc) / (1 - x), float((x - b_nc / b) * b * idx.max() / (1 - b_nc / b)))
    prices = latest_reference_prices(load_atlas().prices)
    first = int(params.get("plan_first_year"))
    rows, caps = [], []
    for c in capacity_classes(request.material, request.stage, pipeline.projects, b, prices, params):
        if not c.available:
            continue
        n = min(MAX_CLASS_COPIES, int(np.ceil(need / c.unit_capacity_t)) + 2)
        n = n if c.max_units is None else min(n, c.max_units)
        ids = [f"class:{c.name}#{i + 1}" for i in range(n)]
        lead = c.permit_years[1] + c.build_years[1]
        for i, pid in enumerate(ids):
            rows.append({"project_id": pid, "name": f"generic {c.name} unit ({c.material})",
                         "country_iso3": CLASS_HOST, "capacity_t": c.unit_capacity_t,
                         "capex_usd": c.capex_usd_per_tpa * c.unit_capacity_t,
                         "unit_opex_usd_per_t": c.opex_usd_per_t,
                         "lead_time_years": lead + (c.foak_extra_years if i == 0 else 0.0),
                         "ramp_up_years": c.ramp_up_years, "earliest_start": float(first), "status": "class",
                         "source_title": f"capacity class {c.name}: capex {c.basis['capex']}; size "
                                         f"{c.basis['unit']}", "source_url": "",
                         "defaults_used": f"class_{c.name}"})  # fmt: skip
        if c.max_starts_per_year > 0 and ids:
            caps.append((tuple(ids), c.max_starts_per_year))
    units = pd.DataFrame(rows).set_index("project_id") if rows else pd.DataFrame()
    note = (
        f"generic capacity classes added as candidates ({len(rows)} units, mode lead times; hosted in the "
        f"alliance as {CLASS_HOST}); see critmin plan classes"
    )
    return units, tuple(caps), note


def run_plan(
    request: PlanRequest,
    *,
    pipeline: Pipeline | None = None,
    baseline: Baseline | None = None,
    alliance: frozenset[str] | None = None,
    params: ParameterSet | None = None,
    mip_rel_gap: float = 1e-4,
) -> PlanResult:
    """Solve the expansion plan for ``request`` (atlas baseline and alliance group unless given)."""
    params = params or ParameterSet()
    pipeline = pipeline or build_pipeline(params=params)
    user_baseline = baseline if baseline is not None and baseline.source.startswith("user file") else None
    baseline = baseline or atlas_baseline(request.material, request.stage)
    if alliance is None:
        from critmin.atlas import load_atlas

        groups = load_atlas().groups
        if request.group not in groups:
            raise ValueError(f"unknown group {request.group!r}; known groups: {sorted(groups)}")
        alliance = groups[request.group]
    problem, cand, notes = make_problem(request, pipeline, baseline, alliance, params)
    result = solve_expansion(problem, mip_rel_gap=mip_rel_gap)
    used = params.used(PLAN_PARAMETERS)
    cd = pipeline.class_defaults
    for r in cd[(cd["material"] == request.material) & (cd["stage"] == request.stage)].itertuples():
        used[f"{r.name}[{r.material}]"] = float(r.value)  # type: ignore[arg-type]
    meta = RunMetadata(parameters=used, parameter_digest=params.digest())
    timeline = (
        _timeline(request, pipeline, params) if request.timeline_samples and user_baseline is None else None
    )
    value = None
    if request.value and result.feasible:
        from critmin.planning.value import value_of_independence

        supply = result.supply
        added = float(supply.loc[supply["year"] == request.by, "new_t"].sum())
        value = value_of_independence(request.material, request.stage, added, params=params)
        value["cost_discounted_usd"] = result.solve.objective
        value["year_of_added_output"] = request.by
    return PlanResult(request, result, cand, baseline, notes, meta, timeline, value)


def _timeline(request: PlanRequest, pipeline: Pipeline, params: ParameterSet) -> dict[str, Any]:
    """P10/P50/P90 year of the stochastic timeline for the plan's material, stage, target and budget."""
    from critmin.atlas import load_atlas
    from critmin.atlas.prices import latest_reference_prices
    from critmin.planning.independence import TimelineRequest, stage_timeline

    treq = TimelineRequest(
        materials=[request.material],
        stages=[request.stage],
        target=request.target,
        budget_per_year=request.budget_per_year,
        samples=request.timeline_samples,
        scenario=request.scenario,
    )
    prices = latest_reference_prices(load_atlas().prices)
    st = stage_timeline(
        request.material, request.stage, treq, pipeline=pipeline, params=params, prices=prices
    )
    keys = ("p10", "p50", "p90", "p_reached", "status", "need_t", "named_projects", "class_units",
            "capex_usd", "reason")  # fmt: skip
    return {k: st.row[k] for k in keys} | {"samples": request.timeline_samples}
