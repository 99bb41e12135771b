"""Investment-planning commands: ``critmin plan`` (one plan) and ``critmin plan timeline`` (budget curve)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame, to_json

if TYPE_CHECKING:
    from critmin.parameters import ParameterSet
    from critmin.planning.pipeline import Pipeline
    from critmin.planning.plan import Baseline, PlanRequest

plan_app = typer.Typer(
    name="plan",
    help="Capacity-expansion plans: which projects to start when to reach a supply target at least cost.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(plan_app, name="plan")

FORMAT_OPT = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json.")
MATERIAL_OPT = typer.Option(None, "--material", "-m", help="Atlas material slug, e.g. lithium.")
STAGE_OPT = typer.Option("refine", "--stage", "-s", help="Atlas stage: mine or refine.")
TARGET_OPT = typer.Option(0.5, "--target", help="Non-China share of supply to reach (0-1).")
NO_CAP_OPT = typer.Option(
    False, "--no-third-country-cap", help="Drop the CRMA rule: no single third country above 65%."
)
GROUP_OPT = typer.Option("ministerial-2026", "--group", help="Alliance country group.")
SCENARIO_OPT = typer.Option("STEPS", "--scenario", help="IEA demand scenario STEPS, APS, NZE, or flat.")
PROJECTS_OPT = typer.Option(None, "--projects", help="CSV of extra user/member projects (bundled columns).")
BASELINE_OPT = typer.Option(None, "--baseline", help="CSV iso3,tonnes[,year] replacing the atlas baseline.")
ALLY_SHARE_OPT = typer.Option(None, "--alliance-share", help="Alliance output / alliance demand to reach.")
ALLY_DEMAND_OPT = typer.Option(None, "--alliance-demand", help="Alliance demand in the baseline year, t.")
SET_OPT = typer.Option(
    None,
    "--set",
    help="Override a parameter or class default, repeatable: name=value or name[material]=value, "
    "e.g. --set 'capex_usd_per_tpa_refine[gallium]=2e6'.",
)
#: request fields whose command-line option is not the field name with dashes
OPTION_NAMES = {"alliance_demand_t": "alliance-demand", "third_country_cap": "no-third-country-cap"}
_SET_RE = re.compile(r"^(?P<name>[a-z0-9_]+)(?:\[(?P<material>[a-z0-9-]+)\])?=(?P<value>.+)$")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _params(overrides: list[str] | None) -> ParameterSet:
    from critmin.parameters import ParameterSet

    values: dict[tuple[str, str], float] = {}
    for text in overrides or []:
        hit = _SET_RE.match(text.strip())
        try:
            if hit is None:
                raise ValueError(text)
            values[(hit["name"], hit["material"] or "default")] = float(hit["value"])
        except ValueError as exc:
            raise _fail(f"--set {text!r}: expected name=number or name[material]=number") from exc
    return ParameterSet().with_overrides(values)


def _inputs(
    projects: Path | None, baseline: Path | None, request: PlanRequest, params: ParameterSet
) -> tuple[Pipeline, Baseline]:
    import pandas as pd

    from critmin.planning.pipeline import build_pipeline, load_bundled_projects, load_user_projects
    from critmin.planning.plan import atlas_baseline, read_baseline_csv

    rows = load_bundled_projects()
    if projects is not None:
        rows = pd.concat(
            [rows.assign(origin="bundled"), load_user_projects(projects).assign(origin=str(projects))]
        )
    pipeline = build_pipeline(rows.reset_index(drop=True), params=params)
    base = read_baseline_csv(baseline) if baseline else atlas_baseline(request.material, request.stage)
    return pipeline, base


def _request(**kwargs: Any) -> PlanRequest:
    from pydantic import ValidationError

    from critmin.planning.plan import PlanRequest

    try:
        return PlanRequest(**kwargs)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "input"
        option = OPTION_NAMES.get(field, field.replace("_", "-"))
        raise _fail(f"--{option}: {first['msg']} (got {first.get('input')!r})") from exc


@plan_app.callback(invoke_without_command=True)
def plan(
    ctx: typer.Context,
    material: str | None = MATERIAL_OPT,
    stage: str = STAGE_OPT,
    target: float = TARGET_OPT,
    by: int = typer.Option(2035, "--by", help="Year from which the target must hold."),
    budget_per_year: float | None = typer.Option(None, "--budget-per-year", help="USD of capex a year."),
    no_cap: bool = NO_CAP_OPT,
    alliance_share: float | None = ALLY_SHARE_OPT,
    alliance_demand: float | None = ALLY_DEMAND_OPT,
    group: str = GROUP_OPT,
    scenario: str = SCENARIO_OPT,
    projects: Path | None = PROJECTS_OPT,
    baseline: Path | None = BASELINE_OPT,
    burden: str | None = typer.Option(None, "--burden", help="Split capex: equal, host, pledges or gdp."),
    members: str | None = typer.Option(None, "--members", help="Comma-separated ISO3 members for --burden."),
    weights: str | None = typer.Option(None, "--weights", help="Pledges or GDP per member: USA=3e9,JPN=1e9."),
    overrides: list[str] | None = SET_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """Plan which projects to start when so the target holds from --by, at least discounted cost."""
    if ctx.invoked_subcommand is not None:
        return
    if material is None:
        raise _fail("--material is required (e.g. --material lithium --stage refine)")
    from critmin.planning.names import check_members
    from critmin.planning.pipeline import ProjectDataError
    from critmin.planning.plan import run_plan

    if members:
        try:
            check_members(members.split(","))
        except ValueError as exc:
            raise _fail(f"--members {members!r}: {exc}") from exc
    req = _request(
        material=material,
        stage=stage,
        target=target,
        by=by,
        budget_per_year=budget_per_year,
        third_country_cap=not no_cap,
        alliance_share=alliance_share,
        alliance_demand_t=alliance_demand,
        group=group,
        scenario=scenario,
    )
    try:
        params = _params(overrides)
        pipeline, base = _inputs(projects, baseline, req, params)
        result = run_plan(req, pipeline=pipeline, baseline=base, params=params)
    except (ProjectDataError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    out = result.to_dict()
    if burden is not None and result.result.feasible:
        out["burden"] = _burden(result, burden, members, weights)
        out["burden_rule"] = burden
    if fmt is Format.json:
        sys.stdout.write(to_json(out) + "\n")
    else:
        _print_plan(out, fmt)
    if not out["feasible"]:
        typer.echo(f"error: no plan meets the request: {out['explanation']}", err=True)
        raise typer.Exit(1)


def _burden(result: Any, rule: str, members: str | None, weights: str | None) -> list[dict[str, Any]]:
    from critmin.planning.burden import share_burden
    from critmin.planning.names import check_members

    if not members:
        raise _fail("--burden needs --members (comma-separated ISO3 codes)")
    try:
        names = check_members(members.split(","))
    except ValueError as exc:
        raise _fail(f"--members {members!r}: {exc}") from exc
    wmap: dict[str, float] | None = None
    if weights:
        try:
            wmap = {k.strip().upper(): float(v) for k, v in (p.split("=") for p in weights.split(","))}
        except ValueError as exc:
            raise _fail(f"--weights {weights!r}: expected ISO3=number pairs, e.g. USA=3e9,JPN=1e9") from exc
    if rule == "gdp" and wmap is None:
        wmap = _gdp_weights(names)
    elif wmap is not None:
        unknown = sorted(set(wmap) - set(names))
        if unknown:
            raise _fail(f"--weights names {unknown}, which are not in --members {names}")
    sched = result.result.schedule
    by = result.request.by
    supply_out = _project_output(result, by)
    try:
        frame = share_burden(sched, supply_out, names, rule, wmap)  # type: ignore[arg-type]
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    records: list[dict[str, Any]] = frame.to_dict(orient="records")  # type: ignore[assignment]
    return records


def _gdp_weights(members: list[str]) -> dict[str, float]:
    """GDP per member from the atlas table ``gdp`` (World Bank WDI), latest year common to all."""
    from critmin.atlas import load_atlas
    from critmin.planning.burden import gdp_weights

    gdp = getattr(load_atlas(), "gdp", None)
    if gdp is None:
        raise _fail(
            "--burden gdp: this atlas build has no World Bank GDP table (gdp); give --weights ISO3=USD"
        )
    try:
        weights, year = gdp_weights(gdp, members)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"note: GDP shares from World Bank WDI GDP (current USD), {year}", err=True)
    return weights


def _project_output(result: Any, year: int) -> Any:
    from critmin.optimize.expansion import project_output

    sched = result.result.schedule
    return project_output(result.result.problem, sched.set_index("project_id")["start_year"], year)


def _print_plan(out: dict[str, Any], fmt: Format) -> None:
    import pandas as pd

    budget = out["budget_per_year_usd"]
    budget_text = "none" if budget is None else f"{budget:,.0f} USD/yr"
    head = f"{out['material']} / {out['stage']}: {'; '.join(out['targets'])}; budget {budget_text}"
    projects = pd.DataFrame(out["projects"])
    if out["feasible"]:
        cols = ["project_id", "country_iso3", "start_year", "first_output_year", "capacity_t", "capex_usd"]
        chosen = projects[cols].assign(
            class_defaults=[d.replace(";", ", ") or "-" for d in projects["defaults_used"]]
        )
        if fmt is not Format.table:  # the table view prints the sources as a table of their own
            chosen = chosen.assign(source_title=projects["source_title"], source_url=projects["source_url"])
        emit_frame(
            chosen,
            fmt,
            title=head,
            caption=f"discounted cost {out['discounted_cost_usd']:,.0f} USD; target first met "
            f"{out['first_year_target_met']}",
        )
        if fmt is Format.table:
            emit_frame(projects[["project_id", "source_title", "source_url"]], fmt, title="Sources")
        supply = pd.DataFrame(out["supply_by_year"])
        if fmt is Format.table:
            emit_frame(
                supply[
                    [
                        "year",
                        "new_t",
                        "non_china_share_a",
                        "non_china_share_b",
                        "max_third_country_share",
                        "max_third_country",
                        "capex_usd",
                    ]
                ],
                fmt,
                title="Supply by year (share a: incumbents hold; share b: supply = IEA demand)",
            )
    else:
        typer.echo(head)
        typer.echo(out["explanation"])
        if out["shortfalls"]:
            short = pd.DataFrame(out["shortfalls"])
            summary = (
                short.groupby(["target", "constraint", "accounting"], sort=False)
                .agg(
                    first_year=("year", "min"),
                    last_year=("year", "max"),
                    max_shortfall_t=("shortfall_t", "max"),
                )
                .reset_index()
            )
            emit_frame(summary, fmt, title="Capacity short even with every eligible project at its earliest")
    if "burden" in out:
        emit_frame(
            pd.DataFrame(out["burden"]),
            fmt,
            title=f"Burden sharing (t secured in {out['target_year']}; rule {out['burden_rule']})",
        )
    if fmt is Format.table:
        for note in out["notes"]:
            typer.echo(f"note: {note}")


@plan_app.command("curve")
def curve(
    material: str = typer.Option(..., "--material", "-m", help="Atlas material slug, e.g. lithium."),
    stage: str = STAGE_OPT,
    target: float = TARGET_OPT,
    budgets: str = typer.Option("1e9,2e9,5e9", "--budgets", help="Comma-separated USD a year."),
    no_cap: bool = NO_CAP_OPT,
    group: str = GROUP_OPT,
    scenario: str = SCENARIO_OPT,
    projects: Path | None = PROJECTS_OPT,
    baseline: Path | None = BASELINE_OPT,
    overrides: list[str] | None = SET_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """Deterministic MILP: first year the target can hold for each annual budget (named projects only)."""
    import pandas as pd
    from rich.console import Console
    from rich.progress import Progress

    from critmin.atlas import load_atlas
    from critmin.planning.pipeline import ProjectDataError
    from critmin.planning.plan import PLAN_PARAMETERS, make_problem
    from critmin.planning.timeline import EXPERT_RANGE_YEARS, independence_timeline
    from critmin.provenance import RunMetadata

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
        if group not in groups:
            raise ValueError(f"unknown group {group!r}; known groups: {sorted(groups)}")
        problem, cand, notes = make_problem(req, pipeline, base, groups[group], params)
    except (ProjectDataError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    start = problem.years[0]
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("solving budgets", total=len(values))
        frame = independence_timeline(problem, values, on_step=lambda: progress.advance(task))
    if fmt is Format.json:
        payload = {
            "material": material,
            "stage": stage,
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
        sys.stdout.write(to_json(payload) + "\n")
        return
    shown = frame.astype(object).where(frame.notna(), "-")
    for col in ("first_year", "years_from_start"):
        shown[col] = [v if v == "-" else int(v) for v in shown[col]]
    goals = "; ".join(t.describe().rsplit(" from ", 1)[0] for t in problem.targets)
    emit_frame(
        shown.drop(columns="projects") if fmt is Format.table else shown.replace("-", ""),
        fmt,
        title=f"{material} / {stage}: first year from which {goals}",
        caption=f"experts: independence from Chinese processing takes {EXPERT_RANGE_YEARS[0]}-"
        f"{EXPERT_RANGE_YEARS[1]} years; first plan year {start}; '-' = not within the horizon",
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


@plan_app.command("projects")
def projects_cmd(
    material: str | None = typer.Option(None, "--material", "-m", help="Only this atlas material."),
    projects: Path | None = PROJECTS_OPT,
    excluded: bool = typer.Option(False, "--excluded", help="List the excluded projects and why."),
    overrides: list[str] | None = SET_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """The project pipeline on the atlas basis: capacity, capex, lead time, defaults used, or exclusions."""
    import pandas as pd

    from critmin.planning.pipeline import (
        ProjectDataError,
        build_pipeline,
        load_bundled_projects,
        load_user_projects,
    )

    try:
        rows = load_bundled_projects().assign(origin="bundled")
        if projects is not None:
            rows = pd.concat([rows, load_user_projects(projects).assign(origin=str(projects))])
        pipe = build_pipeline(rows.reset_index(drop=True), params=_params(overrides))
    except ProjectDataError as exc:
        raise _fail(str(exc)) from exc
    p = pipe.projects
    if material is not None:
        p = p[p["material"] == material]
    if excluded:
        emit_frame(
            p.loc[~p["included"], ["project_id", "material", "stage", "status", "exclusion_reason"]], fmt
        )
        return
    cols = ["project_id", "country_iso3", "material", "stage", "status", "capacity_t", "capex_usd"]
    cols += ["lead_time_years", "earliest_start", "defaults_used"]
    emit_frame(p.loc[p["included"], cols], fmt, title="Project pipeline (capacity in t/yr of atlas content)")


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
    req = report.request
    budget = "no budget limit" if req.budget_per_year is None else f"{req.budget_per_year:,.0f} USD/yr"
    emit_frame(
        shown,
        fmt,
        title=f"Year the non-China share reaches {req.target:.0%} ({budget}, {req.samples} samples)",
        caption="now: non-China share today; P10/P50/P90: the target holds from that year on in 10/50/90% of "
        "samples; reached: share of samples by 2050; capex bn: USD bn of units started; '-' = not reached "
        "(reason below)",
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
