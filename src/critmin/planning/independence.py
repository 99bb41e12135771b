"""Independence timeline for the key materials: atlas + pipeline + capacity classes -> P10/P50/P90 years.

:func:`stage_timeline` builds the unit pool of one (material, stage) -- named pipeline projects outside
China (optionally only those hosted in a group) followed by copies of the generic capacity classes, in
order of capex per expected tonne (projects already financed or under construction first: they draw
nothing from the budget) -- and samples it with :func:`critmin.planning.stochastic.simulate`. When a
quantile is not reached by the horizon it says why: the budget (the same portfolio reaches it without the
limit), or lead times, know-how caps and failures (it is not reached even without a budget limit), or no
costable capacity. :func:`run_timeline` does this for a list of materials (default :data:`KEY_SET`) and
every stage the atlas has for each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, field_validator

from critmin.parameters import ParameterSet
from critmin.planning.classes import CapacityClass, capacity_classes
from critmin.planning.pipeline import Pipeline, build_pipeline
from critmin.planning.stochastic import (
    UNIT_COLUMNS,
    TimelineProblem,
    TimelineResult,
    required_capacity,
    simulate,
)
from critmin.provenance import RunMetadata

#: the key set of issue 17 (heavy rare earths join when the atlas has them: :func:`key_materials`)
KEY_SET = (
    "magnet-rare-earths",
    "gallium",
    "germanium",
    "graphite",
    "battery-graphite",
    "cobalt",
    "lithium",
    "nickel",
    "tungsten",
    "antimony",
)
HEAVY_REE = ("heavy-rare-earths", "dysprosium", "terbium")
UNFUNDED_STATUSES = ("construction", "financed", "operating")
MAX_COPIES = 400


def key_materials(atlas_materials: Sequence[str]) -> list[str]:
    """The key set, plus the heavy rare-earth materials the atlas has."""
    have = set(atlas_materials)
    return [m for m in (*KEY_SET[:1], *HEAVY_REE, *KEY_SET[1:]) if m in have]


class TimelineRequest(BaseModel):
    """P10/P50/P90 year the non-China share reaches ``target`` at each stage, within a budget path."""

    materials: list[str] | None = Field(None, description="atlas slugs; None = the key set")
    stages: list[str] | None = Field(None, description="stages; None = every stage the atlas has")
    target: float = Field(0.5, gt=0, lt=1, description="non-China share of supply to reach")
    budget_per_year: float | None = Field(None, gt=0, description="USD a year per material and stage")
    samples: int = Field(1000, ge=1, le=100_000)
    seed: int = 0
    group: str | None = Field(None, description="only named projects hosted in this group; None = any")
    scenario: str = "STEPS"
    value: bool = Field(False, description="also run the disruption engine: expected loss avoided")
    value_scenarios: int = Field(2000, ge=100, le=200_000, description="Monte Carlo scenarios for value")

    @field_validator("scenario")
    @classmethod
    def _scenario(cls, v: str) -> str:
        if v not in {"STEPS", "APS", "NZE", "flat"}:
            raise ValueError(f"scenario {v!r}; expected STEPS, APS, NZE or flat")
        return v


@dataclass(frozen=True)
class StageTimeline:
    """One (material, stage): the summary row, the share bands and the sampled result (if any)."""

    row: dict[str, Any]
    bands: pd.DataFrame
    result: TimelineResult | None
    classes: list[CapacityClass]


def _named_units(cand: pd.DataFrame, params: ParameterSet, first: int) -> pd.DataFrame:
    rows = []
    for pid, r in cand.iterrows():
        status = str(r["status"])
        p_ok = (
            1.0 if status == "operating" else params.get(f"plan_success_probability_{status}", r["material"])
        )
        rows.append(
            {
                "unit_id": str(pid),
                "kind": "project",
                "klass": status,
                "capacity_t": float(r["capacity_t"]),
                "capex_usd": float(r["capex_usd"]),
                "opex_usd_per_t": float(r["unit_opex_usd_per_t"]),
                "funded": status not in UNFUNDED_STATUSES,
                "earliest_start": max(float(first), float(r["earliest_start"])),
                "p_success": p_ok,
                "lead_fixed": float(r["lead_time_years"]),
                "delay_p": 0.0
                if status == "operating"
                else params.get("plan_delay_probability", r["material"]),
                "delay_high": params.get("plan_delay_years_high", r["material"]),
                "ramp_up_years": float(r["ramp_up_years"]),
            }
        )
    return pd.DataFrame(rows)


def _class_units(classes: list[CapacityClass], need: float, first: int) -> pd.DataFrame:
    frames = []
    for c in classes:
        if not c.available:
            continue
        n = int(np.ceil(need / (c.unit_capacity_t * c.success_probability))) * 3 + 3
        n = min(n, MAX_COPIES if c.max_units is None else c.max_units)
        if n <= 0:
            continue
        frames.append(
            pd.DataFrame(
                {
                    "unit_id": [f"{c.name}#{i + 1}" for i in range(n)],
                    "kind": "class",
                    "klass": c.name,
                    "capacity_t": c.unit_capacity_t,
                    "capex_usd": c.capex_usd_per_tpa * c.unit_capacity_t,
                    "opex_usd_per_t": c.opex_usd_per_t,
                    "funded": True,
                    "earliest_start": float(first),
                    "p_success": c.success_probability,
                    "lead_fixed": 0.0,
                    "permit_low": c.permit_years[0],
                    "permit_mode": c.permit_years[1],
                    "permit_high": c.permit_years[2],
                    "build_low": c.build_years[0],
                    "build_mode": c.build_years[1],
                    "build_high": c.build_years[2],
                    "delay_p": 0.0,
                    "delay_high": 0.0,
                    "ramp_up_years": c.ramp_up_years,
                    "max_starts": float(c.max_starts_per_year),
                    "foak_extra": c.foak_extra_years,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=UNIT_COLUMNS)


def unit_pool(named: pd.DataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """Named and class units in the planner's order: capex per expected tonne (unfunded first)."""
    pool = pd.concat([named, classes], ignore_index=True)
    for col in UNIT_COLUMNS:
        if col not in pool.columns:
            pool[col] = 0.0
    num = [c for c in UNIT_COLUMNS if c not in ("unit_id", "kind", "klass", "funded")]
    pool[num] = pool[num].astype(float).fillna(0.0)
    pool["funded"] = pool["funded"].astype(bool)
    cost = np.where(pool["funded"], pool["capex_usd"], 0.0) / (pool["capacity_t"] * pool["p_success"])
    pool = pool.assign(_cost=cost).sort_values("_cost", kind="stable").drop(columns="_cost")
    return pool[UNIT_COLUMNS].reset_index(drop=True)


