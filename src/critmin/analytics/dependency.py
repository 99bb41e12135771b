"""Dependency measures: who supplies an importer (country or group), import reliance, US net import reliance.

Definitions (see ``docs/methods/analytics.md``):

* supplier shares of an importer set ``I``: for trade rows already restricted to one material, stage and
  year, ``f_s = V(s -> I) / sum_s' V(s' -> I)`` over exporters ``s`` outside ``I`` (flows inside a group
  are not imports of the group, as in EU extra-EU statistics);
* dependency of ``I`` on a supplier set ``S``: ``D(I, S) = sum_{s in S} f_s``;
* import reliance (EU CRM methodology): ``IR = (M - X) / (P + M - X)``, clipped to [0, 1] (a net exporter
  has IR = 0); NaN when apparent consumption ``P + M - X`` is not positive. Quantities in one unit.
* supply dependency of ``I`` on ``S``: ``SD(I, S) = IR(I) * D(I, S)``, the fraction of ``I``'s apparent
  consumption met by imports from ``S`` (import shares by value applied to the import-reliant part);
* US net import reliance: USGS's published percentage (``SupplyChain.us_nir``) as a fraction; USGS's
  ``E`` (net exporter) -> 0.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import overload

import numpy as np
import pandas as pd

Quantity = np.ndarray | pd.Series | pd.DataFrame | float


def supplier_shares(trade: pd.DataFrame, importers: Collection[str]) -> pd.Series:
    """Share of each exporter in the imports of ``importers`` (flows from inside the set excluded).

    ``trade`` has columns ``exporter, importer, value_usd`` and holds one material, stage and year.
    Returns a Series indexed by exporter ISO3 summing to 1 (empty when there are no such imports).
    """
    inside = set(importers)
    rows = trade[trade["importer"].isin(inside) & ~trade["exporter"].isin(inside)]
    by = rows.groupby("exporter", sort=True)["value_usd"].sum().astype("float64")
    by = by[by > 0]
    total = float(by.sum())
    out = by / total if total > 0 else by
    out.index.name = "exporter"
    out.name = "share"
    return out.sort_values(ascending=False, kind="stable")


def dependency(trade: pd.DataFrame, importers: Collection[str], suppliers: Collection[str]) -> float:
    """Fraction of the external imports of ``importers`` that come from ``suppliers`` (NaN: no imports)."""
    f = supplier_shares(trade, importers)
    if f.empty:
        return float("nan")
    return float(f[f.index.isin(list(suppliers))].sum())


def supply_dependency(import_reliance: float, import_share: float) -> float:
    """``IR * D``: share of apparent consumption met by imports from a supplier (NaN propagates)."""
    for name, v in (("import_reliance", import_reliance), ("import_share", import_share)):
        if np.isfinite(v) and not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} = {v!r}; expected a fraction in [0, 1]")
    return float(import_reliance) * float(import_share)


@overload
def import_reliance(production: pd.Series, imports: pd.Series, exports: pd.Series) -> pd.Series: ...
@overload
def import_reliance(
    production: pd.DataFrame, imports: pd.DataFrame, exports: pd.DataFrame
) -> pd.DataFrame: ...
@overload
def import_reliance(production: np.ndarray, imports: np.ndarray, exports: np.ndarray) -> np.ndarray: ...
@overload
def import_reliance(production: float, imports: float, exports: float) -> float: ...


def import_reliance(
    production: Quantity, imports: Quantity, exports: Quantity
) -> np.ndarray | pd.Series | pd.DataFrame | float:
    """EU import reliance ``(M - X) / (P + M - X)`` clipped to [0, 1]; NaN if ``P + M - X <= 0``.

    Elementwise over ndarrays, Series, DataFrames (aligned by label) or floats; same kind out.
    """
    net = imports - exports
    apparent = production + net
    a = np.asarray(apparent, dtype="float64")
    n = np.asarray(net, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(a > 0, np.clip(n / np.where(a > 0, a, 1.0), 0.0, 1.0), np.nan)
    if isinstance(apparent, pd.Series):
        return pd.Series(out, index=apparent.index, name="import_reliance")
    if isinstance(apparent, pd.DataFrame):
        return pd.DataFrame(out, index=apparent.index, columns=apparent.columns)
    if isinstance(production, np.ndarray):
        return np.asarray(out)
    return float(out)


def us_net_import_reliance(us_nir: pd.DataFrame, year: int) -> pd.Series:
    """USGS US net import reliance as a fraction per material, for ``year`` or the latest year before it.

    ``us_nir`` has columns ``material, year, nir_pct, flag``. A net-exporter row (flag containing
    ``exporter``, USGS text ``E``) is 0; a withheld or non-numeric row stays NaN (a gap, not a guess).
    """
    rows = us_nir[us_nir["year"] <= int(year)].sort_values(["material", "year"], kind="stable")
    latest = rows.groupby("material", sort=True).tail(1).set_index("material")
    frac = latest["nir_pct"].astype("float64") / 100.0
    exporter = latest["flag"].astype(str).str.contains("exporter", case=False)
    out = frac.where(~exporter, 0.0)
    out.name = "us_nir"
    return out
