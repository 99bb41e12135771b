"""Reference prices along a material's stage chain and a cost-based fair-value check between stages.

The chain (``critmin/data/stage_chain.csv``) lists, per material, its stages in order (concentrate, oxide,
metal, magnet), the USGS price series of each stage where one exists and the element content of the stage's
product (stoichiometric, cited). Deals assessed by the alliance's reference-price methodology replace the
USGS price of a stage when published. Between consecutive priced stages ``s -> t`` (docs/methods/
reference-price.md)::

    input cost per t of t   = price_s * content_t / content_s        (the contained element, bought at s)
    conversion margin       = price_t - input cost
    margin share            = margin / price_t
    check: "below input cost" if margin < 0; "wide margin" if share > stage_max_conversion_margin_share;
           else "consistent"
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from io import StringIO

import numpy as np
import pandas as pd

from critmin.parameters import ParameterSet

CHAIN_COLUMNS = ["material", "stage", "order", "series", "content", "content_basis", "source"]
CHECK_COLUMNS = ["material", "from_stage", "to_stage", "input_cost_usd_per_t", "price_usd_per_t"]
CHECK_COLUMNS += ["margin_usd_per_t", "margin_share", "check"]


@cache
def stage_chain() -> pd.DataFrame:
    """The bundled stage chain table."""
    text = resources.files("critmin.data").joinpath("stage_chain.csv").read_text(encoding="utf-8")
    df = pd.read_csv(StringIO(text), dtype={"series": str}, keep_default_na=False)
    missing = set(CHAIN_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"critmin/data/stage_chain.csv: missing columns {sorted(missing)}")
    return df.assign(content=df["content"].astype(float), order=df["order"].astype(int))


def stage_prices(
    material: str,
    prices: pd.DataFrame,
    *,
    year: int | None = None,
    assessed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Price of each stage of ``material`` (USD/t of the stage's product): USGS series (latest year, or
    ``year``) unless ``assessed`` (a reference-price result) publishes one for that stage."""
    chain = stage_chain()
    rows = chain[chain["material"] == material].sort_values("order")
    if rows.empty:
        known = ", ".join(sorted(chain["material"].unique()))
        raise ValueError(f"stage chain: no stages for {material!r}; chains exist for {known}")
    out = []
    for _, r in rows.iterrows():
        price, source, yr = np.nan, "no price", np.nan
        if r["series"]:
            s = prices[prices["series"].str.contains(r["series"], regex=False)].dropna(subset=["usd_per_t"])
            s = s if year is None else s[s["year"] == year]
            if len(s):
                last = s.sort_values("year").iloc[-1]
                price, source, yr = float(last["usd_per_t"]), str(last["series"]), float(last["year"])
        if assessed is not None and len(assessed):
            pub = assessed[
                (assessed["material"] == material)
                & (assessed["stage"] == r["stage"])
                & (assessed["status"] == "published")
            ]
            if len(pub):
                price, source, yr = float(pub["price_usd_per_t"].iloc[0]), "alliance reference price", np.nan
        out.append(
            {
                "material": material,
                "stage": r["stage"],
                "price_usd_per_t": price,
                "year": yr,
                "source": source,
                "content": r["content"],
                "content_basis": r["content_basis"],
            }
        )
    return pd.DataFrame(out)


def fair_value_check(chain: pd.DataFrame, params: ParameterSet | None = None) -> pd.DataFrame:
    """The cost-based check between consecutive priced stages (see the module docstring)."""
    params = params or ParameterSet()
    priced = chain.dropna(subset=["price_usd_per_t"]).reset_index(drop=True)
    rows = []
    for i in range(len(priced) - 1):
        a, b = priced.iloc[i], priced.iloc[i + 1]
        material = str(a["material"])
        cost = float(a["price_usd_per_t"]) * float(b["content"]) / float(a["content"])
        price = float(b["price_usd_per_t"])
        margin = price - cost
        share = margin / price
        limit = params.get("stage_max_conversion_margin_share", material)
        check = "below input cost" if margin < 0 else ("wide margin" if share > limit else "consistent")
        rows.append([material, a["stage"], b["stage"], cost, price, margin, share, check])
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)
