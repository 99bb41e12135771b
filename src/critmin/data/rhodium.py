"""Rhodium mine output derived from platinum (see docs/methods/atlas.md, "Rhodium").

No open source publishes rhodium by country (Johnson Matthey's tables are not openly licensed). Rhodium of
country c = platinum mine output of c (every edition, every year) x a regional Rh:Pt ratio from
``rhodium_ratios.csv`` (assumptions with plausible ranges, checked against the published statement that
80-90% of rhodium comes from South Africa). Rows are flagged ``derived`` and name their inputs.
"""

from __future__ import annotations

import math
from importlib import resources
from io import StringIO

import pandas as pd


def rh_pt_ratios() -> dict[str, float]:
    """``iso3 -> Rh:Pt`` (``*`` = every other producer)."""
    text = resources.files("critmin.data").joinpath("rhodium_ratios.csv").read_text(encoding="utf-8")
    t = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    return {str(k): float(v) for k, v in zip(t["iso3"], t["rh_pt"], strict=True)}


def derive_rhodium(production: pd.DataFrame) -> pd.DataFrame:
    """Rhodium mine rows from the platinum rows (same iso3, year, source, edition)."""
    ratios = rh_pt_ratios()
    pt = production[(production["material"] == "platinum") & (production["stage"] == "mine")]
    rows = []
    for r in pt.itertuples(index=False):
        ratio = ratios.get(str(r.iso3), ratios["*"])
        t = float(str(r.tonnes))
        rows.append(
            {
                "material": "rhodium",
                "stage": "mine",
                "iso3": r.iso3,
                "year": r.year,
                "tonnes": t * ratio if math.isfinite(t) else math.nan,
                "flag": "derived" if math.isfinite(t) else r.flag,
                "source": r.source,
                "edition": r.edition,
                "primary": False,
                "value_text": f"Pt {r.value_text} x Rh:Pt {ratio} (rhodium_ratios.csv)",
                "unit_text": r.unit_text,
                "basis": "rhodium content (derived from platinum)",
            }
        )
    return pd.DataFrame(rows)
