"""Value of independence: the expected disruption loss the added non-China capacity avoids.

The disruption engine's Monte Carlo (:func:`critmin.disruption.montecarlo.run_monte_carlo`, its
``loss_usd``) runs twice with the same seed: on the atlas as published and on an overlay in which the
plan's added output is non-China supply at the (material, stage) in the latest atlas year (booked as
``OTH``, so no new country becomes a candidate restrictor; the published world total grows by the same
tonnes). The difference of the material's expected loss is the loss avoided. The market is today's (the
atlas year's demand and prices), so the figure answers "how much smaller would a disruption of today's
market be with this capacity in place". The scenarios are paired (same seed), and ``avoided_se_usd`` is the
standard error of the paired difference: a smaller difference is Monte Carlo noise (the added supply also
moves the restriction hazards, which depend on production shares).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from critmin.parameters import ParameterSet


def with_added_supply(atlas: Any, material: str, stage: str, added_t: float) -> Any:
    """A copy of ``atlas`` with ``added_t`` tonnes of non-China (``OTH``) supply at (material, stage)."""
    if not np.isfinite(added_t) or added_t < 0:
        raise ValueError(f"added supply {added_t!r} t; expected a finite number >= 0")
    prod = atlas.production
    sel = prod[(prod["material"] == material) & (prod["stage"] == stage) & prod["primary"].astype(bool)]
    sel = sel.dropna(subset=["tonnes"])
    if sel.empty:
        raise ValueError(f"the atlas has no primary production for {material}/{stage} to add supply to")
    year = int(sel["year"].max())
    row = sel[sel["year"] == year].iloc[[0]].copy()
    row["iso3"], row["tonnes"], row["flag"] = "OTH", float(added_t), "derived"
    row["value_text"], row["source"] = f"{added_t:.6g}", "critmin plan: added non-China capacity"
    production = pd.concat([prod, row], ignore_index=True)
    wt = atlas.world_totals.copy()
    hit = (wt["material"] == material) & (wt["stage"] == stage) & (wt["year"] == year)
    wt.loc[hit, "tonnes"] = wt.loc[hit, "tonnes"] + float(added_t)
    return replace(atlas, production=production, world_totals=wt)


def value_of_independence(
    material: str,
    stage: str,
    added_t: float,
    *,
    atlas: Any = None,
    params: ParameterSet | None = None,
    n_scenarios: int = 2000,
    seed: int = 0,
    baseline: Any = None,
) -> dict[str, Any]:
    """Expected disruption loss (USD over the engine's horizon) without and with ``added_t``, and avoided.

    ``baseline`` may pass a Monte Carlo result already run on ``atlas`` with the same ``n_scenarios`` and
    ``seed`` (it is reused across materials).
    """
    from critmin.disruption.montecarlo import run_monte_carlo

    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    base = baseline if baseline is not None else run_monte_carlo(atlas, n_scenarios, seed, params=params)
    if material not in base.materials:
        return {"material": material, "stage": stage, "valued": False,
                "note": f"the disruption engine does not model {material}"}  # fmt: skip
    more = run_monte_carlo(
        with_added_supply(atlas, material, stage, added_t), n_scenarios, seed, params=params
    )
    before = base.loss_usd[:, base.materials.index(material)]
    after = more.loss_usd[:, more.materials.index(material)]
    if np.isnan(before).all():
        return {"material": material, "stage": stage, "valued": False,
                "note": f"the disruption engine has no price to value {material} losses"}  # fmt: skip
    e0, e1 = float(np.nanmean(before)), float(np.nanmean(after))
    diff = np.nan_to_num(before) - np.nan_to_num(after)
    se = float(np.std(diff, ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
    horizon = int(base.metadata.parameters.get("horizon_months", 24))
    return {
        "material": material,
        "stage": stage,
        "valued": True,
        "added_t": float(added_t),
        "expected_loss_usd": e0,
        "expected_loss_with_added_usd": e1,
        "avoided_usd": e0 - e1,
        "avoided_se_usd": se,
        "avoided_usd_per_year": (e0 - e1) * 12 / horizon,
        "horizon_months": horizon,
        "n_scenarios": n_scenarios,
        "seed": seed,
        "engine": "critmin.disruption.montecarlo.run_monte_carlo (loss_usd)",
    }
