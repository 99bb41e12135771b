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
    """Show the fitted no-event price model of a material (mean reversion, volatility)."""
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
        **{f"fit_{k}": v for k, v in model.fit.items()},
    }
    emit_object(out, fmt)


@price_app.command("chain")
def chain_cmd(
    material: str = typer.Option(
        ..., "--material", "-m", help="Material with a stage chain (germanium, ...)."
    ),
    year: int | None = typer.Option(None, "--year", help="USGS price year (default: latest)."),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Reference prices per stage and the cost-based fair-value check between stages."""
    from critmin.atlas import load_atlas
    from critmin.pricing.stage_chain import fair_value_check, stage_prices

    try:
        chain = stage_prices(material, load_atlas().prices, year=year)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    checks = fair_value_check(chain)
    if fmt is Format.json:
        emit_object(
            {"stages": chain.to_dict(orient="records"), "checks": checks.to_dict(orient="records")}, fmt
        )
        return
    emit_frame(chain, fmt, title=f"{material}: price per stage (USD per t of the stage's product)")
    if fmt is Format.table:
        emit_frame(checks, fmt, title="Fair-value check: margin over the contained input's cost")


@price_app.command("stake")
def stake_cmd(
    member: str | None = typer.Option(
        None, "--member", help="ISO3 of one member (e.g. ARG): its stake in detail. Default: all members."
    ),
    group: str | None = typer.Option(
        None, "--group", "-g", help="Member group that joins (default: alliance)."
    ),
    levy_rate: float = typer.Option(
        0.0, "--levy-rate", help="Ad-valorem equivalent of the levy on imports from China (0.2 = 20%)."
    ),
    year: int | None = typer.Option(None, "--year", help="BACI year (default: latest)."),
    fmt: Format = FORMAT_OPT,
) -> None:
    """A member's stake in joining: exports to China at risk, retaliation loss (engine), levy, Vault, net."""
    from pydantic import ValidationError

    from critmin.runs.stake import StakeRequest, run

    try:
        given = {"group": group} if group else {}
        req = StakeRequest(member=member, levy_rate=levy_rate, year=year, **given)
        res = run(req)
    except ValidationError as exc:
        raise _fail("; ".join(f"{_flag(e['loc'])}: {e['msg']}" for e in exc.errors())) from exc
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if fmt is Format.json:
        emit_object(res.to_dict(), fmt)
        return
    caption = (
        f"USD per year (BACI {res.report.year}); levy {levy_rate:.0%} on imports from China; retaliation: "
        f"scenario {res.report.scenario} through the disruption engine; net = levy received - paid + Vault "
        "- export loss - retaliation loss"
    )
    if res.member is None:
        emit_frame(res.report.members, fmt, title=f"Members' stake in joining ({req.group})", caption=caption)
        return
    import pandas as pd

    row = {k: v for k, v in res.member.items() if k not in ("iso3", "exports_at_risk")}
    emit_frame(
        pd.DataFrame({"quantity": list(row), "usd": list(row.values())}),
        fmt,
        title=f"{res.member['iso3']}'s stake in joining {req.group}",
        caption=caption,
    )
    if fmt is Format.table:
        emit_frame(
            pd.DataFrame(res.member["exports_at_risk"]),
            fmt,
            title=f"{res.member['iso3']}'s exports to China by HS6 code (BACI {res.report.year}, USD)",
        )


def _distribution_frame(summary: dict[str, Any]) -> Any:
    import pandas as pd

    rows = [
        {"quantity": k, **v}
        for k, v in summary.items()
        if isinstance(v, dict) and {"mean", "p5", "p50", "p95"} <= set(v)
    ]
    return pd.DataFrame(rows, columns=["quantity", "mean", "p5", "p50", "p95"])


FLAGS = {
    "strike_usd_per_kg": "--strike",
    "dumping_depth": "--dumping",
    "dumping_start_month": "--dumping-start",
    "member_output_t": "--member-output-t",
}


def _flag(loc: tuple[Any, ...]) -> str:
    """The command-line option of a request field (``--volume-t`` for ``volume_t``)."""
    if not loc:
        return "options"
    name = str(loc[0])
    return FLAGS.get(name, "--" + name.replace("_", "-"))


#: ``critmin floor`` option -> FloorRequest field, where the names differ
REQUEST_FIELDS = {
    "strike": "strike_usd_per_kg",
    "dumping": "dumping_depth",
    "dumping_start": "dumping_start_month",
}


def _floor_request(options: dict[str, Any]) -> Any:
    """The validated request of the ``floor`` options (a clear error naming the option otherwise)."""
    from pydantic import ValidationError

    from critmin.runs.floor import FloorRequest

    fields = {REQUEST_FIELDS.get(k, k): v for k, v in options.items() if k != "fmt"}
    for name in ("group", "years", "paths"):
        if fields.get(name) is None:
            fields.pop(name, None)  # the request's default, from the options tree
    try:
        return FloorRequest(**fields)
    except ValidationError as exc:
        raise _fail("; ".join(f"{_flag(e['loc'])}: {e['msg']}" for e in exc.errors())) from exc


def _emit_floor(out: Any, fmt: Format) -> None:
    """Render a floor result: distributions, then (table) the worked arithmetic per kg."""
    import pandas as pd

    summary = out.summary
    req = out.request
    if fmt is Format.json:
        emit_object(out.to_dict(), fmt)
        return
    vol = f"{req.volume_t:g} t/yr" if req.volume_t is not None else f"volumes {summary['volume_source']}"
    emit_frame(
        _distribution_frame(summary),
        fmt,
        title=f"{req.mechanism} on {req.material} ({summary['reference']} price): strike "
        f"{req.strike_usd_per_kg:g} USD/kg, {vol}, {req.years} years, {req.paths:,} paths",
        caption=f"USD (PV at {summary['discount_rate']:.1%}); fiscal > 0 = government pays; "
        f"P(government pays) = {summary['prob_government_pays']:.0%}; paths: {summary['price_paths']}",
    )
    if fmt is Format.table:
        emit_frame(pd.DataFrame(summary["worked_example"]), fmt, title="Worked arithmetic per kg")
        if "levy_incidence_pv_usd" in summary:
            emit_frame(
                summary["levy_incidence_pv_usd"],
                fmt,
                title=f"Levy incidence by member of {req.group} (USD, PV, mean over paths)",
            )


@app.command()
def floor(
    material: str = typer.Option(..., "--material", "-m", help="Material slug (e.g. ndpr-oxide)."),
    mechanism: str = typer.Option("floor", "--mechanism", help=MECHANISM_HELP),
    strike: float = typer.Option(..., "--strike", help="Strike / floor / reference price, USD per kg."),
    volume_t: float | None = typer.Option(
        None, "--volume-t", help="Covered t/yr, flat (levy: non-member imports, t/yr)."
    ),
    volume_path: str | None = typer.Option(
        None, "--volume-path", help="Volume schedule: 'dod-mp' (documented DoD-MP path) or a CSV year,tonnes."
    ),
    volume_project: str | None = typer.Option(
        None, "--volume-project", help="Pipeline project id: its capacity ramp is the covered volume."
    ),
    years: int | None = typer.Option(
        None, "--years", help="Horizon in years, monthly steps (default: options floor.years, 10)."
    ),
    paths: int | None = typer.Option(
        None, "--paths", help="Number of simulated price paths (default: options floor.paths, 10,000)."
    ),
    member_output_t: float = typer.Option(0.0, "--member-output-t", help="Levy only: member output, t/yr."),
    share: float | None = typer.Option(None, "--share", help="floor-share: upside share (default 0.3)."),
    series: Path | None = typer.Option(None, "--series", help="User monthly CSV month,usd_per_t to fit."),
    seed: int = typer.Option(2026, "--seed", help="Random seed of the price paths."),
    paths_from: str = typer.Option(
        "model",
        "--paths-from",
        help="model: the calibrated no-event baseline; disruption: x the Monte Carlo's outside zone; "
        "scenario: x one engine scenario (--scenario); retaliation: x China's restriction on --group.",
    ),
    scenario: str | None = typer.Option(None, "--scenario", help="Bundled scenario name or YAML/JSON file."),
    group: str | None = typer.Option(
        None, "--group", "-g", help="Joining members (retaliation; default: the alliance group)."
    ),
    reference: str | None = typer.Option(
        None,
        "--reference",
        help="Price referenced: outside | china | landed (default: levy landed, else outside).",
    ),
    reset_months: int | None = typer.Option(None, "--reset-months", help="Levy reset period (default 3)."),
    lag_months: int | None = typer.Option(None, "--lag-months", help="Levy lag (default 1)."),
    dumping: float = typer.Option(0.0, "--dumping", help="China's price cut outside China (0.3 = 30%)."),
    dumping_start: int = typer.Option(0, "--dumping-start", help="First month of the dumping (0-based)."),
    dumping_months: int = typer.Option(0, "--dumping-months", help="Months the dumping lasts."),
    projects: bool = typer.Option(
        True, "--projects/--no-projects", help="Also report pipeline projects brought over their hurdle rate."
    ),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Cost a floor, CfD, levy, offtake or reserve on simulated two-zone price paths (as distributions)."""
    options = dict(locals())
    options["series"] = str(series) if series else None
    from rich.console import Console

    from critmin.pricing.history import PriceSeriesError, priced_materials
    from critmin.runs.floor import run

    if series is None and material not in (priced := priced_materials()):
        raise _fail(unknown_name("material", material, priced, "materials with a bundled price series"))
    req = _floor_request(options)
    console = Console(stderr=True)
    try:
        with console.status("") as status:
            out = run(req, progress=lambda msg: status.update(msg))
    except (PriceSeriesError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    _emit_floor(out, fmt)