def _reason(res: TimelineResult, free: TimelineResult | None, budget: float | None, classes: Any) -> str:
    q = res.quantile_years
    if q["p90"] is not None:
        return ""
    horizon = res.problem.years[-1]
    if res.portfolio.empty and res.need_t > 0:
        why = "; ".join(f"{c.name}: {c.basis['capex']}" for c in classes if not c.available)
        return f"not reached by {horizon}: no named project and no costable capacity class ({why})"
    pool_cap = float((res.problem.pool["capacity_t"] * res.problem.pool["p_success"]).sum())
    if len(res.portfolio) == len(res.problem.pool) and pool_cap < res.need_t:
        return (
            f"not reached by {horizon}: the projects and class units allowed supply {pool_cap:,.0f} t "
            f"expected, short of the {res.need_t:,.0f} t the target needs (recycling cap / class limits)"
        )
    miss = 100 * (1 - res.p_reached)
    if budget is not None and free is not None and free.p_reached > res.p_reached + 1e-9:
        funded = res.portfolio[res.portfolio["funded"]]
        starts = funded["start_year"].to_numpy(dtype=float)
        late = int((~np.isfinite(starts)).sum())
        last = int(starts[np.isfinite(starts)].max()) if np.isfinite(starts).any() else None
        started = (
            f"{late} of {len(funded)} funded units not started by {horizon}"
            if late
            else (f"the last of {len(funded)} funded units starts only in {last}")
        )
        fq = free.quantile_years
        return (
            f"not reached by {horizon} within {budget:,.0f} USD a year in {miss:.0f}% of samples: the budget "
            f"binds ({started}; portfolio capex {funded['capex_usd'].sum():,.0f} USD); without the limit "
            f"P50 {fq['p50'] or '-'}, P90 {fq['p90'] or 'not reached'}"
        )
    caps = sorted({int(c.max_starts_per_year) for c in classes if c.max_starts_per_year > 0})
    if caps:
        pool = res.problem.pool.assign(max_starts=0.0)
        uncapped = simulate(replace(res.problem, pool=pool, budget=None))
        if uncapped.p_reached > (free or res).p_reached + 1e-9:
            uq = uncapped.quantile_years
            return (
                f"not reached by {horizon} in {miss:.0f}% of samples even without a budget limit: the "
                f"know-how cap of {caps[0]} generic plant(s) started a year binds (separation technology is "
                f"scarce outside China); without the cap P50 {uq['p50'] or '-'}, "
                f"P90 {uq['p90'] or 'not reached'}"
            )
    return (
        f"not reached by {horizon} in {miss:.0f}% of samples even without a budget limit: lead times "
        f"(permitting, construction, ramp-up) and failures (portfolio sized to cover the need in "
        f"{res.problem.confidence:.0%} of failure outcomes) bind"
    )


