"""Trade volumes in content tonnes, apparent consumption by country, and restrictors' export ratios.

From the atlas ``trade`` table (BACI, gross product weight, 2024 only with tonnes) and ``production``:

* **Flows** of a material: the HS6 codes filed under that material alone (shared codes such as 811292 are
  never split), at one stage: the market stage where such codes exist, else the other modelled stage
  (magnet-stage codes are not the material's content and are not used). Gross tonnes become content tonnes
  with ``trade_content_factor[material]`` (``parameters/market.csv``, source per row). A row without tonnes
  gets ``value / unit value``, the unit value being that code's world value per tonne in the same year;
  the number of such rows is reported. A year without any tonnes (2022) uses the value alone (shares only).
* **Apparent consumption** of country ``c``: ``max(0, P_c + M_c - X_c)`` with ``P`` the atlas production at
  the stage of the flows, ``M`` and ``X`` its imports and exports in content. A material whose codes are
  at a stage the atlas has no production for (e.g. unwrought tungsten with mine output only) is not
  mixed across stages: it falls back to GDP shares. The ``OTH`` production row is left out (its exports
  reach importers' ``M``). Shares over every country sum to 1: the importing zone's loss is split over
  all of them.
* **Fallback** where a material has no usable flows: each country's share of world GDP (WDI, latest year
  before the as-of year), labelled ``gdp-share``.
* **Export ratio** of a producer: ``X_c / P_c`` (capped at 1) at the stage of the flows, used for the
  withheld volume of an export restriction at that stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin.atlas.wdi import latest_gdp

NON_COUNTRY = frozenset({"OTH", "WLD"})
FLOW_STAGES: tuple[str, ...] = ("mine", "refine")


@dataclass(frozen=True)
class Flows:
    """Content-tonne trade of one material at one stage and year."""

    material: str
    stage: str
    year: int
    hs6: tuple[str, ...]
    exports_t: pd.Series  # by exporter, content tonnes
    imports_t: pd.Series  # by importer, content tonnes
    estimated_rows: int  # rows whose tonnes came from value / unit value
    rows: int
    has_tonnes: bool  # False: the year has no tonnes at all (value shares only)
    tonnage_value_gap: float  # max |exporter share by tonnes - by value|


def material_flows(
    trade: pd.DataFrame | None,
    material: str,
    market_stage: str,
    factor: float,
    before_year: int | None = None,
) -> Flows | None:
    """The material's own-code flows (see the module docstring); ``None`` when there are none."""
    if trade is None or not len(trade) or "tonnes" not in trade.columns:
        return None
    own = trade[(trade["material"] == material) & trade["stage"].isin(FLOW_STAGES)]
    if before_year is not None:
        own = own[own["year"] < before_year]
    if not len(own):
        return None
    stages = set(own["stage"])
    stage = market_stage if market_stage in stages else sorted(stages)[0]
    own = own[own["stage"] == stage]
    year = int(own["year"].max())
    rows = own[own["year"] == year]
    tonnes = rows["tonnes"].astype("float64")
    has_tonnes = bool(tonnes.notna().any())
    if has_tonnes:
        with_q = rows[tonnes.notna() & (tonnes > 0)]
        unit = with_q.groupby("hs6")["value_usd"].sum() / with_q.groupby("hs6")["tonnes"].sum()
        fill = rows["value_usd"] / rows["hs6"].map(unit)
        gross = tonnes.where(tonnes.notna(), fill).fillna(0.0)
        estimated = int(tonnes.isna().sum())
    else:
        gross = rows["value_usd"].astype("float64")
        estimated = len(rows)
    content = gross * factor
    exp_t = content.groupby(rows["exporter"]).sum()
    imp_t = content.groupby(rows["importer"]).sum()
    exp_v = rows.groupby("exporter")["value_usd"].sum()
    share_t = exp_t / exp_t.sum() if exp_t.sum() > 0 else exp_t
    share_v = exp_v / exp_v.sum() if exp_v.sum() > 0 else exp_v
    gap = float((share_t - share_v.reindex(share_t.index).fillna(0.0)).abs().max()) if len(share_t) else 0.0
    return Flows(
        material=material,
        stage=stage,
        year=year,
        hs6=tuple(sorted(set(rows["hs6"]))),
        exports_t=exp_t.astype("float64"),
        imports_t=imp_t.astype("float64"),
        estimated_rows=estimated,
        rows=len(rows),
        has_tonnes=has_tonnes,
        tonnage_value_gap=gap,
    )


def apparent_consumption(production_t: pd.Series, flows: Flows) -> pd.Series:
    """``max(0, P + M - X)`` by country (content tonnes), ``OTH``/``WLD`` and combined codes left out."""
    prod = production_t[[str(c) not in NON_COUNTRY and "+" not in str(c) for c in production_t.index]]
    idx = prod.index.union(flows.exports_t.index).union(flows.imports_t.index)
    ac = (
        prod.reindex(idx).fillna(0.0)
        + flows.imports_t.reindex(idx).fillna(0.0)
        - flows.exports_t.reindex(idx).fillna(0.0)
    )
    assert not ac.isna().any()
    return ac.clip(lower=0.0).astype("float64")


def gdp_shares(gdp: pd.DataFrame, before_year: int | None = None) -> pd.Series:
    """Each economy's share of the summed latest GDP (WDI; year ``< before_year`` when given)."""
    g = latest_gdp(gdp, "gdp_usd", before_year) if gdp is not None and len(gdp) else pd.Series(dtype=float)
    g = g[g > 0]
    return (g / g.sum()).astype("float64") if g.sum() > 0 else g


