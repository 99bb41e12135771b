"""Disruption commands: ``critmin shock`` (one scenario) and ``critmin risk`` (Monte Carlo)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame, emit_object
from critmin.cli.params import param_option, parse_params

if TYPE_CHECKING:
    import pandas as pd

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


def _money(v: float) -> str:
    """USD in a short, uncut form: 6.88 bn, 412 M, 3.1 k."""
    if v != v:
        return "-"
    for div, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:,.3g} {unit}"
    return f"{v:,.0f}"


def _risk_view(summary: pd.DataFrame, members: bool) -> pd.DataFrame:
    """The few columns shown by default (fits 80 columns; ``--wide`` shows every column)."""
    import pandas as pd

    label = "member" if members else "material"
    out = pd.DataFrame(
        {
            "#": summary["rank"].astype(str),
            label: summary[label],
            "expected": summary["expected_loss_usd"].map(_money),
        }
    )
    if not members:
        out["P5-P95"] = [
            f"{_money(lo)}-{_money(hi)}" if lo == lo else "-"
            for lo, hi in zip(summary["expected_loss_p5_usd"], summary["expected_loss_p95_usd"], strict=True)
        ]
    out["CVaR95"] = summary["cvar_usd"].map(_money)
    if not members:
        out["P(restr.)"] = summary["p_disrupted"].map(lambda v: f"{v:.2f}")
    return out


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
        None,
        "--parquet",
        help="Write the world loss of every scenario (rows) and material (columns) to this Parquet file.",
    ),
    members: bool = typer.Option(False, "--members", help="Show the per-member table instead of materials."),
    perspective: str | None = typer.Option(
        None,
        "--perspective",
        help="ISO3 code or group (e.g. USA, g7): rank materials by its part of the loss (default: world).",
    ),
    param_draws: int = typer.Option(
        40, "--param-draws", min=0, help="Parameter sets drawn within their ranges (0: central values only)."
    ),
    start: str | None = typer.Option(
        None, "--start", help="As-of month YYYY-MM: atlas data from the latest year before it."
    ),
    wide: bool = typer.Option(False, "--wide", help="Show every column (the default fits 80 columns)."),
    param: list[str] | None = PARAM_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """Monte Carlo of random export restrictions: expected loss with its P5-P95 band, VaR and CVaR (95%)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from critmin.atlas import load_atlas
    from critmin.disruption.inputs import InputError
    from critmin.disruption.montecarlo import run_monte_carlo
    from critmin.disruption.simulate import LOSS_NOTE
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
        try:
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
                perspective=perspective,
                param_draws=param_draws,
                as_of=start,
            )
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    if parquet is not None:
        import pandas as pd

        frame = pd.DataFrame(result.loss_usd, columns=result.materials)
        frame.index.name = "scenario"
        tmp = parquet.with_name(parquet.name + ".part")
        frame.to_parquet(tmp)
        os.replace(tmp, parquet)
    table = result.member_summary if members else result.summary
    who = perspective or "world"
    excluded = list(result.excluded["material"])
    if fmt is Format.json:
        emit_object(
            {
                "perspective": who,
                "loss_includes": LOSS_NOTE,
                "rows": table.to_dict(orient="records"),
                "excluded": result.excluded.to_dict(orient="records"),
                "parameters": result.metadata.parameters,
                "parameter_digest": result.metadata.parameter_digest,
                "data_editions": result.metadata.data_editions,
            },
            fmt,
        )
        return
    if fmt is Format.csv:
        emit_frame(table, fmt)
        if excluded and not members:
            typer.echo(f"excluded (no price): {', '.join(excluded)}", err=True)
        return
    note = (
        f"{who} part of the loss, USD; expected = mean over scenarios, P5-P95 = its band across parameter "
        "sets, CVaR95 = mean of the worst 5%; P(restr.) = share of scenarios with a restriction. "
        + (f"Excluded (no price): {', '.join(excluded)}. " if excluded and not members else "")
        + LOSS_NOTE
        + "."
    )
    emit_frame(
        table if wide else _risk_view(table, members),
        fmt,
        title=f"Disruption risk ({who}): {scenarios:,} scenarios, {horizon} months, seed {seed}",
        caption=note,
    )