def stage_timeline(
    material: str,
    stage: str,
    request: TimelineRequest,
    *,
    pipeline: Pipeline,
    params: ParameterSet,
    prices: dict[str, float],
    alliance: frozenset[str] | None = None,
) -> StageTimeline:
    """The stochastic timeline of one (material, stage) (see the module docstring)."""
    from critmin.planning.baseline import atlas_baseline, demand_index

    try:
        base = atlas_baseline(material, stage)
    except ValueError as exc:
        return _no_data(material, request, stage, str(exc))
    total = float(base.tonnes.sum())
    non_china = total - float(base.tonnes.get("CHN", 0.0))
    first, last = int(params.get("plan_first_year")), int(params.get("timeline_last_year"))
    years = list(range(first, last + 1))
    idx, demand_note = demand_index(material, years, base.year, request.scenario)
    cand = pipeline.candidates(material, stage)
    cand = cand[cand["country_iso3"] != "CHN"]
    if alliance is not None:
        cand = cand[cand["country_iso3"].isin(alliance)]
    classes = capacity_classes(material, stage, pipeline.projects, total, prices, params)
    named = unit_pool(_named_units(cand, params, first), pd.DataFrame())
    shell = TimelineProblem(
        tuple(years),
        total,
        non_china,
        idx.to_numpy(float),
        request.target,
        named,
        None,
        params.get("timeline_portfolio_confidence"),
        request.samples,
        request.seed,
    )
    need = required_capacity(shell)
    pool = unit_pool(_named_units(cand, params, first), _class_units(classes, need, first))
    problem = replace(shell, pool=pool).with_budget(request.budget_per_year)
    res = simulate(problem)
    free = None
    if request.budget_per_year is not None and res.quantile_years["p90"] is None:
        free = simulate(problem.with_budget(None))
    q = res.quantile_years
    port = res.portfolio
    started = port[np.isfinite(port["start_year"])]
    status = "already met" if need <= 0 else ("reached" if q["p90"] is not None else "not reached (P90)")
    if need > 0 and q["p50"] is None:
        status = "not reached (P50)"
    row = {
        "material": material,
        "stage": stage,
        "baseline_year": base.year,
        "baseline_t": total,
        "non_china_share_now": non_china / total,
        "target": request.target,
        "budget_per_year_usd": request.budget_per_year,
        **q,
        "p_reached": res.p_reached,
        "status": status,
        "need_t": need,
        "named_projects": int((port["kind"] == "project").sum()),
        "class_units": int((port["kind"] == "class").sum()),
        "capex_usd": float(started["capex_usd"].sum()),
        "opex_usd_per_year": float((port["capacity_t"] * port["opex_usd_per_t"] * port["p_success"]).sum()),
        "reason": _reason(res, free, request.budget_per_year, classes),
        "demand": demand_note,
        "baseline_source": base.source,
    }
    bands = res.share_bands.assign(material=material, stage=stage, target=request.target)
    return StageTimeline(row, bands, res, classes)


