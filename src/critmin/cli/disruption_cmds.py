"""Disruption commands: ``critmin shock`` (one scenario) and ``critmin risk`` (Monte Carlo)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame, emit_object
from critmin.cli.params import param_option, parse_params

if TYPE_CHECKING:
    import pandas as pd

FORMAT_OPT = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json.")
PARAM_OPT = param_option()


# default columns of the shock table (fit 80 columns); --wide adds the rest of ShockResult.summary()
SHOCK_COLUMNS: dict[str, str] = {
    "material": "material",
    "max_price_outside": "peak x",
    "shortfall_t": "unmet t",
    "loss_usd": "loss",
    "extra_cost_usd": "(a)",
    "priced_out_usd": "(b)",
    "unmet_value_usd": "(c)",
}
SHOCK_WIDE: dict[str, str] = {
    **SHOCK_COLUMNS,
    "stage": "stage",
    "restrictor": "restrictor",
    "min_price_restrictor": "min x restr.",
    "restricted_t": "withheld t",
    "demand_destroyed_t": "priced out t",
    "windfall_usd": "(d)",
    "restrictor_producer_loss_usd": "restr. producers",
}


def usd(v: float) -> str:
    """Compact money: $1.23bn, $45.6m, $789k; NaN (unpriced) -> 'n/a'."""
    if v != v:
        return "n/a"
    for scale, unit, digits in ((1e9, "bn", 2), (1e6, "m", 1), (1e3, "k", 0)):
        if abs(v) >= scale:
            return f"${v / scale:,.{digits}f}{unit}"
    return f"${v:,.0f}"


def _shock_cell(key: str, v: object) -> str:
    if isinstance(v, str):
        return v
    x = float(v)  # type: ignore[arg-type]
    if key.endswith("_usd"):
        return usd(x)
    if key.startswith(("max_price", "min_price")):
        return f"{x:.2f}"
    return f"{x:,.1f}" if abs(x) < 1e5 else f"{x:,.0f}"


def _shock_table(rows: list[dict[str, object]], wide: bool, title: str, caption: str) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    cols = SHOCK_WIDE if wide else SHOCK_COLUMNS
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for key, head in cols.items():
        left = key in ("material", "stage", "restrictor")
        table.add_column(head, justify="left" if left else "right", no_wrap=True, overflow="fold")
    for r in rows:
        table.add_row(*(_shock_cell(k, r[k]) for k in cols))
    console = Console()
    need = console.measure(table, options=console.options.update(max_width=10_000)).maximum
    if need > console.width:  # never cut a number: let a wide table run past the terminal's edge
        console = Console(width=need)
    console.print(table)
    Console().print(caption)


@app.command()
def shock(
    scenario: str = typer.Argument(
        ..., help="Scenario file (YAML/JSON) or a bundled name, e.g. gallium-2023."
    ),
    param: list[str] | None = PARAM_OPT,
    wide: bool = typer.Option(False, "--wide", help="Table: all columns (default: those that fit 80)."),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Run one disruption scenario: price index per zone, shortfall and the loss by part per material."""
    from critmin.disruption import ScenarioError
    from critmin.disruption.inputs import InputError
    from critmin.parameters import ParameterSet
    from critmin.runs.shock import ShockRequest, run

    try:
        ps = ParameterSet().with_overrides(parse_params(param))
        result = run(ShockRequest(scenario=scenario), params=ps)
    except (ScenarioError, InputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if fmt is Format.json:
        emit_object(result.to_dict(), fmt)
        return
    if fmt is Format.csv:
        emit_frame(result.summary(), fmt)
        return
    sc = result.shock.scenario
    _shock_table(
        result.shock.summary(),
        wide,
        title=f"Scenario {sc.name} ({sc.horizon_months} months)",
        caption=(
            "loss = (a) + (b) + (c), importers outside the restrictor: (a) extra cost on what they still "
            "buy, (b) surplus lost on demand priced out, (c) value added lost on demand left unmet; "
            "producers' windfall (d) apart (--wide). peak x: highest outside price, 1.00 = baseline; "
            f"n/a: no price. Parameters {result.metadata.parameter_digest}."
        ),
    )


def _money(v: float) -> str:
    """USD in a short, uncut form: 6.88 bn, 412 M, 3.1 k."""
    if v != v:
        return "-"
    for div, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:,.3g} {unit}"
    return f"{v:,.0f}"


