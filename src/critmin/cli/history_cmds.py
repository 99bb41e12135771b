"""``critmin history``: the top producers' shares of one material and stage over time."""

from __future__ import annotations

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame


@app.command()
def history(
    material: str = typer.Option(..., "--material", "-m", help="Material slug (see `critmin materials`)."),
    stage: str = typer.Option("mine", "--stage", "-s", help="Stage: mine, refine or magnet."),
    top: int = typer.Option(5, "--top", "-n", min=1, help="Number of producers named (others = REST)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json."),
) -> None:
    """Producers' shares per year (observed, newest edition per year) beside IEA projections.

    CSV and JSON give the long table (year, kind, iso3, tonnes, share, edition, source); the table view is
    one row per year with a column per producer."""
    from critmin.analytics.history import HistoryError
    from critmin.runs.history import HistoryRequest, run

    try:
        result = run(HistoryRequest(material=material, stage=stage, top=top))
    except HistoryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if fmt is not Format.table:
        emit_frame(result.long, fmt)
        return
    wide = result.wide()
    shares = [c for c in wide.columns if c not in ("year", "kind", "edition")]
    for c in shares:
        wide[c] = wide[c].map(lambda v: "" if v != v else f"{v:.2f}")
    emit_frame(
        wide,
        fmt,
        title=f"Shares of {material} / {result.request.stage} production by year",
        caption="share of the listed rows' sum per year; REST = all other producers; kind = observed "
        "(primary edition of the year) or projection (IEA base case); before 2016: Theler et al. 2020, a "
        "secondary transcription of the USGS Minerals Yearbook",
    )
