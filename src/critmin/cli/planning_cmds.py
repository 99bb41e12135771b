"""Investment-planning commands: ``critmin plan`` (one plan) and ``critmin plan projects``; the timeline
commands are in :mod:`critmin.cli.planning_timeline_cmds`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame, to_json
from critmin.cli.params import param_option, param_set

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
GROUP_OPT = typer.Option(None, "--group", help="Alliance country group (default: options().alliance_group).")
SCENARIO_OPT = typer.Option("STEPS", "--scenario", help="IEA demand scenario STEPS, APS, NZE, or flat.")
PROJECTS_OPT = typer.Option(None, "--projects", help="CSV of extra user/member projects (bundled columns).")
BASELINE_OPT = typer.Option(None, "--baseline", help="CSV iso3,tonnes[,year] replacing the atlas baseline.")
ALLY_SHARE_OPT = typer.Option(None, "--alliance-share", help="Alliance output / alliance demand to reach.")
ALLY_DEMAND_OPT = typer.Option(None, "--alliance-demand", help="Alliance demand in the baseline year, t.")
SET_OPT = param_option()
#: request fields whose command-line option is not the field name with dashes
OPTION_NAMES = {"alliance_demand_t": "alliance-demand", "third_country_cap": "no-third-country-cap"}


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _params(overrides: list[str] | None) -> ParameterSet:
    return param_set(overrides)


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

    if kwargs.get("group") is None:
        kwargs.pop("group", None)  # the request's default: the alliance group of the options tree
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
    group: str | None = GROUP_OPT,
    scenario: str = SCENARIO_OPT,
    projects: Path | None = PROJECTS_OPT,
    baseline: Path | None = BASELINE_OPT,
    burden: str | None = typer.Option(None, "--burden", help="Split capex: equal, host, pledges or gdp."),
    members: str | None = typer.Option(None, "--members", help="Comma-separated ISO3 members for --burden."),
    weights: str | None = typer.Option(None, "--weights", help="Pledges or GDP per member: USA=3e9,JPN=1e9."),
    overrides: list[str] | None = SET_OPT,
    value: bool = typer.Option(False, "--value", help="Also report the expected disruption loss avoided."),
    classes: bool = typer.Option(
        False, "--classes", help="Also plan generic capacity classes (greenfield mines, plants, recycling)."
    ),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Plan which projects to start when so the target holds from --by, at least discounted cost."""
    if ctx.invoked_subcommand is not None:
        return
    if material is None:
        raise _fail("--material is required (e.g. --material lithium --stage refine)")
    from critmin.planning.names import check_members
    from critmin.planning.pipeline import ProjectDataError
    from critmin.runs.plan import run

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
        value=value,
        classes=classes,
    )
    try:
        params = _params(overrides)
        pipeline, base = _inputs(projects, baseline, req, params)
        result = run(req, pipeline=pipeline, baseline=base, params=params)
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
        else:
            chosen = _group_class_units(chosen)
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
        for line in _extra_lines(out):
            typer.echo(line)


def _group_class_units(chosen: Any) -> Any:
    """Table view: generic class units started in the same year as one row (``class:mine x 27``)."""
    import pandas as pd

    is_class = chosen["project_id"].str.startswith("class:")
    if not is_class.any():
        return chosen
    units = chosen[is_class].assign(klass=chosen.loc[is_class, "project_id"].str.split("#").str[0])
    keys = ["klass", "country_iso3", "start_year", "first_output_year", "class_defaults"]
    grouped = units.groupby(keys, sort=True).agg(
        n=("project_id", "size"), capacity_t=("capacity_t", "sum"), capex_usd=("capex_usd", "sum")
    )
    rows = grouped.reset_index()
    rows["project_id"] = [f"{k} x {n}" for k, n in zip(rows["klass"], rows["n"], strict=True)]
    return pd.concat([chosen[~is_class], rows[chosen.columns]], ignore_index=True)


def _extra_lines(out: dict[str, Any]) -> list[str]:
    """The sampled timeline and the value of independence as sentences (table view)."""
    lines = []
    tl = out.get("timeline")
    if tl:
        years = ", ".join(f"{q.upper()} {tl[q] or 'not reached'}" for q in ("p10", "p50", "p90"))
        lines.append(
            f"sampled timeline ({tl['samples']} samples, named projects and generic capacity classes): the "
            f"target holds from {years}" + (f"; {tl['reason']}" if tl["reason"] else "")
        )
    v = out.get("value_of_independence")
    if v and v.get("valued"):
        lines.append(
            f"value of independence: {v['added_t']:,.0f} t of added non-China supply lower the expected "
            f"disruption loss from {v['expected_loss_usd']:,.0f} to {v['expected_loss_with_added_usd']:,.0f} "
            f"USD over {v['horizon_months']} months ({v['avoided_usd_per_year']:,.0f} USD a year avoided, "
            f"s.e. {v['avoided_se_usd']:,.0f}); plan cost {out['discounted_cost_usd']:,.0f} USD discounted"
        )
    elif v:
        lines.append(f"value of independence: {v.get('note', 'not valued')}")
    return lines


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
