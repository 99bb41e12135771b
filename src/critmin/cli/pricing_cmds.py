"""Pricing commands: ``critmin price assess|stake|model`` and ``critmin floor``.

Prices are USD per kilogram at the command line and USD per tonne inside the model.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame, emit_object, unknown_name

price_app = typer.Typer(help="Reference prices from reported deals, price models and members' stake.")
app.add_typer(price_app, name="price")

FORMAT_OPT = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json.")
KG_PER_T = 1000.0
MECHANISM_HELP = "floor | floor-share | cfd | levy | offtake | reserve"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def parse_window(text: str) -> int:
    """``30d``, ``4w`` or ``30`` -> days."""
    m = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text)
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"--window: {text!r}; expected a positive number of days such as 30d or 4w")
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


@price_app.command("assess")
def assess_cmd(
    transactions: Path = typer.Argument(..., help="CSV of reported deals (see docs/guide/pricing.md)."),
    window: str = typer.Option(
        "30d", "--window", "-w", help="Assessment window ending on --as-of (30d, 4w)."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Assessment date YYYY-MM-DD (default: today, UTC)."
    ),
    fx: Path | None = typer.Option(
        None, "--fx", help="CSV currency,usd_per_unit (needed for non-USD deals)."
    ),
    differentials: Path | None = typer.Option(
        None, "--differentials", help="CSV of base specifications and differentials (USD/t)."
    ),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Assess reference prices (volume-weighted, MAD outliers out, >= 3 reporters, none above 50%)."""
    from critmin.pricing.history import known_materials
    from critmin.pricing.reference_price import assess, read_normalisation_csv
    from critmin.pricing.transactions import FxTable, TransactionFileError, read_fx_csv, read_transactions_csv

    try:
        days = parse_window(window)
        day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    try:
        table = read_fx_csv(fx) if fx else FxTable({})
        norm = read_normalisation_csv(differentials) if differentials else None
        txs = read_transactions_csv(transactions, materials=known_materials(), as_of=day, fx=table)
    except (TransactionFileError, OSError) as exc:
        raise _fail(str(exc)) from exc
    result = assess(txs, as_of=day, window_days=days, fx=table, normalisation=norm)
    if fmt is Format.json:
        emit_object(
            {
                "prices": result.prices.to_dict(orient="records"),
                "metadata": result.metadata.model_dump(),
            },
            fmt,
        )
        return
    df = result.prices
    if fmt is Format.table:  # compact view in USD/kg; csv and json keep every column in USD/t
        low = (df["band_low_usd_per_t"] / 1e3).map(lambda v: f"{v:,.4g}")
        high = (df["band_high_usd_per_t"] / 1e3).map(lambda v: f"{v:,.4g}")
        band = (low + "-" + high).where(df["status"] == "published", "-")
        df = df.assign(band_usd_per_kg=band)[
            [
                "material",
                "specification",
                "status",
                "price_usd_per_kg",
                "band_usd_per_kg",
                "volume_t",
                "count",
                "reporters",
                "liquidity",
                "reason",
            ]
        ]
    emit_frame(
        df,
        fmt,
        title=f"Reference prices, {days}-day window ending {day.isoformat()}",
        caption="band = volume-weighted P25-P75 of the included deals",
    )


