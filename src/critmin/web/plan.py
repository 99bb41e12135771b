"""Investment plan page: the project pipeline, the chosen roadmap as a timeline, the independence curve
(non-China share of supply by year against the target) and each member's contribution
(``critmin.planning``: ``build_pipeline``, ``run_plan``, ``share_burden``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import pandas as pd

from critmin.web import figures
from critmin.web.page import Block, Page, PageError, int_param, require

# form defaults: the worked example of the planning guide (magnet rare earths, refining)
DEFAULTS = {"material": "magnet-rare-earths", "stage": "refine", "target": "0.12", "by": "2030"}
SCENARIOS = ["STEPS", "APS", "NZE", "flat"]
RULES = ["host", "equal"]
PARAM_KEYS = ("material", "stage", "target", "by", "budget", "cap", "group", "scenario", "rule", "members")
PIPELINE_COLUMNS = ["project_id", "name", "country_iso3", "status", "capacity_t", "capex_usd",
                    "earliest_start", "lead_time_years", "included", "exclusion_reason", "defaults_used",
                    "source_title", "source_url"]  # fmt: skip


def _number(
    params: Mapping[str, str], name: str, default: float | None, lo: float, hi: float
) -> float | None:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise PageError(
            f"parameter {name}={raw!r} is not a number; expected {lo:g}..{hi:g}", status=422
        ) from None
    if not lo < value <= hi:
        raise PageError(
            f"parameter {name}={value:g} is out of range; expected > {lo:g} and <= {hi:g}", status=422
        )
    return value


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    from critmin.planning.pipeline import build_pipeline

    return build_pipeline()


def plan_page(params: Mapping[str, str]) -> Page:
    """The plan page model (material, stage, target, by, budget USD/yr, cap, group, scenario, burden)."""
    from pydantic import ValidationError

    from critmin.atlas import load_atlas
    from critmin.optimize.expansion import project_output
    from critmin.planning.burden import share_burden
    from critmin.planning.plan import PlanRequest, atlas_baseline, run_plan

    p = {**DEFAULTS, **{k: v for k, v in params.items() if v != ""}}
    pipeline = _pipeline()
    atlas = load_atlas()
    proj = pipeline.projects
    pairs = sorted(
        {(m, s) for m, s in zip(proj["material"], proj["stage"], strict=True) if isinstance(m, str)}
    )
    material = require(p, "material", sorted({m for m, _ in pairs}))
    stage = require(p, "stage", ["mine", "refine"])
    group = require(p, "group", sorted(atlas.groups), "ministerial-2026")
    scenario = require(p, "scenario", SCENARIOS, "STEPS")
    rule = require(p, "rule", RULES, "host")
    try:
        request = PlanRequest(
            material=material,
            stage=stage,
            target=_number(p, "target", 0.5, 0.0, 0.999),
            by=int_param(p, "by", 2035, 2026, 2060),
            budget_per_year=_number(p, "budget", None, 0.0, 1e13),
            third_country_cap=p.get("cap", "off") == "on",
            group=group,
            scenario=scenario,
        )
        baseline = atlas_baseline(material, stage)
    except (ValidationError, ValueError) as err:
        raise PageError(f"plan request: {err}", status=422) from err
    plan = run_plan(request, pipeline=pipeline, baseline=baseline)
    out = plan.to_dict()

    projects = pipeline.projects
    table = projects[(projects["material"] == material) & (projects["stage"] == stage)][PIPELINE_COLUMNS]
    blocks = [
        Block("pipeline", f"Project pipeline: {material} ({stage})", table.reset_index(drop=True), wide=True)
    ]

    chosen = plan.chosen
    notes = list(plan.notes)
    if plan.result.feasible and len(chosen):
        road = chosen[["project_id", "name", "country_iso3", "start_year", "first_output_year", "capacity_t",
                       "capex_usd", "defaults_used", "source_title"]].copy()  # fmt: skip
        road["label"] = [f"{n} ({c})" for n, c in zip(road["project_id"], road["country_iso3"], strict=True)]
        road["phase_end"] = road["first_output_year"]
        road["phase"] = "construction"
        fig = figures.timeline(
            road, "label", "start_year", "phase_end", "phase", "Roadmap: start to first output"
        )
        blocks.append(
            Block("roadmap", "Chosen roadmap", road.drop(columns=["phase", "phase_end"]), fig, wide=True)
        )
    else:
        notes.append(out["explanation"] or "No project is needed or none can be chosen.")

    supply = pd.DataFrame(out["supply_by_year"])
    curve = supply.melt(id_vars="year", value_vars=["non_china_share_a", "non_china_share_b"],
                        var_name="accounting", value_name="non_china_share")  # fmt: skip
    fig = figures.lines(curve, "year", "non_china_share", "accounting", "Non-China share of supply", "share")
    fig["layout"]["shapes"] = [
        {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": request.target, "y1": request.target,
         "line": {"dash": "dot", "color": "#b42318"}}
    ]  # fmt: skip
    blocks.append(
        Block(
            "independence",
            f"Independence curve: target {request.target:.0%} from {request.by}",
            supply,
            fig,
            "a: incumbents keep their baseline output; b: supply equals IEA demand "
            f"({scenario}), incumbents fill the gap. Dotted: the target.",
        )
    )

    members_raw = p.get("members", "")
    if members_raw:
        members = [m.strip().upper() for m in members_raw.split(",") if m.strip()]
    else:
        members = sorted({str(c) for c in chosen.get("country_iso3", []) if c in atlas.groups[group]})
    if plan.result.feasible and len(chosen) and members:
        sched = plan.result.schedule
        secured = project_output(plan.result.problem, sched.set_index("project_id")["start_year"], request.by)
        try:
            burden = share_burden(sched, secured, members, rule)  # type: ignore[arg-type]
        except ValueError as err:
            raise PageError(f"burden sharing: {err}", status=422) from err
        fig = figures.bars(burden, "member", "contribution_usd", f"Capex by member ({rule} rule)", "USD")
        blocks.append(Block("contributions", "Members' contributions", burden, fig,
                            f"Supply secured in {request.by}; members: {', '.join(members)}."))  # fmt: skip

    meta = out["metadata"]
    return Page(
        name="plan",
        title=f"Investment plan: {material} ({stage})",
        blocks=blocks,
        editions=dict(meta.get("data_editions") or {}) | {"baseline": plan.baseline.source},
        params={k: str(params[k]) for k in PARAM_KEYS if params.get(k)},
        intro=f"Targets: {'; '.join(out['targets'])}. Status: {out['status']}"
        + (f"; discounted cost {out['discounted_cost_usd']:,.0f} USD" if out["feasible"] else "")
        + (f"; first met {out['first_year_target_met']}" if out["first_year_target_met"] else "")
        + f". Parameter set {meta.get('parameter_digest', '')}.",
        notes=notes,
        template="plan.html",
        context={
            "form": {
                "material": material,
                "stage": stage,
                "target": request.target,
                "by": request.by,
                "budget": "" if request.budget_per_year is None else f"{request.budget_per_year:g}",
                "cap": request.third_country_cap,
                "group": group,
                "scenario": scenario,
                "rule": rule,
                "members": ",".join(members),
            },
            "materials": sorted({m for m, _ in pairs}),
            "groups": sorted(atlas.groups),
            "scenarios": SCENARIOS,
            "rules": RULES,
        },
    )


@lru_cache(maxsize=32)
def _cached(items: tuple[tuple[str, str], ...]) -> Page:
    return plan_page(dict(items))


def build_plan(params: Mapping[str, str]) -> Page:
    """Plan page (cached per parameter set)."""
    return _cached(tuple(sorted((k, v) for k, v in params.items() if k in PARAM_KEYS and v != "")))
