"""``critmin plan curve`` (deterministic budget curve), ``plan timeline`` (sampled years), ``plan classes``.

Registered on the ``plan`` sub-app of :mod:`critmin.cli.planning_cmds`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from critmin.cli.output import Format, emit_frame, to_json
from critmin.cli.planning_cmds import (
    BASELINE_OPT,
    FORMAT_OPT,
    GROUP_OPT,
    NO_CAP_OPT,
    PROJECTS_OPT,
    SCENARIO_OPT,
    SET_OPT,
    STAGE_OPT,
    TARGET_OPT,
    _fail,
    _inputs,
    _params,
    _request,
    plan_app,
)


@plan_app.command("curve")
def curve(
    material: str = typer.Option(..., "--material", "-m", help="Atlas material slug, e.g. lithium."),
    stage: str = STAGE_OPT,
    target: float = TARGET_OPT,
    budgets: str = typer.Option("1e9,2e9,5e9", "--budgets", help="Comma-separated USD a year."),
    no_cap: bool = NO_CAP_OPT,
    group: str | None = GROUP_OPT,
    scenario: str = SCENARIO_OPT,
    projects: Path | None = PROJECTS_OPT,
    baseline: Path | None = BASELINE_OPT,
    overrides: list[str] | None = SET_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """Deterministic MILP: first year the target can hold for each annual budget (named projects only)."""
    from rich.console import Console
    from rich.progress import Progress

    from critmin.atlas import load_atlas
    from critmin.planning.pipeline import ProjectDataError
    from critmin.planning.plan import make_problem
    from critmin.planning.timeline import independence_timeline

    try:
        values = [float(b) for b in budgets.split(",") if b.strip()]
    except ValueError as exc:
        raise _fail(f"--budgets {budgets!r}: expected comma-separated numbers, e.g. 1e9,2e9,5e9") from exc
    if not values or any(v <= 0 for v in values):
        raise _fail(f"--budgets {budgets!r}: expected positive numbers")
    req = _request(
        material=material,
        stage=stage,
        target=target,
        by=2045,
        third_country_cap=not no_cap,
        group=group,
        scenario=scenario,
    )
    params = _params(overrides)
    try:
        pipeline, base = _inputs(projects, baseline, req, params)
        groups = load_atlas().groups
        if req.group not in groups:
            raise ValueError(f"unknown group {req.group!r}; known groups: {sorted(groups)}")
        problem, cand, notes = make_problem(req, pipeline, base, groups[req.group], params)
    except (ProjectDataError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("solving budgets", total=len(values))
        frame = independence_timeline(problem, values, on_step=lambda: progress.advance(task))
    if fmt is Format.json:
        sys.stdout.write(to_json(_curve_payload(req, problem, frame, cand, notes, params)) + "\n")
        return
    _print_curve(req, problem, frame, cand, fmt)


def _curve_payload(
    req: Any, problem: Any, frame: Any, cand: Any, notes: list[str], params: Any
) -> dict[str, Any]:
    import pandas as pd

    from critmin.planning.plan import PLAN_PARAMETERS
    from critmin.planning.timeline import EXPERT_RANGE_YEARS
    from critmin.provenance import RunMetadata

    return {
        "material": req.material,
        "stage": req.stage,
        "targets": [t.describe().rsplit(" from ", 1)[0] for t in problem.targets],
        "expert_range_years": list(EXPERT_RANGE_YEARS),
        "curve": [
            {
                k: (int(v) if k in ("first_year", "years_from_start") and pd.notna(v) else v)
                for k, v in r.items()
            }
            for r in frame.to_dict(orient="records")
        ],
        "projects": _project_sources(cand, frame),
        "notes": notes,
        "metadata": RunMetadata(
            parameters=params.used(PLAN_PARAMETERS), parameter_digest=params.digest()
        ).model_dump(),
    }


def _print_curve(req: Any, problem: Any, frame: Any, cand: Any, fmt: Format) -> None:
    import pandas as pd

    from critmin.planning.timeline import EXPERT_RANGE_YEARS

    shown = frame.astype(object).where(frame.notna(), "-")
    for col in ("first_year", "years_from_start"):
        shown[col] = [v if v == "-" else int(v) for v in shown[col]]
    goals = "; ".join(t.describe().rsplit(" from ", 1)[0] for t in problem.targets)
    emit_frame(
        shown.drop(columns="projects") if fmt is Format.table else shown.replace("-", ""),
        fmt,
        title=f"{req.material} / {req.stage}: first year from which {goals}",
        caption=f"experts: independence from Chinese processing takes {EXPERT_RANGE_YEARS[0]}-"
        f"{EXPERT_RANGE_YEARS[1]} years; first plan year {problem.years[0]}; '-' = not within the horizon",
    )
    if fmt is Format.table:
        plans = frame[frame["projects"] != ""][["budget_per_year_usd", "projects"]]
        plans = plans.assign(projects=plans["projects"].str.replace(";", ", "))
        emit_frame(plans, fmt, title="Projects (id@start year) in each plan")
        src = pd.DataFrame.from_dict(_project_sources(cand, frame), orient="index")
        if not src.empty:
            emit_frame(src.reset_index(names="project_id")[["project_id", "source_title", "source_url"]], fmt)


def _project_sources(cand: Any, frame: Any) -> dict[str, dict[str, str]]:
    """Source and class defaults of every project that appears in a timeline plan."""
    ids = {item.split("@")[0] for cell in frame["projects"] for item in str(cell).split(";") if item}
    return {
        pid: {
            "source_title": str(cand.loc[pid, "source_title"]),
            "source_url": str(cand.loc[pid, "source_url"]),
            "defaults_used": str(cand.loc[pid, "defaults_used"]),
        }
        for pid in sorted(ids)
    }


@plan_app.command("timeline")
def timeline(
    material: list[str] | None = typer.Option(
        None,
        "--material",
        "-m",
        help="Atlas material slug (repeatable or comma-separated); default: key set.",
    ),
    stage: str | None = typer.Option(None, "--stage", "-s", help="mine or refine; default: every stage."),
    target: float = TARGET_OPT,
    budget_per_year: float | None = typer.Option(
        None, "--budget-per-year", help="USD of capex a year for each material and stage (default: no limit)."
    ),
    samples: int = typer.Option(1000, "--samples", help="Monte Carlo samples of lead times and failures."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same years)."),
    group: str | None = typer.Option(None, "--group", help="Only named projects hosted in this group."),
    scenario: str = SCENARIO_OPT,
    bands: Path | None = typer.Option(None, "--bands", help="Write the share bands by year to this CSV."),
    value: bool = typer.Option(
        False, "--value", help="Also run the disruption engine: expected loss avoided."
    ),
    overrides: list[str] | None = SET_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """P10/P50/P90 year the non-China share reaches --target, with sampled lead times, delays and failures."""
    from pydantic import ValidationError
    from rich.console import Console
    from rich.progress import Progress

    from critmin.planning.independence import TimelineRequest, run_timeline

    mats = [m.strip() for item in material or [] for m in item.split(",") if m.strip()] or None
    try:
        req = TimelineRequest(
            materials=mats,
            stages=[stage] if stage else None,
            target=target,
            budget_per_year=budget_per_year,
            samples=samples,
            seed=seed,
            group=group,
            scenario=scenario,
            value=value,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        option = str(first["loc"][0]).replace("_", "-") if first["loc"] else "input"
        raise _fail(f"--{option}: {first['msg']} (got {first.get('input')!r})") from exc
    params = _params(overrides)
    try:
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("sampling timelines", total=None)
            report = run_timeline(req, params=params, on_step=lambda label: progress.advance(task))
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if bands is not None:
        report.bands.to_csv(bands, index=False)
    if fmt is Format.json:
        sys.stdout.write(to_json(report.to_dict()) + "\n")
        return
    _print_timeline(report, fmt)


def _print_timeline(report: Any, fmt: Format) -> None:
    import pandas as pd

    table = report.table
    if fmt is Format.csv:
        emit_frame(table, fmt)
        return

    def pct(v: Any) -> str:
        return "-" if v is None or v != v else f"{100 * v:.0f}%"

    def year(v: Any) -> str:
        return "-" if v is None or v != v else str(int(v))

    shown = pd.DataFrame(
        {
            "material": table["material"],
            "stage": table["stage"],
            "now": [pct(v) for v in table["non_china_share_now"]],
            **{q.upper(): [year(v) for v in table[q]] for q in ("p10", "p50", "p90")},
            "reached": [pct(v) for v in table["p_reached"]],
            "capex bn": ["-" if v != v else f"{v / 1e9:,.1f}" for v in table["capex_usd"]],
        }
    )
    if "loss_avoided_usd_per_year" in table.columns:
        shown["avoided M/yr"] = [
            "-" if v is None or v != v else f"{v / 1e6:,.1f}" for v in table["loss_avoided_usd_per_year"]
        ]
    req = report.request
    budget = "no budget limit" if req.budget_per_year is None else f"{req.budget_per_year:,.0f} USD/yr"
    emit_frame(
        shown,
        fmt,
        title=f"Year the non-China share reaches {req.target:.0%} ({budget}, {req.samples} samples)",
        caption="now: non-China share today; P10/P50/P90: the target holds from that year on in 10/50/90% of "
        "samples; reached: share of samples by 2050; capex bn: USD bn of units started; "
        + ("avoided M/yr: expected disruption loss avoided, USD M a year; " if req.value else "")
        + "'-' = not reached (reason below)",
    )
    for row in table.itertuples():
        if row.reason:
            typer.echo(f"{row.material}/{row.stage}: {row.reason}")


@plan_app.command("classes")
def classes_cmd(
    material: str = typer.Option(..., "--material", "-m", help="Atlas material slug."),
    overrides: list[str] | None = SET_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """The generic capacity classes of a material: unit size, capex, lead times, know-how cap and sources."""
    import pandas as pd

    from critmin.atlas import load_atlas
    from critmin.atlas.prices import latest_reference_prices
    from critmin.planning.classes import capacity_classes
    from critmin.planning.names import check_material
    from critmin.planning.pipeline import build_pipeline
    from critmin.planning.plan import atlas_baseline

    atlas = load_atlas()
    params = _params(overrides)
    try:
        check_material(material, [str(m) for m in atlas.materials["slug"]])
        pipe = build_pipeline(params=params)
        prices = latest_reference_prices(atlas.prices)
        rows = []
        for st in atlas.stages_of(material):
            world = float(atlas_baseline(material, st).tonnes.sum())
            rows += [
                c.describe() for c in capacity_classes(material, st, pipe.projects, world, prices, params)
            ]
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    emit_frame(pd.DataFrame(rows), fmt, title=f"Generic capacity classes: {material}")
