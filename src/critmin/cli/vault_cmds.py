"""Reserve commands: ``critmin vault size`` (stochastic LP) and ``critmin vault rules`` (days of cover)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from critmin.cli.app import app
from critmin.cli.output import Format, emit_frame, to_json

if TYPE_CHECKING:
    from critmin.optimize.stockpile import StockpileConfig, StockpilePlan
    from critmin.vault.sizing import SizingData

vault_app = typer.Typer(
    help="Project Vault: size the reserve (stochastic LP), compare rules of thumb, run the operating rules."
)
app.add_typer(vault_app, name="vault")

FORMAT_OPT = typer.Option(Format.table, "--format", "-f", help="Output format: table, csv or json.")
BUDGET_OPT = typer.Option(
    None, "--budget", help="Budget in USD (default: EXIM loan + private capital from vault.csv, 11.67e9)."
)
SCEN_OPT = typer.Option(
    None, "--scenarios", "-n", min=1, help="Monte Carlo scenarios (default: options, 1,000)."
)
SEED_OPT = typer.Option(0, "--seed", help="Random seed of the Monte Carlo.")
HORIZON_OPT = typer.Option(
    None, "--horizon", min=1, max=180,
    help="Months of the sizing horizon (up to the 15-year loan: 180; default: options, 12).",
)  # fmt: skip


def _sizing_defaults(scenarios: int | None, horizon: int | None) -> tuple[int, int]:
    """The scenario count and horizon given, else the reserve defaults of the options tree."""
    from critmin.options import options

    reserve = options().reserve
    return (
        reserve.scenarios.default if scenarios is None else scenarios,
        reserve.horizon_months.default if horizon is None else horizon,
    )


PLAN_COLUMNS = [
    "material",
    "tonnes",
    "cost_usd",
    "days_of_cover",
    "expected_loss_avoided_usd",
    "expected_loss_with_usd",
    "carry_usd",
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _atlas() -> Any:
    from critmin.atlas import load_atlas

    return load_atlas()


def _with_progress(scenarios: int, work: Any) -> Any:
    """Run ``work(progress)`` with a Monte Carlo progress bar on stderr."""
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Monte Carlo scenarios", total=scenarios)
        return work(lambda done, total: bar.update(task, completed=done, total=total))


def _data(scenarios: int, seed: int, horizon: int) -> SizingData:
    """Monte Carlo with a progress bar on stderr, aligned into sizing inputs."""
    from rich.console import Console
    from rich.progress import Progress

    from critmin.atlas import load_atlas
    from critmin.vault.sizing import sizing_inputs

    atlas = load_atlas()
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("Monte Carlo scenarios", total=scenarios)
        data = sizing_inputs(
            atlas,
            scenarios,
            seed,
            horizon_months=horizon,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    return data


def _config(budget: float | None, cvar: str | None) -> StockpileConfig:
    from pydantic import ValidationError

    from critmin.optimize.stockpile import CVaRSpec, StockpileConfig
    from critmin.vault.sizing import default_budget

    try:
        spec = CVaRSpec.parse(cvar) if cvar else None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise _fail(f"--cvar {cvar!r}: {err['loc'][0]} {err['msg']} (got {err['input']})") from exc
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    try:
        return StockpileConfig(budget_usd=default_budget() if budget is None else budget, cvar=spec)
    except ValidationError as exc:
        raise _fail(f"--budget {budget!r}: {exc.errors()[0]['msg']}") from exc


def _payload(plans: list[StockpilePlan], data: SizingData, extra: dict[str, Any]) -> dict[str, Any]:
    from critmin.vault.sizing import comparison

    first = plans[0]
    return {
        **extra,
        "plans": [
            {
                "plan": p.name,
                "solve": p.solve.as_dict(),
                "totals": p.totals,
                "materials": p.table[p.table["tonnes"] > 0][PLAN_COLUMNS].to_dict(orient="records"),
            }
            for p in plans
        ],
        "comparison": comparison(plans).to_dict(orient="records"),
        "excluded_materials": data.excluded,
        "data_editions": first.metadata.data_editions,
        "parameters": first.metadata.parameters,
        "parameter_digest": first.metadata.parameter_digest,
    }


def _display(plan: StockpilePlan) -> Any:
    """Narrow table for the terminal: money in USD million."""
    t = plan.table[plan.table["tonnes"] > 0]
    return t.assign(
        cost_musd=t["cost_usd"] / 1e6,
        avoided_musd=t["expected_loss_avoided_usd"] / 1e6,
        left_musd=t["expected_loss_with_usd"] / 1e6,
    )[["material", "tonnes", "cost_musd", "days_of_cover", "avoided_musd", "left_musd"]].rename(
        columns={"days_of_cover": "days"}
    )


def _print_tables(plans: list[StockpilePlan], data: SizingData, fmt: Format) -> None:
    from rich.console import Console

    from critmin.vault.sizing import comparison

    if fmt is not Format.table:  # CSV: the full per-material rows of every plan, then nothing else
        import pandas as pd

        rows = [p.table[p.table["tonnes"] > 0][PLAN_COLUMNS].assign(plan=p.name) for p in plans]
        emit_frame(pd.concat(rows, ignore_index=True), fmt)
        return
    for p in plans:
        caption = f"solver {p.solve.status}/{p.solve.condition}; avoided/left: expected loss, USD m"
        emit_frame(_display(p), fmt, title=f"Plan: {p.name}", caption=caption)
    cmp = comparison(plans)
    shown = cmp.assign(
        cost_musd=cmp["cost_usd"] / 1e6,
        avoided_musd=cmp["expected_loss_avoided_usd"] / 1e6,
        net_musd=cmp["net_benefit_usd"] / 1e6,
    )[["plan", "cost_musd", "avoided_musd", "loss_avoided_per_dollar", "net_musd", "budget_scale"]]
    emit_frame(shown.rename(columns={"loss_avoided_per_dollar": "per_usd"}), fmt, title="Plans compared")
    err = Console(stderr=True)
    meta = plans[0].metadata
    if data.excluded:
        err.print("left out (no data): " + ", ".join(f"{m} ({why})" for m, why in data.excluded.items()))
    err.print("data: " + "; ".join(sorted(meta.data_editions)))
    err.print(f"parameters: digest {meta.parameter_digest} (values with --format json)")


@vault_app.command("size")
def size(
    budget: float | None = BUDGET_OPT,
    scenarios: int | None = SCEN_OPT,
    seed: int = SEED_OPT,
    cvar: str | None = typer.Option(None, "--cvar", help="Risk term ALPHA:WEIGHT, e.g. 0.95:0.5."),
    horizon: int | None = HORIZON_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """Size the reserve over the horizon (stochastic LP on the full loss); compare with the IEA, Japan and
    NDS-style rules; say why it spends what it spends."""
    from critmin.cli.vault_size_output import emit_reserve_plan
    from critmin.runs.reserve import ReserveSizingRequest, run

    scenarios, horizon = _sizing_defaults(scenarios, horizon)

    config = _config(budget, cvar)
    request = ReserveSizingRequest(
        budget_usd=config.budget_usd,
        n_scenarios=scenarios,
        seed=seed,
        horizon_months=horizon,
        cvar_alpha=None if config.cvar is None else config.cvar.alpha,
        cvar_weight=None if config.cvar is None else config.cvar.weight,
    )
    result = _with_progress(scenarios, lambda progress: run(request, progress=progress))
    if result.status != "Optimal":
        typer.echo(f"solver: {result.status}", err=True)
        raise typer.Exit(1)
    emit_reserve_plan(result, fmt)


@vault_app.command("rules")
def rules(
    days: float | None = typer.Option(
        None, "--days", min=0, help="Days of cover (default: the IEA 90 and Japan 60 days rules)."
    ),
    basis: str = typer.Option("net-imports", "--basis", help="With --days: net-imports or consumption."),
    budget: float | None = BUDGET_OPT,
    scenarios: int | None = SCEN_OPT,
    seed: int = SEED_OPT,
    horizon: int | None = HORIZON_OPT,
    fmt: Format = FORMAT_OPT,
) -> None:
    """Days-of-cover plans (scaled pro rata into the budget) and their expected loss avoided per dollar."""
    from critmin.vault.sizing import rule_plans

    scenarios, horizon = _sizing_defaults(scenarios, horizon)

    if basis not in {"net-imports", "consumption"}:
        raise _fail(f"--basis {basis!r}: expected net-imports or consumption")
    config = _config(budget, None)
    data = _data(scenarios, seed, horizon)
    plans = rule_plans(data, config, days=days, basis=basis if days is not None else None)
    _emit_plans(plans, data, fmt, "vault rules", config.budget_usd, scenarios, seed)


def _emit_plans(
    plans: list[StockpilePlan],
    data: SizingData,
    fmt: Format,
    command: str,
    budget_usd: float,
    scenarios: int,
    seed: int,
) -> None:
    """Print plans as JSON (with the run's settings) or as tables."""
    if fmt is Format.json:
        extra = {"command": command, "budget_usd": budget_usd, "scenarios": scenarios, "seed": seed}
        sys.stdout.write(to_json(_payload(plans, data, extra)) + "\n")
        return
    _print_tables(plans, data, fmt)


@vault_app.command("run")
def run_ops(
    ops_file: Path = typer.Argument(..., help="JSON-lines file: one reserve operation per line."),
    ledger_out: Path | None = typer.Option(None, "--ledger-out", help="Write the ledger (JSON lines) here."),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Apply reserve operations in order and show the state: stock, subscriptions, draws (CSV: draws only).

    Each line is an operation, e.g. {"op": "acquire", "key": "buy-1", "on": "2026-03-02", "material":
    "gallium", "tonnes": 40, "price_usd_per_t": 580000}. An invalid line or a broken rule stops the run
    with the file, line and reason; nothing is written.
    """
    import json

    from pydantic import ValidationError

    from critmin.vault import OPERATION_ADAPTER, ReserveState, VaultRuleError, apply
    from critmin.vault.operations import LedgerEntry

    state = ReserveState()
    ledger: list[LedgerEntry] = []
    try:
        lines = ops_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise _fail(f"{ops_file}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{ops_file}, line {number}"
        try:
            op = OPERATION_ADAPTER.validate_python(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _fail(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from exc
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise _fail(f"{where}, field {field}: {err['msg']} (got {err.get('input')!r})") from exc
        try:
            state, entry = apply(state, op)
        except VaultRuleError as exc:
            raise _fail(f"{where}: {exc}") from exc
        ledger.append(entry)
    if ledger_out is not None:
        tmp = ledger_out.with_name(ledger_out.name + ".tmp")
        tmp.write_text("".join(e.model_dump_json() + "\n" for e in ledger), encoding="utf-8")
        tmp.replace(ledger_out)
    _show_state(state, fmt)


def _show_state(state: Any, fmt: Format) -> None:
    import pandas as pd

    stock = pd.DataFrame(
        [
            {"material": m, "tonnes": t, "cost_usd": state.cost_of_stock_usd.get(m, 0.0)}
            for m, t in sorted(state.inventory_t.items())
        ],
        columns=["material", "tonnes", "cost_usd"],
    )
    subs = pd.DataFrame(
        [
            {
                "subscription": s.id,
                "participant": s.participant_id,
                "material": s.material,
                "open_t": s.open_t,
                "drawn_t": state.outstanding_draws_t(s.id),
                "preset_usd_per_t": s.preset_price_usd_per_t,
            }
            for s in state.subscriptions.values()
        ],
        columns=["subscription", "participant", "material", "open_t", "drawn_t", "preset_usd_per_t"],
    )
    draws = pd.DataFrame(
        [
            {
                "draw": d.id,
                "participant": d.participant_id,
                "material": d.material,
                "outstanding_t": d.outstanding_t,
                "due": d.due.isoformat(),
                "emergency": d.emergency,
                "overdue": d.overdue,
            }
            for d in state.draws.values()
        ],
        columns=["draw", "participant", "material", "outstanding_t", "due", "emergency", "overdue"],
    )
    if fmt is Format.json:
        summary = {
            "as_of": state.as_of.isoformat(),
            "cash_usd": state.cash_usd,
            "fees_collected_usd": state.fees_collected_usd,
            "carry_owed_usd": state.carry_owed_usd,
            "release_active": {m: t.active for m, t in state.triggers.items()},
            "stock": stock.to_dict(orient="records"),
            "subscriptions": subs.to_dict(orient="records"),
            "draws": draws.to_dict(orient="records"),
            "operations": state.sequence,
            "state_digest": state.digest(),
        }
        sys.stdout.write(to_json(summary) + "\n")
        return
    if fmt is Format.csv:  # one table per CSV: the draws (what must be replenished, what is overdue)
        emit_frame(draws, fmt)
        return
    emit_frame(stock, fmt, title=f"Stock on {state.as_of.isoformat()}")
    emit_frame(subs, fmt, title="Subscriptions")
    emit_frame(draws, fmt, title="Draws (overdue = not replenished by the due date)")
