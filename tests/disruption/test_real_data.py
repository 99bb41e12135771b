"""Invariants and regression facts of the disruption engine on the real bundled atlas."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from critmin.atlas import load_atlas
from critmin.disruption import parse_scenario, simulate
from critmin.disruption.inputs import build_inputs


@pytest.fixture(scope="module")
def atlas():  # type: ignore[no-untyped-def]
    return load_atlas()


def ban(material: str, share: float, exporter: str = "CHN", stage: str = "refine", months: int = 6):  # type: ignore[no-untyped-def]
    return parse_scenario(
        {
            "name": f"{material}-{share}",
            "horizon_months": 12,
            "events": [
                {
                    "type": "export_restriction",
                    "exporter": exporter,
                    "material": material,
                    "stage": stage,
                    "share": share,
                    "start_month": 0,
                    "duration_months": months,
                }
            ],
        }
    )


def test_inputs_cover_every_material_with_production_and_china_dominates_gallium(atlas) -> None:  # type: ignore[no-untyped-def]
    inp = build_inputs(atlas)
    assert {"gallium", "cobalt", "lithium", "magnet-rare-earths", "nickel"} <= set(inp.materials)
    assert len(inp.materials) >= 40
    g = inp.shares[("gallium", "refine")]
    assert g.idxmax() == "CHN" and g["CHN"] > 0.95  # USGS MCS 2026: China ~99% of primary gallium (2025)
    assert np.all(np.isfinite(inp.kernel.world_t)) and np.all(inp.kernel.world_t > 0)
    assert np.all(inp.member_alloc.sum(axis=1) <= 1.0 + 1e-9)


def test_no_events_is_baseline_for_every_material(atlas) -> None:  # type: ignore[no-untyped-def]
    r = simulate(atlas, parse_scenario({"name": "calm", "horizon_months": 24}))
    assert np.all(r.price_outside == 1.0) and np.all(r.price_restrictor == 1.0)
    assert np.all(r.shortfall_t == 0.0)


def test_other_materials_unchanged_and_invariants_hold_on_real_data(atlas) -> None:  # type: ignore[no-untyped-def]
    r = simulate(atlas, ban("cobalt", 1.0, exporter="COD", stage="mine"))
    i = r.row("cobalt")
    others = [k for k in range(len(r.materials)) if k != i]
    assert np.all(r.price_outside[others] == 1.0) and np.all(r.shortfall_t[others] == 0.0)
    assert np.all(r.shortfall_t[i] <= r.restricted_t[i] + 1e-9)
    assert np.all(r.price_restrictor[i] <= 1.0)
    assert r.price_outside[i].max() > 1.0
    # after the six-month ban buyers rebuild their stocks: the price stays above 1.0 but falls every month
    after = r.price_outside[i, 6:]
    assert np.all(after >= 1.0) and np.all(np.diff(after) <= 1e-12) and after[0] < r.price_outside[i, 5]
    assert np.all(np.diff(r.inventory_t[i, 6:]) >= -1e-9)  # stocks are rebuilt, not drawn


def test_outside_price_rises_with_the_restricted_share_on_real_data(atlas) -> None:  # type: ignore[no-untyped-def]
    paths = [simulate(atlas, ban("magnet-rare-earths", s)) for s in (0.1, 0.3, 0.6, 1.0)]
    i = paths[0].row("magnet-rare-earths")
    for lo, hi in itertools.pairwise(paths):
        assert np.all(lo.price_outside[i] <= hi.price_outside[i] * (1 + 1e-12))
        assert np.all(hi.price_restrictor[i] <= lo.price_restrictor[i] * (1 + 1e-12))
    assert paths[-1].price_outside[i].max() > paths[0].price_outside[i].max()
