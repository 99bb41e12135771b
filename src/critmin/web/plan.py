"""Investment plan page: the project pipeline, the chosen roadmap as a timeline, the independence curve
(non-China share of supply by year against the target), the sampled timeline (P10-P90 band of the share and
the P10/P50/P90 years of the key materials) and each member's contribution (``critmin.planning``:
``build_pipeline``, ``run_plan``, ``run_timeline``, ``share_burden``)."""

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


def _request(p: Mapping[str, str], materials: list[str], groups: list[str]) -> Any:
    from pydantic import ValidationError

    from critmin.planning.plan import PlanRequest

    try:
        return PlanRequest(
            material=require(p, "material", materials),
            stage=require(p, "stage", ["mine", "refine"]),
            target=_number(p, "target", 0.5, 0.0, 0.999),
            by=int_param(p, "by", 2035, 2026, 2060),
            budget_per_year=_number(p, "budget", None, 0.0, 1e13),
            third_country_cap=p.get("cap", "off") == "on",
            group=require(p, "group", groups, "ministerial-2026"),
            scenario=require(p, "scenario", SCENARIOS, "STEPS"),
            timeline_samples=0,
        )
    except (ValidationError, ValueError) as err:
        raise PageError(f"plan request: {err}", status=422) from err


def _roadmap(plan: Any) -> Block | None:
    chosen = plan.chosen
    if not (plan.result.feasible and len(chosen)):
        return None
    road = chosen[["project_id", "name", "country_iso3", "start_year", "first_output_year", "capacity_t",
                   "capex_usd", "defaults_used", "source_title"]].copy()  # fmt: skip
    road["label"] = [f"{n} ({c})" for n, c in zip(road["project_id"], road["country_iso3"], strict=True)]
    road["phase_end"] = road["first_output_year"]
    road["phase"] = "construction"
    fig = figures.timeline(
        road, "label", "start_year", "phase_end", "phase", "Roadmap: start to first output"
    )
    return Block("roadmap", "Chosen roadmap", road.drop(columns=["phase", "phase_end"]), fig, wide=True)


def _independence(out: dict[str, Any], request: Any) -> Block:
    supply = pd.DataFrame(out["supply_by_year"])
    curve = supply.melt(id_vars="year", value_vars=["non_china_share_a", "non_china_share_b"],
                        var_name="accounting", value_name="non_china_share")  # fmt: skip
    fig = figures.lines(curve, "year", "non_china_share", "accounting", "Non-China share of supply", "share")
    fig["layout"]["shapes"] = [_target_line(request.target)]
    return Block(
        "independence",
        f"Independence curve: target {request.target:.0%} from {request.by}",
        supply,
        fig,
        "a: incumbents keep their baseline output; b: supply equals IEA demand "
        f"({request.scenario}), incumbents fill the gap. Dotted: the target.",
    )


def _target_line(target: float) -> dict[str, Any]:
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": target, "y1": target,
            "line": {"dash": "dot", "color": "#b42318"}}  # fmt: skip


@lru_cache(maxsize=16)
def _timeline(target: float, budget: float | None) -> Any:
    from critmin.planning.independence import TimelineRequest, run_timeline

    return run_timeline(TimelineRequest(target=target, budget_per_year=budget), pipeline=_pipeline())


def _timeline_blocks(request: Any) -> list[Block]:
    """Share bands of the chosen material and stage; P10/P50/P90 years of the key set (sampled)."""
    rep = _timeline(request.target, request.budget_per_year)
    budget = (
        "no budget limit" if request.budget_per_year is None else f"{request.budget_per_year:,.0f} USD/yr"
    )
    cols = [
        "material",
        "stage",
        "non_china_share_now",
        "p10",
        "p50",
        "p90",
        "p_reached",
        "capex_usd",
        "reason",
    ]
    table = rep.table[cols]
    title = f"Key materials: year the non-China share reaches {request.target:.0%} ({budget})"
    caption = ("P10/P50/P90: the target holds from that year on in 10/50/90% of 1,000 samples of lead times, "
               "delays and failures; empty = not reached by 2050 (reason given).")  # fmt: skip
    blocks = [Block("keyset", title, table, None, caption, wide=True)]
    bands = rep.bands[(rep.bands["material"] == request.material) & (rep.bands["stage"] == request.stage)]
    if len(bands):
        long = bands.melt(
            id_vars="year", value_vars=["p10", "p50", "p90"], var_name="band", value_name="share"
        )
        fig = figures.lines(long, "year", "share", "band", "Non-China share: P10-P90 band", "share")
        for trace in fig["data"]:
            if trace["hovertext"] == "p90":
                trace["fill"] = "tonexty"
        fig["layout"]["shapes"] = [_target_line(request.target)]
        row = rep.table[(rep.table["material"] == request.material) & (rep.table["stage"] == request.stage)]
        msg = row["reason"].iloc[0] or (
            f"P10 {row['p10'].iloc[0]:.0f}, P50 {row['p50'].iloc[0]:.0f}, P90 {row['p90'].iloc[0]:.0f}"
        )
        note = ("Lower of the two shares (a, b) by year over the samples, with named projects and generic "
                f"capacity classes. {msg}.")  # fmt: skip
        blocks.insert(
            0, Block("bands", f"Sampled timeline: {request.material} ({request.stage})", bands, fig, note)
        )
    return blocks


