"""Value of independence: the expected disruption loss the added non-China capacity avoids.

The disruption engine's Monte Carlo (:func:`critmin.disruption.montecarlo.run_monte_carlo`, its
``loss_usd``) runs twice with the same seed: on the atlas as published and on an overlay in which the
plan's added output displaces Chinese output one for one at the (material, stage) in the latest atlas year
(booked as ``OTH``, so no new country becomes a candidate restrictor; the market keeps its size; China's
output cannot fall below zero). The difference of the material's expected loss is the loss avoided. The
market is today's (the atlas year's demand and prices), so the figure answers "how much smaller would a
disruption of today's market be with this capacity in place". The scenarios are paired (same seed) and
``avoided_se_usd`` is the standard error of the paired difference: a smaller difference is Monte Carlo
noise. The added supply also moves the restriction hazards, which depend on production shares; with one
restriction per material and scenario, a lower Chinese hazard lets other candidates restrict more often,
so the loss avoided can be negative (cobalt refining: the Congo's mine-stage restrictions), a property of
the engine, reported as is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from critmin.parameters import ParameterSet


def with_added_supply(atlas: Any, material: str, stage: str, added_t: float) -> Any:
    """A copy of ``atlas`` in which ``added_t`` t of non-China (``OTH``) supply displace Chinese output.

    The market keeps its size (total output of the latest atlas year): China's tonnes at (material, stage)
    fall by ``min(added_t, China's tonnes)`` and an ``OTH`` row carries the same tonnes.
    """
    if not np.isfinite(added_t) or added_t < 0:
        raise ValueError(f"added supply {added_t!r} t; expected a finite number >= 0")
    prod = atlas.production
    sel = prod[(prod["material"] == material) & (prod["stage"] == stage) & prod["primary"].astype(bool)]
    sel = sel.dropna(subset=["tonnes"])
    sel = sel[sel["tonnes"] > 0]
    if sel.empty:
        raise ValueError(f"the atlas has no primary production for {material}/{stage} to add supply to")
    year = int(sel["year"].max())
    latest = sel[sel["year"] == year]
    china = latest[latest["iso3"] == "CHN"]
    moved = min(float(added_t), float(china["tonnes"].sum()))
    production = prod.copy()
    if len(china):
        i = china.index[0]
        production.loc[i, "tonnes"] = float(production.loc[i, "tonnes"]) - moved
    row = latest.iloc[[0]].copy()
    row["iso3"], row["tonnes"], row["flag"] = "OTH", moved, "derived"
    row["value_text"], row["source"] = f"{moved:.6g}", "critmin plan: added non-China capacity"
    return replace(atlas, production=pd.concat([production, row], ignore_index=True))


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
    ``seed`` and ``keep_scenarios=True`` (it is reused across materials; the paired difference needs the
    loss of every scenario).
    """
    from critmin.disruption.montecarlo import run_monte_carlo

    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    base = (
        baseline
        if baseline is not None
        else run_monte_carlo(atlas, n_scenarios, seed, params=params, keep_scenarios=True)
    )
    if material not in base.materials:
        return {"material": material, "stage": stage, "valued": False,
                "note": f"the disruption engine does not model {material}"}  # fmt: skip
    more = run_monte_carlo(
        with_added_supply(atlas, material, stage, added_t),
        n_scenarios,
        seed,
        params=params,
        keep_scenarios=True,
    )
    if base.loss_usd is None or more.loss_usd is None:
        raise ValueError("value of independence: the Monte Carlo baseline must keep its scenarios")
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
