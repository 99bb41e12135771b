"""Producers' shares over time for one (material, stage): observed history beside IEA projections.

Observed shares use the primary rows of each year (the newest edition that published a number, see
docs/methods/atlas.md); each year names its edition and source. IEA base-case projections (2030/2035/2040)
come from the separate ``projections`` table and are marked ``kind = projection``: they are never mixed into
the observed rows. Shares are of the listed rows' sum (``OTH`` included), as everywhere in critmin.
"""

from __future__ import annotations

import pandas as pd

from critmin.atlas.chain import SupplyChain
from critmin.atlas.countries import OTHER

HISTORY_COLUMNS = ["year", "kind", "iso3", "tonnes", "share", "edition", "source"]
REST = "REST"


class HistoryError(ValueError):
    """A history request the atlas cannot answer (unknown material or stage)."""


def _observed(atlas: SupplyChain, material: str, stage: str) -> pd.DataFrame:
    p = atlas.production
    sel = p[(p["material"] == material) & (p["stage"] == stage) & p["primary"].astype(bool)]
    sel = sel.dropna(subset=["tonnes"])
    out = sel.groupby(["year", "iso3"], as_index=False).agg(
        tonnes=("tonnes", "sum"), edition=("edition", "first"), source=("source", "first")
    )
    out["kind"] = "observed"
    return out


def _projected(atlas: SupplyChain, material: str, stage: str) -> pd.DataFrame:
    pr = atlas.projections
    sel = pr[(pr["material"] == material) & (pr["stage"] == stage) & (pr["iso3"] != "WLD")]
    out = sel.groupby(["year", "iso3"], as_index=False).agg(
        tonnes=("tonnes", "sum"), edition=("edition", "first"), source=("source", "first")
    )
    out["kind"] = "projection"
    return out


def share_history(atlas: SupplyChain, material: str, stage: str, top: int = 5) -> pd.DataFrame:
    """Long table (:data:`HISTORY_COLUMNS`): per year the ``top`` producers (largest share in any observed
    year) and ``REST`` (everyone else, ``OTH`` included); shares sum to 1 per year and kind."""
    if material not in set(atlas.materials["slug"]):
        raise HistoryError(f"unknown material {material!r}; see `critmin materials`")
    both = pd.concat([_observed(atlas, material, stage), _projected(atlas, material, stage)])
    if both.empty:
        have = ", ".join(atlas.stages_of(material)) or "none"
        raise HistoryError(f"no {stage!r} rows for {material!r}; stages with data: {have}")
    both["share"] = both["tonnes"] / both.groupby(["kind", "year"])["tonnes"].transform("sum")
    obs = both[(both["kind"] == "observed") & (both["iso3"] != OTHER)]
    ranked = obs.groupby("iso3")["share"].max().sort_values(ascending=False, kind="mergesort")
    leaders = list(ranked.index[: max(int(top), 1)])
    both["iso3"] = both["iso3"].where(both["iso3"].isin(leaders), REST)
    out = both.groupby(["kind", "year", "iso3"], as_index=False).agg(
        tonnes=("tonnes", "sum"),
        share=("share", "sum"),
        edition=("edition", "first"),
        source=("source", "first"),
    )
    order = {c: i for i, c in enumerate([*leaders, REST])}
    out = out.assign(_o=out["iso3"].map(order), _k=out["kind"].map({"observed": 0, "projection": 1}))
    out = out.sort_values(["_k", "year", "_o"], kind="mergesort")
    return out[HISTORY_COLUMNS].reset_index(drop=True)


def share_table(history: pd.DataFrame) -> pd.DataFrame:
    """Wide view: one row per (year, kind), one column per producer (share), plus the edition used."""
    wide = history.pivot_table(index=["year", "kind"], columns="iso3", values="share", sort=False)
    cols = list(dict.fromkeys(history["iso3"]))
    wide = wide.reindex(columns=cols)
    eds = history.groupby(["year", "kind"])["edition"].first()
    wide["edition"] = eds.reindex(wide.index)
    return wide.reset_index()
