"""Rendering of ``critmin vault size``: the headline in words, why the plan holds what it holds, the rules."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from critmin.cli.output import Format, emit_frame, to_json

if TYPE_CHECKING:
    from critmin.runs.reserve import ReserveSizingResult


def emit_reserve_plan(result: ReserveSizingResult, fmt: Format) -> None:
    """Print the plan as JSON, CSV (per material) or tables with the headline on top."""
    from rich.console import Console

    if fmt is Format.json:
        sys.stdout.write(to_json(result.to_dict()) + "\n")
        return
    if fmt is Format.csv:
        emit_frame(result.materials, fmt)
        return
    Console().print(result.headline)
    top = result.materials.sort_values("marginal_loss_avoided_per_usd", ascending=False).head(12)
    shown = top.assign(cost_musd=top["cost_usd"] / 1e6)[
        ["material", "tonnes", "cost_musd", "marginal_loss_avoided_per_usd", "carry_per_usd", "binding"]
    ].rename(columns={"marginal_loss_avoided_per_usd": "avoided_per_usd"})
    emit_frame(shown, fmt, title="Why: loss avoided by the next dollar held vs its carrying cost (top 12)")
    rules = result.comparison
    cmp = rules.assign(
        cost_busd=rules["cost_usd"] / 1e9,
        avoided_busd=rules["expected_loss_avoided_usd"] / 1e9,
        net_busd=rules["net_benefit_usd"] / 1e9,
    )[["plan", "cost_busd", "avoided_busd", "net_busd"]]
    emit_frame(cmp, fmt, title="Plans compared (USD bn, same scenarios)")
    err = Console(stderr=True)
    if result.excluded:
        err.print("left out (no data): " + ", ".join(f"{m} ({why})" for m, why in result.excluded.items()))
    err.print(f"parameters: digest {result.metadata.parameter_digest} (values with --format json)")
