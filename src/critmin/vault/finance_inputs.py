"""Inputs of the finance model on the real data: the book (from a sizing plan or an operations ledger) and
scenario drivers (disruption years from the Monte Carlo generator's hazards, market price paths).

* Disruptions: material ``m`` is disrupted in year ``y`` with probability ``1 - exp(-12 sum_k h[m, k])``, the
  monthly hazards ``h`` of its candidate restrictors (:func:`critmin.disruption.montecarlo.build_candidates`).
* Prices: a driftless log random walk ``ln P_y = ln P_{y-1} + sigma_m e - sigma_m^2 / 2`` (mean-one in level),
  ``sigma_m`` the standard deviation of yearly log changes of the material's reference price series (three
  or more years) or ``vault_price_volatility``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from critmin.atlas.prices import reference_series
from critmin.parameters import ParameterSet
from critmin.vault.finance import Book, FinanceResult, evaluate_finance, finance_terms
from critmin.vault.state import ReserveState


def book_from_holdings(holdings_usd: Mapping[str, float], params: ParameterSet | None = None) -> Book:
    """A book of holdings (USD at purchase prices) of which ``vault_committed_share`` is committed."""
    p = params or ParameterSet()
    mats = sorted(m for m, v in holdings_usd.items() if v > 0)
    value = np.array([float(holdings_usd[m]) for m in mats])
    share = np.array([p.get("vault_committed_share", m) for m in mats])
    return Book(mats, value, value * share)


def book_from_state(state: ReserveState) -> Book:
    """The book of an operations ledger's state: stock at cost and the open commitments at preset prices
    (capped at the stock's cost)."""
    mats = sorted(m for m, t in state.inventory_t.items() if t > 0)
    cost = np.array([state.cost_of_stock_usd.get(m, 0.0) for m in mats])
    committed = np.array(
        [
            sum(s.open_t * s.preset_price_usd_per_t for s in state.subscriptions.values() if s.material == m)
            for m in mats
        ]
    )
    return Book(mats, cost, np.minimum(committed, cost))


def price_volatility(prices: pd.DataFrame, materials: Sequence[str], params: ParameterSet) -> np.ndarray:
    """Yearly log-price volatility per material from its reference series, else ``vault_price_volatility``."""
    out = []
    ref = reference_series(prices)
    for m in materials:
        hist = ref[ref["material"] == m].set_index("year")["usd_per_t"].sort_index()
        steps = np.diff(np.log(hist.to_numpy(dtype=float))) if len(hist) >= 3 else np.array([])
        out.append(
            float(np.std(steps, ddof=1)) if steps.size >= 2 else params.get("vault_price_volatility", m)
        )
    return np.array(out)


def annual_disruption_probability(atlas: Any, materials: Sequence[str], params: ParameterSet) -> np.ndarray:
    """Probability that a restriction of each material starts in a given year (the Monte Carlo hazards)."""
    from critmin.disruption.inputs import build_inputs
    from critmin.disruption.montecarlo import build_candidates

    inp = build_inputs(atlas, params)
    cands = build_candidates(inp, atlas.wgi)
    monthly = pd.Series(cands.hazard_per_month.sum(axis=1), index=inp.materials)
    h = monthly.reindex(list(materials)).fillna(0.0).to_numpy()
    return 1.0 - np.exp(-12.0 * h)


def finance_scenarios(
    atlas: Any, book: Book, n: int, seed: int, years: int, params: ParameterSet | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(price_index [n, years, M], disrupted [n, years, M])`` for the book's materials (seeded)."""
    p = params or ParameterSet()
    rng = np.random.default_rng(seed)
    sigma = price_volatility(atlas.prices, book.materials, p)
    prob = annual_disruption_probability(atlas, book.materials, p)
    m = len(book.materials)
    steps = sigma * rng.standard_normal((n, years, m)) - 0.5 * sigma**2
    price_index = np.exp(np.cumsum(steps, axis=1))
    disrupted = rng.random((n, years, m)) < prob
    return price_index, disrupted


def run_finance(
    atlas: Any,
    book: Book,
    n_scenarios: int,
    seed: int,
    params: ParameterSet | None = None,
    carry_fee_rate: float | None = None,
) -> FinanceResult:
    """The finance model of ``book`` over the loan term on ``n_scenarios`` seeded scenarios."""
    if n_scenarios < 1:
        raise ValueError(f"n_scenarios: value {n_scenarios}; expected >= 1")
    p = params or ParameterSet()
    terms = finance_terms(p, carry_fee_rate)
    price_index, disrupted = finance_scenarios(atlas, book, n_scenarios, seed, terms.term_years, p)
    return evaluate_finance(book, terms, price_index, disrupted)
