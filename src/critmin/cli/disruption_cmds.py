"""Disruption commands: ``critmin shock`` (one scenario) and ``critmin risk`` (Monte Carlo)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame, emit_object
from critmin.cli.params import param_option, parse_params

FORMAT_OPT = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json.")
PARAM_OPT = param_option()


@app.command()
def shock(
    scenario: str = typer.Argument(
        ..., help="Scenario file (YAML/JSON) or a bundled name, e.g. gallium-2023."
    ),
    param: list[str] | None = PARAM_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """Run one disruption scenario: price index per zone, shortfall and losses per named material."""
    from critmin.atlas import load_atlas
    from critmin.disruption import ScenarioError, load_scenario, simulate
    from critmin.disruption.events import bundled_scenario
    from critmin.disruption.inputs import InputError
    from critmin.parameters import ParameterSet

    try:
        as_file = Path(scenario).exists() or Path(scenario).suffix.lower() in (".yaml", ".yml", ".json")
        sc = load_scenario(scenario) if as_file else bundled_scenario(scenario)
        ps = ParameterSet().with_overrides(parse_params(param))
        result = simulate(load_atlas(), sc, params=ps)
    except (ScenarioError, InputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if fmt is Format.json:
        emit_object(result.to_dict(), fmt)
        return
    import pandas as pd

    emit_frame(
        pd.DataFrame(result.summary()),
        fmt,
        title=f"Scenario {sc.name} ({sc.horizon_months} months)",
        caption=f"price index 1.0 = baseline; parameters {result.metadata.parameter_digest}",
    )


@app.command()
def risk(
    scenarios: int = typer.Option(10_000, "--scenarios", "-n", min=1, help="Number of random scenarios."),
    seed: int = typer.Option(
        0, "--seed", "-s", help="Random seed (same seed, same results on every backend)."
    ),
    horizon: int = typer.Option(24, "--horizon", min=1, help="Months per scenario."),
    backend: str = typer.Option("local", "--backend", help="local or dask."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (default: LocalCluster)."
    ),
    chunk_size: int = typer.Option(
        10_000, "--chunk-size", min=1, help="Scenarios per chunk (bounds memory)."
    ),
    parquet: Path | None = typer.Option(
        None, "--parquet", help="Write per-scenario losses [scenario x material]."
    ),
    members: bool = typer.Option(False, "--members", help="Show the per-member table instead of materials."),
    param: list[str] | None = PARAM_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """Monte Carlo of random export restrictions: expected loss, VaR and CVaR (95%) per material or member."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from critmin.atlas import load_atlas
    from critmin.disruption.montecarlo import run_monte_carlo
    from critmin.parameters import ParameterSet

    if scheduler is not None:
        backend = "dask"  # a scheduler address only makes sense on the dask backend
    if backend not in ("local", "dask"):
        typer.echo(f"error: --backend {backend!r}; expected local or dask", err=True)
        raise typer.Exit(2)
    ps = ParameterSet().with_overrides(parse_params(param))
    atlas = load_atlas()
    with Progress(
        TextColumn("scenarios"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("risk", total=scenarios)
        result = run_monte_carlo(
            atlas,
            scenarios,
            seed,
            horizon,
            backend=backend,
            scheduler=scheduler,
            chunk_size=chunk_size,
            params=ps,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    if parquet is not None:
        import pandas as pd

        frame = pd.DataFrame(result.loss_usd, columns=result.materials)
        frame.index.name = "scenario"
        tmp = parquet.with_name(parquet.name + ".part")
        frame.to_parquet(tmp)
        os.replace(tmp, parquet)
    table = result.member_summary if members else result.summary
    emit_frame(
        table,
        fmt,
        title=f"Disruption risk: {scenarios:,} scenarios, {horizon} months, seed {seed}",
        caption="loss in USD; VaR/CVaR at 95%; member losses by import-share allocation",
    )
