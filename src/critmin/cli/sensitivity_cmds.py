"""``critmin sensitivity``: which parameters drive the expected loss (Morris screening, then Sobol)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame, emit_object

if TYPE_CHECKING:
    import pandas as pd

LABELS = {
    "price_elasticity_demand_short_run": "demand elasticity SR",
    "price_elasticity_demand_long_run": "demand elasticity LR",
    "price_elasticity_supply_short_run": "supply elasticity SR",
    "price_elasticity_supply_long_run": "supply elasticity LR",
    "commercial_inventory_days": "commercial stocks",
    "spare_capacity_share": "spare capacity",
    "spare_capacity_restart_months": "spare restart months",
    "storage_release_elasticity": "stock release elast.",
}


def _view(table: pd.DataFrame) -> pd.DataFrame:
    """Short labels and two-decimal indices: fits 80 columns."""
    import pandas as pd

    t = table[table["sobol"]]
    return pd.DataFrame(
        {
            "output": t["output"],
            "#": t["rank"].astype(str),
            "parameter": t["parameter"].map(lambda p: LABELS.get(p, p)),
            "ST": t["ST"].map(lambda v: f"{v:.2f}"),
            "S1": t["S1"].map(lambda v: f"{v:.2f}"),
            "mu*": t["morris_mu_star"].map(lambda v: f"{v:.2f}"),
        }
    )


@app.command()
def sensitivity(
    scenarios: int = typer.Option(400, "--scenarios", "-n", min=2, help="Scenarios per model evaluation."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed (events and samples)."),
    horizon: int = typer.Option(24, "--horizon", min=1, help="Months per scenario."),
    trajectories: int = typer.Option(6, "--trajectories", min=2, help="Morris trajectories."),
    sobol_n: int = typer.Option(32, "--sobol-n", min=2, help="Sobol base samples (a power of 2)."),
    max_sobol: int = typer.Option(5, "--max-sobol", min=1, help="Most parameters kept for Sobol."),
    materials: int = typer.Option(5, "--materials", min=0, help="Materials shown besides the total."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json."),
) -> None:
    """Rank market parameters by their share of the variance of the expected loss (total, per material)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from critmin.atlas import load_atlas
    from critmin.disruption.sensitivity import run_sensitivity

    with Progress(
        TextColumn("model runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("sensitivity", total=None)
        try:
            res = run_sensitivity(
                load_atlas(),
                n_scenarios=scenarios,
                seed=seed,
                horizon_months=horizon,
                morris_trajectories=trajectories,
                sobol_n=sobol_n,
                max_sobol=max_sobol,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    shown = res.outputs[: 1 + materials]
    table = res.table[res.table["output"].isin(shown)]
    if fmt is Format.json:
        emit_object(
            {
                "rows": table.to_dict(orient="records"),
                "outputs": shown,
                "screened_in": res.screened_in,
                "evaluations": res.evaluations,
                "settings": res.settings,
            },
            fmt,
        )
        return
    if fmt is Format.csv:
        emit_frame(table, fmt)
        return
    emit_frame(
        _view(table),
        fmt,
        title=f"What drives the expected loss ({res.evaluations} model runs, {scenarios} scenarios each)",
        caption=(
            "ST = total Sobol index (share of the variance of the expected loss, with interactions), "
            "S1 = first order, mu* = Morris mean absolute effect / mean loss. Screened out by Morris: "
            + (", ".join(p for p in res.parameters if p not in res.screened_in) or "none")
            + ". Use --format csv for every column."
        ),
    )