def _band(lo: float, hi: float) -> str:
    """``4.56-10.6 bn`` (one unit when both ends share it), ``-`` without a band."""
    if lo != lo or hi != hi:
        return "-"
    a, b = _money(lo), _money(hi)
    ua, ub = a.rpartition(" ")[2], b.rpartition(" ")[2]
    if " " in a and " " in b and ua == ub:
        return f"{a.rpartition(' ')[0]}-{b}"
    return f"{a}-{b}"


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
            _band(lo, hi)
            for lo, hi in zip(summary["expected_loss_p5_usd"], summary["expected_loss_p95_usd"], strict=True)
        ]
    out["CVaR95"] = summary["cvar_usd"].map(_money)
    if not members:
        out["P(restr.)"] = summary["p_disrupted"].map(lambda v: f"{v:.2f}")
    return out


@app.command()
def risk(
    scenarios: int | None = typer.Option(
        None, "--scenarios", "-n", min=1, help="Number of random scenarios (default: options, 10,000)."
    ),
    seed: int = typer.Option(
        0, "--seed", "-s", help="Random seed (same seed, same results on every backend)."
    ),
    horizon: int | None = typer.Option(
        None, "--horizon", min=1, help="Months per scenario (default: options, 24)."
    ),
    backend: str = typer.Option("local", "--backend", help="local or dask."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (default: LocalCluster)."
    ),
    chunk_size: int | None = typer.Option(
        None, "--chunk-size", min=1, help="Scenarios per chunk (bounds memory; default: options, 10,000)."
    ),
    parquet: Path | None = typer.Option(
        None,
        "--parquet",
        help="Write the world loss of every scenario (rows) and material (columns) to this Parquet file.",
    ),
    keep_scenarios: Path | None = typer.Option(
        None,
        "--keep-scenarios",
        help="Write every disrupted (scenario, material) pair (restrictor, loss and parts, shortfall, peak "
        "price, parameter set) to this Parquet file; memory then grows with --scenarios.",
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

    from critmin.disruption.inputs import InputError
    from critmin.parameters import ParameterSet
    from critmin.runs.risk import run

    if scheduler is not None:
        backend = "dask"  # a scheduler address only makes sense on the dask backend
    if backend not in ("local", "dask"):
        typer.echo(f"error: --backend {backend!r}; expected local or dask", err=True)
        raise typer.Exit(2)
    fields = {"n_scenarios": scenarios, "seed": seed, "horizon_months": horizon, "backend": backend,
              "scheduler": scheduler, "chunk_size": chunk_size, "perspective": perspective,
              "param_draws": param_draws, "as_of": start,
              "keep_scenarios": parquet is not None or keep_scenarios is not None}  # fmt: skip
    req = _request(fields)
    ps = ParameterSet().with_overrides(parse_params(param))
    bar_columns = (TextColumn("scenarios"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*bar_columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("risk", total=req.n_scenarios)
        try:
            result = run(req, params=ps, progress=lambda done, total: bar.update(task, completed=done))
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    if parquet is not None:
        result.write_parquet(parquet)
    if keep_scenarios is not None:
        result.write_scenarios(keep_scenarios)
    _emit_risk(result, members, perspective, req.n_scenarios, req.horizon_months, seed, wide, fmt)


#: request fields whose command-line option is not the field name with dashes
OPTION_NAMES = {"n_scenarios": "scenarios", "horizon_months": "horizon", "as_of": "start"}


def _request(fields: dict[str, Any]) -> Any:
    """The validated RiskRequest (a clear error naming the option otherwise)."""
    from pydantic import ValidationError

    from critmin.runs.risk import RiskRequest

    try:
        return RiskRequest(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = OPTION_NAMES.get(str(first["loc"][0]), str(first["loc"][0]).replace("_", "-"))
        typer.echo(f"error: --{name}: {first['msg']} (got {first.get('input')!r})", err=True)
        raise typer.Exit(2) from exc


def _emit_risk(
    result: Any,
    members: bool,
    perspective: str | None,
    scenarios: int,
    horizon: int,
    seed: int,
    wide: bool,
    fmt: Format,
) -> None:
    """Print the risk table: JSON object (rows, excluded, metadata), CSV, or the 80-column table."""
    from critmin.disruption.simulate import LOSS_NOTE

    table = result.member_summary if members else result.summary
    who = perspective or "world"
    excluded = list(result.excluded["material"])
    if fmt is Format.json:
        emit_object(
            {
                "perspective": who,
                "scenarios": scenarios,
                "horizon_months": horizon,
                "seed": seed,
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
