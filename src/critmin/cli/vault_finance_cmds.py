"""``critmin vault finance`` (the Vault's cash flows over the loan term) and ``critmin vault positions``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from critmin.cli.output import Format, emit_frame, to_json
from critmin.cli.vault_cmds import BUDGET_OPT, FORMAT_OPT, _fail, vault_app

if TYPE_CHECKING:
    from critmin.vault.finance import Book
    from critmin.vault.state import ReserveState


def _state_from_ops(ops_file: Path) -> ReserveState:
    """Apply a JSON-lines operations file (the format of ``critmin vault run``)."""
    import json

    from pydantic import ValidationError

    from critmin.vault import OPERATION_ADAPTER, ReserveState, VaultRuleError, apply

    state = ReserveState()
    try:
        lines = ops_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise _fail(f"{ops_file}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{ops_file}, line {number}"
        try:
            state, _ = apply(state, OPERATION_ADAPTER.validate_python(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise _fail(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from exc
        except ValidationError as exc:
            err = exc.errors()[0]
            raise _fail(f"{where}, field {'.'.join(map(str, err['loc']))}: {err['msg']}") from exc
        except VaultRuleError as exc:
            raise _fail(f"{where}: {exc}") from exc
    return state


def _sized_book(budget: float | None, scenarios: int, seed: int) -> Book:
    """The book of the optimised sizing plan (holdings at atlas prices, vault_committed_share committed)."""
    from critmin.atlas import load_atlas
    from critmin.optimize.stockpile import StockpileConfig
    from critmin.vault.finance_inputs import book_from_holdings
    from critmin.vault.sizing import default_budget, size_reserve, sizing_inputs

    data = sizing_inputs(load_atlas(), scenarios, seed)
    plan = size_reserve(data, StockpileConfig(budget_usd=default_budget() if budget is None else budget))
    if not plan.solve.ok:
        raise _fail(f"sizing the book failed: {plan.solve.status} ({plan.solve.explanation})")
    spent = plan.table.set_index("material")["cost_usd"]
    return book_from_holdings({str(m): float(v) for m, v in spent.items() if v > 0})


@vault_app.command("finance")
def finance(
    scenarios: int = typer.Option(
        2000, "--scenarios", "-n", min=1, help="Finance scenarios (years x materials)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    ops: Path | None = typer.Option(
        None, "--ops", help="Operations file (JSON lines): the book of a ledger."
    ),
    budget: float | None = BUDGET_OPT,
    sizing_scenarios: int = typer.Option(
        200, "--sizing-scenarios", min=1, help="Without --ops: Monte Carlo scenarios of the sizing plan."
    ),
    carry_fee: float | None = typer.Option(
        None,
        "--carry-fee",
        help="Carrying fee, share of committed value a year (default: loan rate + upkeep).",
    ),
    fmt: Format = FORMAT_OPT,
) -> None:
    """The Vault's cash and equity by year (P5/P50/P95), missed debt service and the break-even fee."""
    from critmin.atlas import load_atlas
    from critmin.vault.finance_inputs import book_from_state, run_finance

    book = (
        book_from_state(_state_from_ops(ops))
        if ops is not None
        else _sized_book(budget, sizing_scenarios, seed)
    )
    if not book.materials:
        raise _fail("the book holds nothing: no stock to finance")
    try:
        res = run_finance(load_atlas(), book, scenarios, seed, carry_fee_rate=carry_fee)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    head = res.headline(book, scenarios)
    if fmt is Format.json:
        payload = {
            "headline": head,
            "p_debt_service_missed": res.p_debt_service_missed,
            "expected_final_equity_usd": res.expected_final_equity_usd,
            "carry_fee_rate": res.carry_fee_rate,
            "break_even_carry_fee_rate": res.break_even_carry_fee_rate,
            "terms": vars(res.terms),
            "book": {
                "materials": book.materials,
                "purchase_usd": book.purchase_usd,
                "committed_usd": book.committed_usd,
            },
            "by_year": res.by_year,
            "scenarios": scenarios,
            "seed": seed,
        }
        sys.stdout.write(to_json(payload) + "\n")
        return
    if fmt is Format.table:
        typer.echo(head)
    if fmt is Format.csv:
        emit_frame(res.by_year, fmt)
        return
    y = res.by_year
    shown = y[["year"]].assign(
        cash_p50=y["cash_p50_usd"] / 1e9,
        equity_p5=y["equity_p5_usd"] / 1e9,
        equity_p50=y["equity_p50_usd"] / 1e9,
        equity_p95=y["equity_p95_usd"] / 1e9,
        debt=y["debt_usd"] / 1e9,
        p_missed=y["p_missed"],
    )
    emit_frame(shown, fmt, title="The Vault by year, USD bn (P5/P50/P95; all columns: --format csv)")


@vault_app.command("positions")
def positions_cmd(
    ops: Path = typer.Argument(..., help="Operations file (JSON lines), as for critmin vault run."),
    participant: str | None = typer.Option(None, "--participant", help="Show only this participant's rows."),
    fmt: Format = FORMAT_OPT,
) -> None:
    """Each subscriber's committed quantities, fees due, draw rights and repurchase exposure."""
    from critmin.vault.positions import positions

    table = positions(_state_from_ops(ops), participant)
    if participant is not None and table.empty:
        raise _fail(f"--participant {participant!r}: no subscriptions of that participant in {ops}")
    emit_frame(table, fmt, title="Participants' positions (USD, tonnes)")