def _add_value(out: list[StageTimeline], atlas: Any, params: ParameterSet, request: TimelineRequest) -> None:
    """Add the expected disruption loss avoided by each stage's expected added output in the last year."""
    from critmin.disruption.montecarlo import run_monte_carlo
    from critmin.planning.value import value_of_independence

    n, seed = request.value_scenarios, request.seed
    base = run_monte_carlo(atlas, n, seed, params=params, keep_scenarios=True)
    for s in out:
        if s.result is None or s.bands.empty:
            continue
        added = float(s.bands["mean_new_t"].iloc[-1])
        v = value_of_independence(s.row["material"], s.row["stage"], added, atlas=atlas, params=params,
                                  n_scenarios=n, seed=seed, baseline=base)  # fmt: skip
        s.row.update(
            {
                "value_added_t": added,
                "expected_loss_usd": v.get("expected_loss_usd"),
                "loss_avoided_usd": v.get("avoided_usd"),
                "loss_avoided_usd_per_year": v.get("avoided_usd_per_year"),
                "loss_avoided_se_usd": v.get("avoided_se_usd"),
                "value_note": v.get("note", f"disruption Monte Carlo, {n} scenarios, seed {seed}"),
            }
        )


def _no_data(material: str, request: TimelineRequest, stage: str = "-", why: str = "") -> StageTimeline:
    """The row of a material (or stage) the atlas has no production tonnes for."""
    why = why or f"the atlas has no production tonnes for {material} at any stage (withheld or not published)"
    row = {
        "material": material,
        "stage": stage,
        "target": request.target,
        "budget_per_year_usd": request.budget_per_year,
        "p10": None,
        "p50": None,
        "p90": None,
        "p_reached": 0.0,
        "status": "no data",
        "reason": f"no answer: {why}, so no share can be computed",
    }
    return StageTimeline(row, pd.DataFrame(columns=["year", "p10", "p50", "p90", "mean_new_t"]), None, [])


@dataclass(frozen=True)
class TimelineReport:
    """The summary table (one row per material and stage), the share bands and the metadata."""

    request: TimelineRequest
    table: pd.DataFrame
    bands: pd.DataFrame
    classes: pd.DataFrame
    stages: list[StageTimeline]
    metadata: RunMetadata

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "request": self.request.model_dump(),
            "timeline": _records(self.table),
            "bands": _records(self.bands),
            "classes": _records(self.classes),
            "metadata": self.metadata.model_dump(),
        }


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    clean = df.astype(object).where(df.notna(), None)
    return [{str(k): v for k, v in r.items()} for r in clean.to_dict(orient="records")]


TIMELINE_PARAMETER_PREFIXES = ("class_", "plan_success_", "plan_delay_", "timeline_", "plan_first_year")


def run_timeline(
    request: TimelineRequest,
    *,
    params: ParameterSet | None = None,
    pipeline: Pipeline | None = None,
    on_step: Callable[[str], None] | None = None,
) -> TimelineReport:
    """The timeline for every requested material and stage (``on_step(label)`` after each)."""
    from critmin.atlas import load_atlas
    from critmin.atlas.prices import latest_reference_prices

    params = params or ParameterSet()
    pipeline = pipeline or build_pipeline(params=params)
    atlas = load_atlas()
    known = [str(m) for m in atlas.materials["slug"]]
    materials = request.materials or key_materials(known)
    from critmin.planning.names import check_material, check_stage

    for m in materials:
        check_material(m, known)
    alliance = None
    if request.group is not None:
        if request.group not in atlas.groups:
            raise ValueError(f"unknown group {request.group!r}; known groups: {sorted(atlas.groups)}")
        alliance = atlas.groups[request.group]
    prices = latest_reference_prices(atlas.prices)
    out: list[StageTimeline] = []
    for m in materials:
        have = atlas.stages_of(m)
        if not have:
            out.append(_no_data(m, request))
            continue
        for st in request.stages or have:
            check_stage(m, st, have)
            out.append(
                stage_timeline(
                    m, st, request, pipeline=pipeline, params=params, prices=prices, alliance=alliance
                )
            )
            if on_step is not None:
                on_step(f"{m}/{st}")
    if request.value:
        _add_value(out, atlas, params, request)
    table = pd.DataFrame([s.row for s in out])
    parts = [s.bands for s in out if len(s.bands)]
    cols = ["year", "p10", "p50", "p90", "mean_new_t", "material", "stage", "target"]
    bands = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    classes = pd.DataFrame([c.describe() for s in out for c in s.classes])
    used = {k: v for k, v in params.used().items() if k.startswith(TIMELINE_PARAMETER_PREFIXES)}
    meta = RunMetadata(parameters=used, parameter_digest=params.digest())
    editions = dict(getattr(atlas, "editions", {}) or {})
    if editions:
        meta = meta.model_copy(update={"data_editions": editions})
    return TimelineReport(request, table, bands, classes, out, meta)
