"""``critmin exposure``: who produces each material and stage, how concentrated, how exposed the alliance."""

from __future__ import annotations

import sys
from typing import Any

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame, emit_object, unknown_name
from critmin.cli.params import param_option, param_set

PARAM_OPT = param_option()


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(v)


def _tonnes(v: float) -> str:
    """Tonnes in the one format of the exposure output: whole tonnes with thousands separators."""
    return f"{v:,.0f}"


def _render_detail(d: dict[str, Any]) -> None:
    """Rich view of one material and stage: headline figures, then shares by country and group."""
    import pandas as pd

    keys = [
        "material",
        "stage",
        "year",
        "requested_year",
        "group",
        "total_t",
        "hhi",
        "hhi_upper",
        "top1_iso3",
        "top1_share",
        "china_share",
        "alliance_share",
        "other_share",
        "supply_risk",
        "import_year",
        "import_dependency_china",
        "geopolrisk",
        "us_nir",
        "source",
        "edition_note",
        "parameter_digest",
    ]
    head = pd.DataFrame(
        [(k, "-" if d.get(k) in (None, "") else d[k]) for k in keys], columns=["field", "value"]
    )
    head["value"] = [
        _tonnes(v) if k == "total_t" else _fmt(v) for k, v in zip(head["field"], head["value"], strict=True)
    ]
    emit_frame(head, Format.table, title=f"Exposure: {d['material']} / {d['stage']} / {d['year']}")
    shares = pd.DataFrame(list(d["shares"].items()), columns=["iso3", "share"])
    emit_frame(shares, Format.table, title="Shares of production (OTH = published 'Other countries')")
    groups = pd.DataFrame(list(d["group_shares"].items()), columns=["group", "share"])
    emit_frame(groups, Format.table, title="Group shares")
    if d.get("risk_methods"):
        methods = pd.DataFrame(
            [(r["method"], _fmt(float(r["value"])), len(r["flags"])) for r in d["risk_methods"]],
            columns=["published method", "value", "flags"],
        )
        emit_frame(
            methods,
            Format.table,
            title=f"Published risk methods for group {d['group']} (terms and flags: --format json)",
        )
    if d.get("withheld"):
        typer.echo(f"Withheld / not available (left out of the shares): {', '.join(d['withheld'])}")


def _render_table(table: Any, title: str, caption: str) -> None:
    """Compact rich table (key columns, rounded); ``--format csv``/``json`` carry every column."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    view = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
    )
    heads = ["material", "stage", "year", "tonnes", "hhi", "top1", "share", "china", "allied", "risk"]
    for h in heads:
        view.add_column(h, justify="left" if h in ("material", "stage", "top1") else "right", no_wrap=True)
    for r in table.itertuples(index=False):
        cells = (
            str(r.material),
            str(r.stage),
            str(r.year),
            _tonnes(float(r.total_t)),
            f"{r.hhi:,.0f}",
            str(r.top1_iso3 or "-"),
            f"{r.top1_share:.2f}",
            f"{r.china_share:.2f}",
            f"{r.alliance_share:.2f}",
            f"{r.supply_risk:.2f}",
        )
        view.add_row(*(Text(c) for c in cells))  # plain text: no markup or emoji parsing per cell
    console = Console(width=None if sys.stdout.isatty() else 100)  # pipes and files get the full table
    console.print(view)
    console.print(caption, style="dim")
    for r in table[table["note"] != ""].itertuples(index=False):
        console.print(f"note: {r.material} / {r.stage}: {r.note}", soft_wrap=True)


@app.command()
def exposure(
    material: str | None = typer.Option(None, "--material", "-m", help="Material slug, e.g. gallium."),
    stage: str | None = typer.Option(None, "--stage", "-s", help="Stage: mine, refine or magnet."),
    year: int | None = typer.Option(
        None,
        "--year",
        "-y",
        help="Year (default: options().default_year; falls back to the latest earlier year).",
    ),
    group: str | None = typer.Option(
        None,
        "--group",
        "-g",
        help="Group whose share is 'alliance_share' (default: options().alliance_group).",
    ),
    groups_file: str | None = typer.Option(None, "--groups-file", help="YAML file with extra groups."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json."),
    param: list[str] | None = PARAM_OPT,
) -> None:
    """Exposure report. With --material and --stage: one object (shares by country and group, HHI,
    supply risk, source). Otherwise a table of every material and stage (filtered by --material or
    --stage when given): total_t, hhi, top1_iso3, top1_share, china_share, alliance_share."""
    from pydantic import ValidationError

    from critmin.analytics.exposure import ExposureError
    from critmin.atlas import load_atlas
    from critmin.runs.exposure import ExposureRequest, run

    ps = param_set(param)
    atlas = load_atlas(groups_file)
    known = set(atlas.materials["slug"]) | set(atlas.production["material"])
    if material is not None and material not in known:
        typer.echo(f"error: {unknown_name('material', material, known, 'atlas materials')}", err=True)
        raise typer.Exit(2)
    given = {"material": material, "stage": stage, "year": year, "group": group}
    try:
        req = ExposureRequest(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        typer.echo(f"error: --{first['loc'][0]}: {first['msg']} (got {first.get('input')!r})", err=True)
        raise typer.Exit(2) from exc
    try:
        result = run(req, atlas=atlas, params=ps)
    except ExposureError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    if result.detail is not None:
        if fmt is Format.table:
            _render_detail(result.detail)
        else:
            emit_object(result.detail, fmt)
        return
    assert result.table is not None
    share = ps.get("edition_revision_note_share")
    caption = (
        f"tonnes = production, t (sum of published rows); allied = share of {req.group!r}; hhi leaves "
        "'Other countries' out (a lower bound; csv/json add hhi_upper); risk = EU supply risk; year = latest "
        f"year with data on or before the one asked; note = USGS editions disagree by more than {share:.0%}"
        " on the year's total"
    )
    if fmt is Format.table:
        _render_table(result.table, f"Exposure {req.year} (alliance = {req.group})", caption)
    else:
        emit_frame(result.table, fmt)
    sys.stdout.flush()
