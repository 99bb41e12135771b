"""Supply-risk scores: the EU CRM (2017) supply risk and a GeoPolRisk-style import-risk score.

EU CRM methodology (Blengini et al. 2017, "Methodology for establishing the EU list of critical raw
materials: guidelines", European Commission JRC, doi:10.2873/769526)::

    SR = [HHI_WGI,GS * IR/2 + HHI_WGI,sourcing * (1 - IR/2)] * (1 - EOL_RIR) * SI
    HHI_WGI = sum_c s_c**2 * WGI_c          (s_c fraction, WGI_c scaled 0-10, 10 = weakest governance)

GeoPolRisk (Gemechu et al. 2016, J. Ind. Ecol. 20(1):154-165; Santillán-Saldivar et al. 2021,
Resour. Conserv. Recycl. 164:105108)::

    GPR = HHI * sum_i g_i * f_i            (HHI fraction 0-1, g_i = (2.5 - PV_i)/5 in [0, 1],
                                           f_i = partner i's share of the importer's supply)

WGI scaling: each indicator estimate (about -2.5..2.5) maps to ``10 * (2.5 - est) / 5`` clipped to
[0, 10]; the EU score averages the six indicators. A country's WGI is taken from the latest year on or
before the requested one.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

import numpy as np
import pandas as pd

from critmin.analytics.concentration import shares

T = TypeVar("T", np.ndarray, pd.Series, pd.DataFrame, float)
WGI_INDICATORS = ("va", "pv", "ge", "rq", "rl", "cc")


def _latest(wgi: pd.DataFrame, year: int, indicators: Collection[str]) -> pd.DataFrame:
    rows = wgi[(wgi["year"] <= int(year)) & wgi["indicator"].isin(list(indicators))].dropna(
        subset=["estimate"]
    )
    rows = rows.sort_values(["iso3", "indicator", "year"], kind="stable")
    return rows.groupby(["iso3", "indicator"], sort=True).tail(1)


def wgi_scaled(wgi: pd.DataFrame, year: int, indicators: Collection[str] = WGI_INDICATORS) -> pd.Series:
    """Governance risk on the EU 0-10 scale (10 = weakest), mean over ``indicators``, per ISO3.

    ``wgi`` has columns ``iso3, year, indicator, estimate``. For each country and indicator the latest
    non-missing estimate on or before ``year`` is used.
    """
    latest = _latest(wgi, year, indicators)
    scaled = (10.0 * (2.5 - latest["estimate"].astype("float64")) / 5.0).clip(0.0, 10.0)
    out = scaled.groupby(latest["iso3"]).mean()
    out.index.name = "iso3"
    out.name = "wgi_scaled"
    return out


def governance_risk_pv(wgi: pd.DataFrame, year: int) -> pd.Series:
    """GeoPolRisk governance risk ``g = (2.5 - PV)/5`` in [0, 1] from WGI political stability (``pv``)."""
    latest = _latest(wgi, year, ["pv"]).set_index("iso3")["estimate"].astype("float64")
    out = ((2.5 - latest) / 5.0).clip(0.0, 1.0)
    out.name = "governance_risk"
    return out


def hhi_wgi(
    x: pd.Series | np.ndarray,
    wgi: pd.Series | np.ndarray,
    exclude: Collection[str] = (),
    missing: float | None = None,
) -> float | np.ndarray:
    """``sum_c s_c**2 * WGI_c`` with ``s`` the shares of ``x`` (fractions) and WGI on the 0-10 scale.

    Labelled: ``wgi`` is reindexed to ``x``'s countries; ``exclude`` labels (``OTH``) keep their share in
    the total but add nothing; a country with no WGI takes ``missing`` or raises when ``missing`` is None.
    ndarray: ``wgi`` broadcasts against ``x`` over the last axis; no NaN allowed.
    """
    if isinstance(x, pd.Series):
        s = shares(x)
        keep = ~s.index.isin(list(exclude))
        w = pd.Series(wgi).reindex(s.index[keep])
        if missing is not None:
            w = w.fillna(missing)
        if w.isna().any():
            raise ValueError(f"no WGI for {sorted(w.index[w.isna()])}; pass `missing` or complete the WGI")
        return float((s[keep] ** 2 * w).sum())
    arr = np.asarray(shares(np.asarray(x, dtype="float64")))
    warr = np.asarray(wgi, dtype="float64")
    if np.isnan(warr).any():
        raise ValueError("WGI array contains NaN; fill missing countries before the equation")
    return np.asarray((arr**2 * warr).sum(axis=-1))


def eu_supply_risk(hhi_wgi_gs: T, hhi_wgi_sourcing: T, ir: T, eol_rir: T | float, si: T | float) -> T:
    """EU CRM 2017 supply risk: ``[HHI_GS * IR/2 + HHI_src * (1 - IR/2)] * (1 - EOL_RIR) * SI``."""
    for name, v in (("ir", ir), ("eol_rir", eol_rir)):
        a = np.asarray(v, dtype="float64")
        if np.isfinite(a).any() and ((a[np.isfinite(a)] < 0) | (a[np.isfinite(a)] > 1)).any():
            raise ValueError(f"{name} must be a fraction in [0, 1]; got {v!r}")
    return (hhi_wgi_gs * ir / 2 + hhi_wgi_sourcing * (1 - ir / 2)) * (1 - eol_rir) * si


def geopolrisk(
    hhi_fraction: float | np.ndarray,
    supply_shares: pd.Series | np.ndarray,
    governance_risk: pd.Series | np.ndarray,
    missing: float | None = None,
) -> float | np.ndarray:
    """GeoPolRisk-style score ``HHI * sum_i g_i * f_i`` (HHI as a fraction 0-1, ``f_i`` import shares).

    Labelled: ``governance_risk`` is reindexed to the partners of ``supply_shares``; a partner without a
    value takes ``missing`` or raises. ndarray: last axis = partners, broadcasting over leading axes.
    """
    if isinstance(supply_shares, pd.Series):
        g = pd.Series(governance_risk).reindex(supply_shares.index)
        if missing is not None:
            g = g.fillna(missing)
        if g.isna().any():
            raise ValueError(f"no governance risk for {sorted(g.index[g.isna()])}; pass `missing`")
        return float(hhi_fraction) * float((g * supply_shares).sum())
    f = np.asarray(supply_shares, dtype="float64")
    garr = np.asarray(governance_risk, dtype="float64")
    if np.isnan(garr).any():
        raise ValueError("governance risk array contains NaN; fill missing partners before the equation")
    return np.asarray(hhi_fraction) * (f * garr).sum(axis=-1)
