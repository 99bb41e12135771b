"""``critmin vault finance`` (the Vault's cash flows over the loan term) and ``critmin vault positions``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from critmin.cli.output import Format, emit_frame, to_json
from critmin.cli.vault_cmds import BUDGET_OPT, FORMAT_OPT, _fail, vault_app


def _read_ops(ops_file: Path) -> list[dict[str, Any]]:
    """The operations of a JSON-lines file (the format of ``critmin vault run``), with line errors."""
    import json

    try:
        lines = ops_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise _fail(f"{ops_file}: {exc.strerror}") from exc
    ops = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            ops.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _fail(f"{ops_file}, line {number}: not JSON ({exc.msg} at column {exc.colno})") from exc
    return ops


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
    from pydantic import ValidationError

    from critmin.runs.reserve_finance import ReserveFinanceRequest, run

    try:
        request = ReserveFinanceRequest(
            n_scenarios=scenarios,
            seed=seed,
            carry_fee_rate=carry_fee,
            operations=_read_ops(ops) if ops is not None else None,
            budget_usd=budget,
            sizing_scenarios=sizing_scenarios,
        )
        result = run(request)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise _fail(f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from exc
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if fmt is Format.json:
        sys.stdout.write(to_json(result.to_dict()) + "\n")
        return
    res = result.finance
    if fmt is Format.table:
        typer.echo(result.headline)
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
    from critmin.runs.reserve_finance import state_from_operations
    from critmin.vault.positions import positions

    try:
        state = state_from_operations(_read_ops(ops))
    except ValueError as exc:
        raise _fail(f"{ops}: {exc}") from exc
    table = positions(state, participant)
    if participant is not None and table.empty:
        raise _fail(f"--participant {participant!r}: no subscriptions of that participant in {ops}")
    emit_frame(table, fmt, title="Participants' positions (USD, tonnes)")
