"""Skipping the restrictor zone (as the Monte Carlo does) leaves every outside-zone result unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.atlas import load_atlas
from critmin.atlas.chain import SupplyChain
from critmin.disruption.inputs import build_inputs
from critmin.disruption.kernel import KernelOutput, propagate
from critmin.disruption.montecarlo import _spec, build_candidates, draw_restrictions

OUTSIDE = (
    "shortfall_total_t",
    "demand_destroyed_total_t",
    "loss_usd",
    "max_price_outside",
    "extra_cost_usd",
    "priced_out_usd",
    "unmet_value_usd",
    "windfall_usd",
    "price_outside",
    "shortfall_t",
    "inventory_t",
)


def _compare(full: KernelOutput, fast: KernelOutput) -> None:
    for name in OUTSIDE:
        assert np.array_equal(getattr(full, name), getattr(fast, name), equal_nan=True), name
    assert np.isnan(fast.restrictor_producer_loss_usd).all()
    assert np.isfinite(full.restrictor_producer_loss_usd[np.isfinite(full.loss_usd)]).all()
    assert fast.price_restrictor is not None and full.price_restrictor is not None
    assert np.array_equal(fast.price_restrictor, fast.price_outside)


@pytest.mark.parametrize("source", ["fixture", "atlas"])
def test_restrictor_skip_keeps_outside_results(source: str, chain: SupplyChain) -> None:
    atlas = chain if source == "fixture" else load_atlas()
    inp = build_inputs(atlas)
    spec = _spec(inp, build_candidates(inp, atlas.wgi), 24)
    a, c, w, chosen = draw_restrictions(spec, 300, np.random.default_rng(19))
    assert (chosen >= 0).sum() > 20  # enough disrupted pairs to compare
    full = propagate(inp.kernel, a, c, w, keep_paths=True)
    fast = propagate(inp.kernel, a, c, w, keep_paths=True, restrictor=False)
    _compare(full, fast)
    assert full.price_restrictor is not None
    has_r = (a > c)[..., None] & (w > 0)
    assert (full.price_restrictor[has_r] < 1.0).any()  # the skipped solve does real work
