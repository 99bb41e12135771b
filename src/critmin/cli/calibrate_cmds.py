"""``critmin calibrate``: the model against every observed episode point; ``--report`` rewrites the table."""

from __future__ import annotations

from pathlib import Path

import typer

import critmin
from critmin.cli.app import app

# the methods page of a source checkout (src/critmin -> repository root), else relative to the working dir
_ROOT = Path(critmin.__file__).resolve().parents[2]
DOCS_PAGE = (
    _ROOT / "docs/methods/calibration.md"
    if (_ROOT / "docs/methods").is_dir()
    else Path("docs/methods/calibration.md")
)


@app.command()
def calibrate(
    report: bool = typer.Option(
        False, "--report", help="Write the table into the calibration methods page (between its markers)."
    ),
    fit: bool = typer.Option(
        False, "--fit", help="Refit the free parameters (scipy least squares) and show the fitted set."
    ),
    page: Path = typer.Option(DOCS_PAGE, "--page", help="Methods page that --report rewrites."),
) -> None:
    """Compare the model with the observed episode prices (episode, month, observed, model, ratio)."""
    from critmin.atlas import load_atlas
    from critmin.disruption import calibration

    atlas = load_atlas()
    result = calibration.fit(atlas) if fit else calibration.evaluate(atlas)
    table = calibration.report_table(result)
    typer.echo(table)
    if fit:
        typer.echo("fitted values (copy into critmin/data/parameters/market.csv to adopt them):")
        for (name, mat), v in result.values.items():
            typer.echo(f"  {name}[{mat}] = {v:.4g}")
    if report:
        if fit:
            typer.echo("error: --report writes the bundled parameters' table; run it without --fit", err=True)
            raise typer.Exit(2)
        try:
            text = page.read_text(encoding="utf-8")
            new = calibration.write_report(table, text)
        except (OSError, ValueError) as exc:
            typer.echo(f"error: {page}: {exc}", err=True)
            raise typer.Exit(2) from exc
        tmp = page.with_name(page.name + ".part")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(page)
        typer.echo(f"wrote the table into {page}")
