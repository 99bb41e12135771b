"""Risk page: Monte Carlo expected loss per material (world or a member's perspective) with P5-P95 bands,
the excluded (unpriced) materials, and a tornado chart of what moves the total expected loss."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import pandas as pd

from critmin.web.page import Block, Page, PageError, int_param

PARAM_KEYS = ("perspective", "scenarios", "seed")
TOP = 15


def _bars(frame: pd.DataFrame) -> dict[str, Any]:
    """Horizontal bars of the expected loss with P5-P95 error bars (top materials)."""
    top = frame.head(TOP).iloc[::-1]
    mean = top["expected_loss_usd"].astype(float)
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [str(m) for m in top["material"]],
                "x": [float(v) for v in mean],
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [float(v) for v in (top["expected_loss_p95_usd"].fillna(mean) - mean)],
                    "arrayminus": [float(v) for v in (mean - top["expected_loss_p5_usd"].fillna(mean))],
                },
                "name": "expected loss",
            }
        ],
        "layout": {
            "title": {"text": "Expected loss, P5-P95 across parameter sets", "font": {"size": 14}},
            "height": 420,
            "margin": {"l": 140, "r": 20, "t": 40, "b": 50},
            "xaxis": {"title": {"text": "USD over the horizon"}},
        },
    }


def _tornado(frame: pd.DataFrame) -> dict[str, Any]:
    """Tornado: bars from the central total to its value at each end of a parameter's range."""
    t = frame.iloc[::-1]
    c = t["central_usd"].astype(float)
    labels = [str(p) for p in t["parameter"]]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": [float(v) for v in t["low_usd"] - c],
                "base": [float(v) for v in c],
                "name": "low end of range",
            },
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": [float(v) for v in t["high_usd"] - c],
                "base": [float(v) for v in c],
                "name": "high end of range",
            },
        ],
        "layout": {
            "title": {
                "text": "What moves the total expected loss (one parameter at a time)",
                "font": {"size": 14},
            },
            "barmode": "overlay",
            "height": 380,
            "margin": {"l": 230, "r": 20, "t": 40, "b": 50},
            "xaxis": {"title": {"text": "total expected loss, USD"}},
        },
    }


def risk_page(params: Mapping[str, str]) -> Page:
    """The risk page model (perspective ISO3 or group, scenarios, seed)."""
    from critmin.atlas import load_atlas
    from critmin.disruption.inputs import InputError
    from critmin.disruption.montecarlo import run_monte_carlo
    from critmin.disruption.sensitivity import tornado
    from critmin.disruption.simulate import LOSS_NOTE

    n = int_param(params, "scenarios", 2000, 200, 20_000)
    seed = int_param(params, "seed", 0, 0, 2**31 - 1)
    who = params.get("perspective") or None
    atlas = load_atlas()
    try:
        r = run_monte_carlo(atlas, n, seed, perspective=who, param_draws=20)
    except InputError as err:
        raise PageError(str(err), status=422) from err
    cols = [
        "rank",
        "material",
        "expected_loss_usd",
        "expected_loss_p5_usd",
        "expected_loss_p95_usd",
        "cvar_usd",
        "expected_extra_cost_usd",
        "expected_priced_out_usd",
        "expected_unmet_value_usd",
        "p_disrupted",
        "peak_price_p50",
        "allocation_basis",
        "export_basis",
    ]
    table = r.summary[cols]
    tor = tornado(atlas, n_scenarios=300, seed=seed)
    label = who or "world"
    total = float(table["expected_loss_usd"].sum())
    top = table.iloc[0] if len(table) else None
    blocks = [
        Block(
            "expected-loss",
            f"Expected loss by material ({label})",
            table,
            _bars(table),
            f"{n:,} random restriction scenarios over 24 months. {LOSS_NOTE}.",
        ),
        Block("table", "Every priced material, ranked", table, wide=True),
        Block("excluded", "Excluded: no reference price, so no loss can be valued", r.excluded),
        Block(
            "tornado",
            "Tornado: the total expected loss (world) at each end of a parameter's range",
            tor,
            _tornado(tor),
            "Each bar moves one parameter to the low or high end of its documented range "
            "(critmin/data/parameter_ranges.csv), the others at their values, on the same 300 scenarios. "
            "For variance shares run `critmin sensitivity`.",
        ),
    ]
    intro = (
        f"The {label} expected loss over 24 months sums to {total:,.3g} USD across {len(table)} priced "
        "materials"
        + (
            f"; {top['material']} ranks first at {top['expected_loss_usd']:,.3g} USD"
            if top is not None
            else ""
        )
        + f". {len(r.excluded)} materials have no price and are listed apart, never ranked as zero. "
        f"Largest single driver of the total: {tor.iloc[0]['parameter']}."
    )
    return Page(
        name="risk",
        title="Disruption risk: expected loss and what drives it",
        blocks=blocks,
        editions=dict(r.metadata.data_editions),
        params={k: str(params[k]) for k in PARAM_KEYS if params.get(k)},
        intro=intro,
        notes=[f"Parameter set {r.metadata.parameter_digest}; seed {seed}."],
        template="risk.html",
        context={"form": {"perspective": who or "", "scenarios": n, "seed": seed}},
    )


@lru_cache(maxsize=16)
def _cached(items: tuple[tuple[str, str], ...]) -> Page:
    return risk_page(dict(items))


def build_risk(params: Mapping[str, str]) -> Page:
    """Risk page (cached per parameter set)."""
    return _cached(tuple(sorted((k, v) for k, v in params.items() if k in PARAM_KEYS and v != "")))
