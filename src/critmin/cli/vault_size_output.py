"""Rendering of ``critmin vault size``: the headline in words, the plan with its reasons, the rules."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from critmin.cli.output import Format, emit_frame, to_json

if TYPE_CHECKING:
    from critmin.optimize.reserve_lp import ReserveSolution
    from critmin.vault.horizon import HorizonData


def emit_horizon_plan(data: HorizonData, sol: ReserveSolution, fmt: Format, run: dict[str, Any]) -> None:
    """Print the horizon plan as JSON, CSV (per material) or tables with the headline on top."""
    from rich.console import Console

    from critmin.parameters import ParameterSet
    from critmin.vault.horizon import explain, rule_comparison

    why_table, why = explain(data.problem, sol)
    rules = rule_comparison(data, sol, ParameterSet())
    opt = rules.iloc[0]
    bn = {k: float(opt[k]) / 1e9 for k in opt.index if k != "plan"}
    headline = (
        f"Over {data.horizon_months} months: spend {bn['cost_usd']:.2f} bn USD, expected loss avoided "
        f"{bn['expected_loss_avoided_usd']:.2f} bn USD of {bn['expected_loss_without_usd']:.2f} bn USD, "
        f"carrying cost {bn['carry_usd']:.2f} bn USD, net benefit {bn['net_benefit_usd']:.2f} bn USD. {why}"
    )
    top = why_table.sort_values("marginal_loss_avoided_per_usd", ascending=False).head(12)
    if fmt is Format.json:
        payload = {
            **run,
            "horizon_months": data.horizon_months,
            "headline": headline,
            "solve": {
                "status": sol.status,
                "build_seconds": sol.build_seconds,
                "solve_seconds": sol.solve_seconds,
            },
            "budget_dual": sol.budget_dual,
            "materials": why_table,
            "comparison": rules,
            "excluded_materials": data.excluded,
            "data_editions": data.metadata.data_editions,
            "parameters": data.metadata.parameters,
            "parameter_digest": data.metadata.parameter_digest,
        }
        sys.stdout.write(to_json(payload) + "\n")
        return
    if fmt is Format.csv:
        emit_frame(why_table, fmt)
        return
    Console().print(headline)
    shown = top.assign(cost_musd=top["cost_usd"] / 1e6)[
        ["material", "tonnes", "cost_musd", "marginal_loss_avoided_per_usd", "carry_per_usd", "binding"]
    ].rename(columns={"marginal_loss_avoided_per_usd": "avoided_per_usd"})
    emit_frame(shown, fmt, title="Why: loss avoided by the next dollar held vs its carrying cost (top 12)")
    cmp = rules.assign(
        cost_busd=rules["cost_usd"] / 1e9,
        avoided_busd=rules["expected_loss_avoided_usd"] / 1e9,
        net_busd=rules["net_benefit_usd"] / 1e9,
    )[["plan", "cost_busd", "avoided_busd", "net_busd"]]
    emit_frame(cmp, fmt, title="Plans compared (USD bn, same scenarios)")
    err = Console(stderr=True)
    if data.excluded:
        err.print("left out (no data): " + ", ".join(f"{m} ({why})" for m, why in data.excluded.items()))
    err.print(f"parameters: digest {data.metadata.parameter_digest} (values with --format json)")
