"""Atlas commands: ``critmin materials``, ``countries``, ``sources`` and ``load``."""

from __future__ import annotations

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame

FORMAT_OPT = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json.")


@app.command()
def materials(fmt: Format = FORMAT_OPT) -> None:
    """List the materials of the atlas: slug, content basis, stages and USGS chapter."""
    from critmin.atlas import load_atlas

    emit_frame(load_atlas().materials, fmt, title="Materials")
