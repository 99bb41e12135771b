"""Mine-to-refine flows for the material page's Sankey diagram (a display allocation, documented).

For one material and year, with mine output ``m_i`` and refinery output ``r_j`` by country:

1. A country that both mines and refines is taken to refine its own ore first: it keeps
   ``k_i = min(m_i, r_j=i)`` (flow ``i -> i``).
2. The rest ``e_i = m_i - k_i`` goes abroad. **Trade-based** when BACI reports exports of the material's
   ore-stage HS6 codes from ``i`` (value in USD, latest BACI year on or before the production year):
   ``e_i`` is split over the importers ``j`` in proportion to those export values. **Proportional**
   otherwise: ``e_i`` is split over the other refining countries (for ``OTH``: all refining countries) in
   proportion to their refinery output ``r_j`` (an assumption, flagged in the ``basis`` column).
3. Flows are in tonnes of contained content; the total equals the total mine output.

``OTH`` (published "Other countries") is kept as a node but never counted as domestic refining (it is many
countries); combined codes (``A+B``) are kept as published.
The allocation is an illustration of who could refine whose ore, not a traced physical flow: BACI values
mix grades and the customs exporter may be a trading hub.
"""

from __future__ import annotations

import pandas as pd

from critmin.atlas.countries import OTHER

FLOW_COLUMNS = ["mine_iso3", "refine_iso3", "tonnes", "basis"]


def mine_to_refine(mine: pd.Series, refine: pd.Series, ore_exports: pd.DataFrame) -> pd.DataFrame:
    """Flows ``mine_iso3 -> refine_iso3`` in tonnes (columns :data:`FLOW_COLUMNS`).

    ``mine`` and ``refine`` are tonnes by ISO3 (NaN rows dropped by the caller); ``ore_exports`` has
    columns ``exporter, importer, value_usd`` for the material's ore-stage trade in the same year.
    """
    mine = mine[mine > 0].astype(float)
    refine = refine[refine > 0].astype(float)
    ore = ore_exports[(ore_exports["value_usd"] > 0) & (ore_exports["exporter"] != ore_exports["importer"])]
    rows: list[tuple[str, str, float, str]] = []
    for iso, m in mine.items():
        # "Other countries" is many countries: its ore is not taken to be refined where it was mined
        kept = 0.0 if iso == OTHER else min(float(m), float(refine.get(iso, 0.0)))
        if kept > 0:
            rows.append((str(iso), str(iso), kept, "domestic"))
        rest = float(m) - kept
        if rest <= 0:
            continue
        out = ore[ore["exporter"] == iso].groupby("importer")["value_usd"].sum()
        if out.sum() > 0:
            weights, basis = out / out.sum(), "trade"
        else:
            others = refine if iso == OTHER else refine.drop(index=iso, errors="ignore")
            if others.sum() <= 0:
                rows.append((str(iso), "unallocated", rest, "no refiner"))
                continue
            weights, basis = others / others.sum(), "proportional"
        rows.extend((str(iso), str(j), rest * float(w), basis) for j, w in weights.items() if w > 0)
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


def top_flows(flows: pd.DataFrame, n: int = 12) -> pd.DataFrame:
    """Keep the ``n`` largest mine and refine countries; fold the rest into ``other`` nodes (totals kept)."""
    if flows.empty:
        return flows
    keep_src = set(flows.groupby("mine_iso3")["tonnes"].sum().nlargest(n).index)
    keep_dst = set(flows.groupby("refine_iso3")["tonnes"].sum().nlargest(n).index)
    f = flows.copy()
    f["mine_iso3"] = f["mine_iso3"].where(f["mine_iso3"].isin(keep_src), "other")
    f["refine_iso3"] = f["refine_iso3"].where(f["refine_iso3"].isin(keep_dst), "other")
    out = f.groupby(["mine_iso3", "refine_iso3", "basis"], sort=False)["tonnes"].sum().reset_index()
    return out.sort_values(by="tonnes", ascending=False, ignore_index=True)[FLOW_COLUMNS]
