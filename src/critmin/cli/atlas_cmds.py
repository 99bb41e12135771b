"""Atlas commands: ``critmin materials``, ``countries``, ``sources`` and ``load``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame

FORMAT_OPT = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json.")
GROUPS_FILE_OPT = typer.Option(
    None, "--groups-file", help="YAML file of extra country groups (default: $CRITMIN_GROUPS_FILE)."
)


def checked_atlas() -> Any:
    """The atlas, checked as the options say: strict -> exit 2 naming the problems; lenient -> each problem
    printed as a warning on stderr (the output itself stays clean CSV / JSON)."""
    from critmin.atlas import load_atlas
    from critmin.atlas.loader import AtlasConsistencyError

    try:
        atlas = load_atlas()
    except AtlasConsistencyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for w in atlas.warnings:
        typer.echo(f"warning: atlas consistency: {w}", err=True)
    return atlas


@app.command()
def materials(fmt: Format = FORMAT_OPT) -> None:
    """List every material and stage: content basis, years with numbers, editions, flags and notes."""
    from critmin.atlas.catalog import material_catalog

    df = material_catalog(checked_atlas())
    emit_frame(
        df,
        fmt,
        title=f"Materials ({df['material'].nunique()})",
        caption="years: primary rows with a number; flags: counts of the primary rows; missing = a declared "
        "stage with no data (a gap, not estimated)",
    )


@app.command()
def countries(
    group: str | None = typer.Option(None, "--group", "-g", help="Only the members of this group."),
    groups_file: Path | None = GROUPS_FILE_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """List countries (ISO3, name, groups they belong to); with --group only that group's members."""
    import pandas as pd

    from critmin.atlas import load_atlas
    from critmin.atlas.countries import OTHER, country_name
    from critmin.atlas.groups import GroupFileError

    try:
        atlas = load_atlas(groups_file)
    except GroupFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    groups = atlas.groups
    if group is not None and group not in groups:
        typer.echo(f"error: unknown group {group!r}; expected one of {', '.join(sorted(groups))}", err=True)
        raise typer.Exit(2)
    producers = {c for c in atlas.production["iso3"] if c != OTHER and "+" not in c}
    codes = sorted(groups[group]) if group else sorted(producers.union(*groups.values()))
    df = pd.DataFrame(
        {
            "iso3": codes,
            "name": [country_name(c) for c in codes],
            "groups": [", ".join(g for g in sorted(groups) if c in groups[g]) for c in codes],
            "in_production_data": [c in producers for c in codes],
        }
    )
    emit_frame(df, fmt, title=f"Countries{' in ' + group if group else ''} ({len(df)})")


@app.command()
def sources(fmt: Format = FORMAT_OPT) -> None:
    """Data editions behind the atlas: title, licence, attribution, tables fed, rows and flag counts."""
    from critmin.atlas.sources import source_summary

    emit_frame(source_summary(checked_atlas()), fmt, title="Data sources")


@app.command()
def load(
    file: Path = typer.Argument(..., help="A production or trade CSV (see docs/guide/atlas.md)."),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Validate your own production or trade CSV and show what it would add (exit code 1 on errors)."""
    import pandas as pd

    from critmin.atlas.userdata import UserDataError, load_user_csv

    try:
        rows = load_user_csv(file)
    except UserDataError as exc:
        problems = pd.DataFrame([vars(p) for p in exc.problems])
        typer.echo(f"{file}: {len(exc.problems)} problem(s); nothing loaded", err=True)
        emit_frame(problems, fmt, title="Problems (nothing loaded)")
        raise typer.Exit(1) from exc
    kind = rows.attrs.get("kind", "production")
    emit_frame(rows, fmt, title=f"{len(rows)} {kind} row(s) that {file.name} would add")


data_app = typer.Typer(help="Build the atlas tables from raw files.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("build")
def data_build(
    raw: Path = typer.Option(..., "--raw", help="Folder of new raw files (layout of critmin/data/raw)."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: critmin/data/built)."),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Rebuild the atlas with the files of --raw laid over the bundled ones; report rows added and shares
    moved by more than a point (next year's USGS MCS release: usgs_mcs2027/MCS2027_Commodities_Data.csv)."""
    from critmin.data.refresh import rebuild

    try:
        report = rebuild(raw, out)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    emit_frame(report.rows, fmt, title="Rows per table (added / removed by key)")
    emit_frame(report.moved, fmt, title="Shares moved by more than 1 point (primary rows)")
    if fmt is Format.table:
        typer.echo(f"wrote {len(report.written)} tables to {report.written[0].parent}")