@price_app.command("model")
def model_cmd(
    material: str = typer.Option(..., "--material", "-m", help="Material slug (ndpr-oxide, copper, ...)."),
    series: Path | None = typer.Option(
        None, "--series", help="User monthly CSV month,usd_per_t to fit instead."
    ),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Show the fitted price model of a material (mean reversion, volatility, restriction regime)."""
    import math

    from critmin.pricing.history import PriceSeriesError, read_monthly_csv
    from critmin.pricing.price_paths import fit_history, fit_material

    try:
        model = fit_history(read_monthly_csv(series, material)) if series else fit_material(material)
    except (PriceSeriesError, OSError) as exc:
        raise _fail(str(exc)) from exc
    out = {
        "material": material,
        "start_price_usd_per_kg": math.exp(model.x0) / KG_PER_T,
        "long_run_price_usd_per_kg": model.long_run_price / KG_PER_T,
        "mean_reversion_per_year": model.kappa,
        "half_life_years": math.log(2) / model.kappa,
        "volatility_per_year": model.sigma,
        "restriction_hazard_per_year": model.hazard,
        "restriction_months": model.duration_months,
        "restriction_price_multiple": math.exp(model.jump),
        **{f"fit_{k}": v for k, v in model.fit.items()},
    }
    emit_object(out, fmt)


@price_app.command("stake")
def stake_cmd(
    group: str = typer.Option("ministerial-2026", "--group", "-g", help="Member group."),
    levy_rate: float = typer.Option(
        0.0, "--levy-rate", help="Ad-valorem equivalent of the levy (0.2 = 20%)."
    ),
    year: int | None = typer.Option(None, "--year", help="BACI year (default: latest)."),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Members' critical-mineral trade with China and its change under the levy and Chinese retaliation."""
    from critmin.atlas import load_atlas
    from critmin.pricing.stake import members_stake

    atlas = load_atlas()
    if group not in atlas.groups:
        raise _fail(f"unknown group {group!r}; expected one of {', '.join(sorted(atlas.groups))}")
    try:
        res = members_stake(atlas.trade, atlas.groups[group], levy_rate=levy_rate, year=year)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if fmt is Format.json:
        emit_object(
            {"members": res.members.to_dict(orient="records"), "metadata": res.metadata.model_dump()}, fmt
        )
        return
    emit_frame(
        res.members,
        fmt,
        title=f"Members' trade with China, {res.year} (BACI, USD)",
        caption=f"levy {levy_rate:.0%} on imports from China; retaliation: China stops buying",
    )


def _distribution_frame(summary: dict[str, Any]) -> Any:
    import pandas as pd

    rows = [
        {"quantity": k, **v}
        for k, v in summary.items()
        if isinstance(v, dict) and {"mean", "p5", "p50", "p95"} <= set(v)
    ]
    return pd.DataFrame(rows, columns=["quantity", "mean", "p5", "p50", "p95"])


@app.command()
def floor(
    material: str = typer.Option(..., "--material", "-m", help="Material slug (e.g. ndpr-oxide)."),
    mechanism: str = typer.Option("floor", "--mechanism", help=MECHANISM_HELP),
    strike: float = typer.Option(..., "--strike", help="Strike / floor / reference price, USD per kg."),
    volume_t: float = typer.Option(..., "--volume-t", help="Covered t/yr (levy: non-member imports, t/yr)."),
    years: int = typer.Option(10, "--years", help="Horizon in years (monthly steps)."),
    paths: int = typer.Option(10_000, "--paths", help="Number of simulated price paths."),
    member_output_t: float = typer.Option(0.0, "--member-output-t", help="Levy only: member output, t/yr."),
    share: float | None = typer.Option(None, "--share", help="floor-share: upside share (default 0.3)."),
    series: Path | None = typer.Option(None, "--series", help="User monthly CSV month,usd_per_t to fit."),
    seed: int = typer.Option(2026, "--seed", help="Random seed of the price paths."),
    restrictions: bool = typer.Option(
        True, "--restrictions/--no-restrictions", help="Include export-restriction regimes in the paths."
    ),
    projects: bool = typer.Option(
        True, "--projects/--no-projects", help="Also report pipeline projects brought over their hurdle rate."
    ),
    paths_from: str = typer.Option(
        "model",
        "--paths-from",
        help="model: the fitted price model; disruption: the Monte Carlo price index x start price.",
    ),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Cost a floor, CfD, levy, offtake or reserve on simulated price paths (as distributions)."""
    import math

    from rich.console import Console
    from rich.progress import Progress

    from critmin.pricing.history import PriceSeriesError, priced_materials, read_monthly_csv
    from critmin.pricing.mechanisms import MECHANISMS, Mechanism, evaluate
    from critmin.pricing.price_paths import fit_history, fit_material, simulate

    if mechanism not in MECHANISMS:
        raise _fail(f"--mechanism: {mechanism!r}; expected one of {', '.join(MECHANISMS)}")
    if paths_from not in ("model", "disruption"):
        raise _fail(f"--paths-from: {paths_from!r}; expected model or disruption")
    if years < 1 or paths < 1 or strike <= 0 or volume_t < 0:
        raise _fail("--years and --paths must be >= 1, --strike > 0 USD/kg and --volume-t >= 0")
    if series is None and material not in (priced := priced_materials()):
        raise _fail(unknown_name("material", material, priced, "materials with a bundled price series"))
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("fitting the price model", total=3)
        try:
            model = fit_history(read_monthly_csv(series, material)) if series else fit_material(material)
        except (PriceSeriesError, OSError) as exc:
            raise _fail(str(exc)) from exc
        progress.update(task, advance=1, description=f"simulating {paths:,} paths ({paths_from})")
        if paths_from == "disruption":
            from critmin.atlas import load_atlas
            from critmin.disruption.montecarlo import run_monte_carlo
            from critmin.pricing.price_paths import paths_from_monte_carlo

            mc = run_monte_carlo(load_atlas(), paths, seed, horizon_months=12 * years, keep_paths=True)
            try:
                sim = paths_from_monte_carlo(mc, material, math.exp(model.x0))
            except ValueError as exc:
                raise _fail(str(exc)) from exc
        else:
            sim = simulate(model, n_paths=paths, months=12 * years, seed=seed, restrictions=restrictions)
        progress.update(task, advance=1, description=f"evaluating {mechanism}")
        try:
            mech = Mechanism(
                mechanism,  # type: ignore[arg-type]
                strike * KG_PER_T,
                volume_t,
                upside_share=share,
                member_output_t_per_year=member_output_t,
            )
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        table = None
        if projects:
            from critmin.pricing.supply_response import project_breakevens

            table = project_breakevens(material)
            table = table if len(table) else None
        res = evaluate(
            mech,
            sim,
            material=material,
            params=None,
            path_source="disruption Monte Carlo"
            if paths_from == "disruption"
            else str(model.fit.get("source")),
            projects=table,
        )
        progress.update(task, advance=1)
    summary = dict(res.summary)
    summary["strike_usd_per_kg"] = strike
    summary["start_price_usd_per_kg"] = math.exp(model.x0) / KG_PER_T
    summary["paths_from"] = paths_from
    summary["price_model"] = {
        "kappa": model.kappa,
        "sigma": model.sigma,
        "long_run_usd_per_kg": model.long_run_price / KG_PER_T,
        **model.fit,
    }
    if fmt is Format.json:
        from critmin.parameters import ParameterSet
        from critmin.pricing.price_paths import PP_PARAMETERS

        meta = res.metadata.model_dump()
        meta["parameters"] |= ParameterSet().used(PP_PARAMETERS)  # the price model's parameters too
        emit_object(summary | {"metadata": meta}, fmt)
        return
    emit_frame(
        _distribution_frame(summary),
        fmt,
        title=f"{mechanism} on {material}: strike {strike:g} USD/kg, {volume_t:g} t/yr, {years} years, "
        f"{paths:,} paths",
        caption=f"USD (PV at {summary['discount_rate']:.1%}); fiscal > 0 = government pays; "
        f"P(government pays) = {summary['prob_government_pays']:.0%}",
    )