def export_ratio(production_t: pd.Series, flows: Flows) -> pd.Series:
    """``X_c / P_c`` (capped at 1) for producers with output at the stage of the flows."""
    prod = production_t[production_t > 0]
    x = flows.exports_t.reindex(prod.index).fillna(0.0)
    return (x / prod).clip(upper=1.0).astype("float64")


def allocation(
    production_t: pd.Series | None, flows: Flows | None, gdp_share: pd.Series
) -> tuple[pd.Series, str]:
    """Consumption shares over all countries (sum 1) and the basis used (``apparent-consumption`` or
    ``gdp-share``, the given ``gdp_share``); a year without tonnes gives ``net-import-value`` shares."""
    if flows is not None and production_t is not None and flows.has_tonnes:
        ac = apparent_consumption(production_t, flows)
        if ac.sum() > 0:
            return (ac / ac.sum()).astype("float64"), "apparent-consumption"
    if flows is not None and not flows.has_tonnes:
        # no tonnes in that year: net importers by value (production in tonnes cannot be added to USD)
        net = (flows.imports_t.sub(flows.exports_t, fill_value=0.0)).clip(lower=0.0)
        if net.sum() > 0:
            return (net / net.sum()).astype("float64"), "net-import-value"
    return gdp_share, "gdp-share"


def world_content(flows: Flows | None) -> float:
    """World exports of the flows in content tonnes (NaN when there are no flows)."""
    return float(flows.exports_t.sum()) if flows is not None else float(np.nan)


def allocate(
    atlas: Any,
    factors: tuple[float, ...],
    own_rows: tuple[bool, ...],
    mats: list[str],
    market_stage: list[str],
    shares: dict[tuple[str, str], pd.Series],
    before: int | None,
) -> dict[str, Any]:
    """Country consumption shares, export ratios and their bases per material (see the module docstring).
    ``factors``: trade content factor per material (NaN = none); ``own_rows``: the material has its own
    ``restrictor_export_share`` row (it wins over trade)."""
    trade = atlas.trade
    if before is not None and trade is not None and len(trade) and not (trade["year"] < before).any():
        before_trade: int | None = int(trade["year"].min()) + 1  # no trade before the start: earliest year
    else:
        before_trade = before
    gdp = getattr(atlas, "gdp", None)
    if gdp is None:
        from critmin.atlas.schema import empty

        gdp = empty("gdp")
    gdp_share = gdp_shares(gdp, before)
    own: dict[str, pd.DataFrame] = {}
    if trade is not None and len(trade) and "tonnes" in trade.columns:
        single = trade[~trade["material"].astype(str).str.contains("|", regex=False)]
        own = {str(k): g for k, g in single.groupby("material", sort=False)}
    per: list[pd.Series] = []
    basis: list[str] = []
    ex_basis: list[str] = []
    ratios: dict[tuple[str, str], pd.Series] = {}
    info: dict[str, dict[str, Any]] = {}
    for m, mst, factor, own_row in zip(mats, market_stage, factors, own_rows, strict=True):
        flows = None
        if np.isfinite(factor):
            flows = material_flows(own.get(m), m, mst, factor, before_trade)
        tonnes = None
        if flows is not None and (m, flows.stage) in shares:
            # production and trade at the same stage: P + M - X is consistent; a material whose trade
            # codes are at a stage the atlas has no production for falls back to GDP shares
            tonnes = shares[(m, flows.stage)].attrs["tonnes"]
        alloc, how = allocation(tonnes, flows, gdp_share)
        per.append(alloc)
        basis.append(how)
        if flows is not None and tonnes is not None and flows.has_tonnes and (m, flows.stage) in shares:
            ratios[(m, flows.stage)] = export_ratio(tonnes, flows)
            ex_basis.append(
                f"trade ({flows.stage}, {flows.year})" if not own_row else "parameter restrictor_export_share"
            )
        else:
            ex_basis.append("parameter restrictor_export_share" + ("" if own_row else " (default)"))
        if flows is not None:
            info[m] = {
                "stage": flows.stage,
                "year": flows.year,
                "hs6": list(flows.hs6),
                "content_factor": factor,
                "rows": flows.rows,
                "rows_tonnes_estimated": flows.estimated_rows,
                "tonnage_value_share_gap": flows.tonnage_value_gap,
            }
    countries = sorted(set().union(*(set(map(str, a.index)) for a in per)) if per else set())
    share = np.zeros((len(mats), len(countries)))
    for i, a in enumerate(per):
        share[i] = a.reindex(countries).fillna(0.0).to_numpy()
    assert not np.isnan(share).any()
    return {
        "countries": countries,
        "consumption_share": share,
        "alloc_basis": basis,
        "export_ratio": ratios,
        "export_basis": ex_basis,
        "trade_info": info,
    }


_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
_CACHE_SIZE = 16


def cached_allocate(
    atlas: Any,
    factors: tuple[float, ...],
    own_rows: tuple[bool, ...],
    mats: list[str],
    market_stage: list[str],
    shares: dict[tuple[str, str], pd.Series],
    before: int | None,
) -> dict[str, Any]:
    """:func:`allocate`, remembered per (atlas object, year, factors): the atlas tables are read-only
    (``load_atlas``) and the same atlas object always gives the same shares, so a repeated build (Monte
    Carlo, sensitivity runs, the dashboard) does not recompute the trade volumes."""
    try:
        key = (atlas, before, tuple(mats), tuple(f if f == f else None for f in factors), own_rows)
        hash(key)
    except TypeError:  # an atlas-like object that cannot be a key: no cache
        return allocate(atlas, factors, own_rows, mats, market_stage, shares, before)
    if key not in _CACHE:
        if len(_CACHE) >= 2 * _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = allocate(atlas, factors, own_rows, mats, market_stage, shares, before)
    return _CACHE[key]