def _burden(
    plan: Any, p: Mapping[str, str], request: Any, alliance: frozenset[str], rule: str
) -> Block | None:
    from critmin.optimize.expansion import project_output
    from critmin.planning.burden import share_burden
    from critmin.planning.names import check_members

    chosen = plan.chosen
    raw = p.get("members", "")
    try:
        members = (
            check_members(raw.split(","))
            if raw
            else sorted({str(c) for c in chosen.get("country_iso3", []) if c in alliance})
        )
    except ValueError as err:
        raise PageError(f"parameter members={raw!r}: {err}", status=422) from err
    if not (plan.result.feasible and len(chosen) and members):
        return None
    sched = plan.result.schedule
    secured = project_output(plan.result.problem, sched.set_index("project_id")["start_year"], request.by)
    try:
        burden = share_burden(sched, secured, members, rule)  # type: ignore[arg-type]
    except ValueError as err:
        raise PageError(f"burden sharing: {err}", status=422) from err
    fig = figures.bars(burden, "member", "contribution_usd", f"Capex by member ({rule} rule)", "USD")
    return Block("contributions", "Members' contributions", burden, fig,
                 f"Supply secured in {request.by}; members: {', '.join(members)}.")  # fmt: skip


def plan_page(params: Mapping[str, str]) -> Page:
    """The plan page model (material, stage, target, by, budget USD/yr, cap, group, scenario, burden)."""
    from critmin.atlas import load_atlas
    from critmin.planning.plan import atlas_baseline, run_plan

    p = {**DEFAULTS, **{k: v for k, v in params.items() if v != ""}}
    pipeline = _pipeline()
    atlas = load_atlas()
    proj = pipeline.projects
    pairs = sorted(
        {(m, s) for m, s in zip(proj["material"], proj["stage"], strict=True) if isinstance(m, str)}
    )
    materials = sorted({m for m, _ in pairs})
    request = _request(p, materials, sorted(atlas.groups))
    rule = require(p, "rule", RULES, "host")
    try:
        baseline = atlas_baseline(request.material, request.stage)
    except ValueError as err:
        raise PageError(f"plan request: {err}", status=422) from err
    plan = run_plan(request, pipeline=pipeline, baseline=baseline)
    out = plan.to_dict()
    table = proj[(proj["material"] == request.material) & (proj["stage"] == request.stage)][PIPELINE_COLUMNS]
    blocks = [Block("pipeline", f"Project pipeline: {request.material} ({request.stage})",
                    table.reset_index(drop=True), wide=True)]  # fmt: skip
    notes = list(plan.notes)
    road = _roadmap(plan)
    if road is None:
        notes.append(out["explanation"] or "No project is needed or none can be chosen.")
    blocks += [b for b in (road, _independence(out, request)) if b is not None]
    blocks += _timeline_blocks(request)
    contrib = _burden(plan, p, request, atlas.groups[request.group], rule)
    blocks += [contrib] if contrib is not None else []
    meta = out["metadata"]
    return Page(
        name="plan",
        title=f"Investment plan: {request.material} ({request.stage})",
        blocks=blocks,
        editions=dict(meta.get("data_editions") or {}) | {"baseline": plan.baseline.source},
        params={k: str(params[k]) for k in PARAM_KEYS if params.get(k)},
        intro=f"Targets: {'; '.join(out['targets'])}. Status: {out['status']}"
        + (f"; discounted cost {out['discounted_cost_usd']:,.0f} USD" if out["feasible"] else "")
        + (f"; first met {out['first_year_target_met']}" if out["first_year_target_met"] else "")
        + f". Parameter set {meta.get('parameter_digest', '')}.",
        notes=notes,
        template="plan.html",
        context=_context(request, rule, contrib, materials, sorted(atlas.groups)),
    )


def _context(
    request: Any, rule: str, contrib: Block | None, materials: list[str], groups: list[str]
) -> dict[str, Any]:
    members = ",".join(contrib.frame["member"]) if contrib is not None else ""
    return {
        "form": {
            "material": request.material,
            "stage": request.stage,
            "target": request.target,
            "by": request.by,
            "budget": "" if request.budget_per_year is None else f"{request.budget_per_year:g}",
            "cap": request.third_country_cap,
            "group": request.group,
            "scenario": request.scenario,
            "rule": rule,
            "members": members,
        },
        "materials": materials,
        "groups": groups,
        "scenarios": SCENARIOS,
        "rules": RULES,
    }


@lru_cache(maxsize=32)
def _cached(items: tuple[tuple[str, str], ...]) -> Page:
    return plan_page(dict(items))


def build_plan(params: Mapping[str, str]) -> Page:
    """Plan page (cached per parameter set)."""
    return _cached(tuple(sorted((k, v) for k, v in params.items() if k in PARAM_KEYS and v != "")))
