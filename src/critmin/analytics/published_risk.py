"""Supply-risk scores on the published methods, beside critmin's own variants (see docs/methods/analytics.md).

``eu_sr_published`` — European Commission (2017), *Methodology for establishing the EU list of critical raw
materials: guidelines* (Blengini et al., JRC, doi:10.2873/769526), section 3.2::

    SR = [HHI_WGI,t(GS) * IR/2 + HHI_WGI,t(EU sourcing) * (1 - IR/2)] * (1 - EOL_RIR) * SI_SR
    HHI_WGI,t = sum_i S_i**2 * WGI_i * t_i        (S_i fraction; WGI_i 0-10; t_i trade factor 1-2)
    IR = (imports - exports) / (domestic production + imports - exports)

where GS is the global supply (production shares) and EU sourcing the actual sourcing of the region (its
domestic production plus its imports by partner). critmin's own variant (``supply_risk`` in the exposure
report) sets both HHI terms to global supply, so IR drops out.

``geopolrisk_published`` — Gemechu et al. (2016), J. Ind. Ecol. 20(1):154-165, as operationalised by
Santillán-Saldivar et al. (2021), Resour. Conserv. Recycl. 164:105108 (the ``geopolrisk-py`` method)::

    GPRS_c = HHI * sum_i g_i * F_i,c / (F_c + P_c)
    g_i = (2.5 - PV_i) / 5 in [0, 1];  g_i = 0 for partners inside the assessed group

``eu_ei_published`` — the economic importance of the same guidelines (section 3.1), where data allow::

    EI = sum_s A_s * Q_s * SI_EI / GDP

with A_s the share of the material's end use in sector s, Q_s the value added of sector s (US$) and SI_EI the
substitution index for EI; dividing by the region's GDP makes EI the value-added share at stake (the
2010/2014 scaling; the 2017 guidelines scale against NACE Rev. 2 2-digit sector value added, which no
bundled source gives). On the atlas the only sector with value added is WDI's industry (ISIC B-F).

with F_i,c the imports of c from partner i in tonnes, F_c all imports of c, P_c the domestic production of c
and HHI the global production HHI as a fraction. critmin's variant (``geopolrisk`` in the exposure report)
uses BACI value shares and leaves domestic production out of the denominator.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import pandas as pd

from critmin.analytics.concentration import shares

EU_SR_NAME = "EU supply risk (EC 2017 methodology)"
EU_EI_NAME = "EU economic importance (EC 2017 methodology, where data allow)"
GPR_NAME = "GeoPolRisk (Santillán-Saldivar et al. 2021)"


@dataclass(frozen=True)
class RiskScore:
    """A named score with the terms that produced it and the flags of any assumption standing in."""

    method: str
    value: float
    terms: dict[str, float]
    flags: list[str] = field(default_factory=list)


def _aligned(values: pd.Series, index: pd.Index, what: str, missing: float | None) -> pd.Series:
    out = values.reindex(index)
    if missing is not None:
        out = out.fillna(missing)
    if out.isna().any():
        raise ValueError(f"no {what} for {sorted(out.index[out.isna()])}; pass `missing`")
    return out.astype("float64")


def hhi_wgi_t(
    supply: pd.Series, wgi: pd.Series, t: pd.Series | None = None, missing_wgi: float | None = None
) -> float:
    """``sum_i S_i**2 * WGI_i * t_i`` (``t`` defaults to 1: no export restriction)."""
    s = shares(supply)
    w = _aligned(wgi, s.index, "WGI", missing_wgi)
    tt = pd.Series(1.0, index=s.index) if t is None else _aligned(t, s.index, "trade factor t", 1.0)
    if ((tt < 1.0) | (tt > 2.0)).any():
        raise ValueError("trade factor t must be in [1, 2] (EC 2017: 1 = no export restriction)")
    return float((s**2 * w * tt).sum())


def eu_sr_published(
    global_supply: pd.Series,
    sourcing: pd.Series,
    imports_t: float,
    exports_t: float,
    domestic_t: float,
    wgi: pd.Series,
    eol_rir: float,
    si_sr: float,
    t: pd.Series | None = None,
    missing_wgi: float | None = None,
    flags: Collection[str] = (),
) -> RiskScore:
    """The EU SR with its published terms. ``sourcing``: the region's supply by origin (its domestic
    production under its own code plus imports by partner); ``imports_t``/``exports_t``/``domestic_t`` give
    IR. ``flags`` name the assumptions standing in for a term (carried to the result)."""
    consumption = domestic_t + imports_t - exports_t
    if consumption <= 0:
        raise ValueError(f"apparent consumption {consumption} <= 0; IR is undefined")
    ir = min(max((imports_t - exports_t) / consumption, 0.0), 1.0)
    for name, v in (("eol_rir", eol_rir), ("si_sr", si_sr)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be a fraction in [0, 1]; got {v!r}")
    gs = hhi_wgi_t(global_supply, wgi, t, missing_wgi)
    src = hhi_wgi_t(sourcing, wgi, t, missing_wgi)
    value = (gs * ir / 2 + src * (1 - ir / 2)) * (1 - eol_rir) * si_sr
    terms = {"hhi_wgi_gs": gs, "hhi_wgi_sourcing": src, "ir": ir, "eol_rir": eol_rir, "si_sr": si_sr}
    return RiskScore(EU_SR_NAME, float(value), terms, list(flags))


def geopolrisk_published(
    hhi_fraction: float,
    imports_t: pd.Series,
    domestic_t: float,
    governance: pd.Series,
    group: Collection[str] = (),
    missing_g: float | None = None,
    flags: Collection[str] = (),
) -> RiskScore:
    """GeoPolRisk supply-risk score of an importer (or group) on the published formula; partners in
    ``group`` count with zero risk (trade inside the group)."""
    if not 0.0 <= hhi_fraction <= 1.0:
        raise ValueError(f"hhi_fraction must be in [0, 1]; got {hhi_fraction!r}")
    f = imports_t.astype("float64")
    if (f < 0).any() or domestic_t < 0:
        raise ValueError("imports and domestic production must be >= 0 tonnes")
    denom = float(f.sum()) + float(domestic_t)
    if denom <= 0:
        raise ValueError("no imports and no domestic production: the score is undefined")
    g = _aligned(governance, f.index, "governance risk", missing_g)
    g = g.where(~g.index.isin(list(group)), 0.0)
    weighted = float((g * f).sum()) / denom
    terms = {"hhi": float(hhi_fraction), "weighted_import_risk": weighted, "imports_t": float(f.sum()),
             "domestic_t": float(domestic_t)}  # fmt: skip
    return RiskScore(GPR_NAME, float(hhi_fraction) * weighted, terms, list(flags))


def eu_ei_published(
    end_use: pd.Series, sector_va_usd: pd.Series, gdp_usd: float, si_ei: float, flags: Collection[str] = ()
) -> RiskScore:
    """``EI = sum_s A_s * Q_s * SI_EI / GDP``. ``end_use``: share of the material's use per sector (sum <= 1);
    ``sector_va_usd``: value added per sector (every end-use sector must have one: aligned explicitly)."""
    a = end_use.astype("float64")
    if ((a < 0) | (a > 1)).any() or float(a.sum()) > 1.0 + 1e-9:
        raise ValueError(f"end-use shares must be fractions summing to <= 1; got {a.to_dict()}")
    q = sector_va_usd.reindex(a.index)
    if q.isna().any():
        raise ValueError(f"no sector value added for end-use sectors {sorted(q.index[q.isna()])}")
    if not gdp_usd > 0 or (q < 0).any():
        raise ValueError(f"GDP must be > 0 and value added >= 0; got GDP {gdp_usd!r}")
    if not 0.0 <= si_ei <= 1.0:
        raise ValueError(f"si_ei must be a fraction in [0, 1]; got {si_ei!r}")
    weighted = float((a * q.astype("float64")).sum())
    terms = {"sum_as_qs_usd": weighted, "gdp_usd": float(gdp_usd), "si_ei": float(si_ei),
             "end_use_covered": float(a.sum())}  # fmt: skip
    return RiskScore(EU_EI_NAME, weighted * si_ei / float(gdp_usd), terms, list(flags))


def group_value_added(
    gdp: pd.DataFrame, members: Collection[str], year: int
) -> tuple[float, float, list[str]]:
    """The group's industry value added and GDP (US$): per member its latest year <= ``year`` with both
    figures, summed; and the members with neither (left out, e.g. Taiwan, which WDI does not cover)."""
    g = gdp.dropna(subset=["gdp_usd", "industry_va_usd"])
    g = g[g["iso3"].isin(list(members)) & (g["year"] <= year)]
    g = g.sort_values(["iso3", "year"]).groupby("iso3").tail(1)
    missing = sorted(set(members) - set(g["iso3"]))
    return float(g["industry_va_usd"].sum()), float(g["gdp_usd"].sum()), missing


def _wgi_of(codes: pd.Index, wgi: pd.Series, missing: float) -> pd.Series:
    """Scaled WGI per code; combined ``A+B`` rows take their members' mean; ``OTH`` the missing value."""
    vals = []
    for c in codes:
        known = [float(wgi[m]) for m in str(c).split("+") if m in wgi.index]
        vals.append(sum(known) / len(known) if known else missing)
    return pd.Series(vals, index=codes, dtype="float64")


def _content_tonnes(rows: pd.DataFrame, price: float, factor: float | None) -> tuple[pd.Series, str]:
    """Content tonnes per trade row and the text saying how they were obtained."""
    by_value = rows["value_usd"].astype("float64") / price
    if factor is None or "tonnes" not in rows.columns:
        return by_value, "trade tonnes = BACI value / reference price (value-based stand-in)"
    gross = rows["tonnes"].astype("float64")
    have = gross.notna()
    out = (gross * factor).where(have, by_value)
    share = float(rows.loc[have, "value_usd"].sum() / rows["value_usd"].sum()) if len(rows) else 0.0
    if share == 0.0:
        return by_value, "trade tonnes = BACI value / reference price (no BACI quantities for this year)"
    text = f"trade tonnes = BACI gross tonnes x content factor {factor:g} for {share:.0%} of the value"
    return out, text + "; the rest value / reference price"


def risk_methods(
    supply: pd.Series,
    trade_rows: pd.DataFrame,
    members: Collection[str],
    wgi: pd.Series,
    governance: pd.Series,
    price_usd_per_t: float | None,
    eol_rir: float,
    si_sr: float,
    missing_wgi: float,
    missing_g: float,
    content_factor: float | None = None,
) -> list[RiskScore]:
    """Both published scores for a group on the atlas data. Trade in content tonnes = BACI gross tonnes x
    ``content_factor`` where BACI has a quantity and a factor is documented, else BACI value / the reference
    price (flagged: a value-based stand-in); EOL-RIR and SI are parameters (flagged when the default
    assumption stands in)."""
    if price_usd_per_t is None or not price_usd_per_t > 0 or trade_rows.empty or supply.sum() <= 0:
        return []
    mem = set(members)
    content, how = _content_tonnes(trade_rows, price_usd_per_t, content_factor)
    inbound = trade_rows["importer"].isin(mem) & ~trade_rows["exporter"].isin(mem)
    outbound = trade_rows["exporter"].isin(mem) & ~trade_rows["importer"].isin(mem)
    imports_t = content[inbound].groupby(trade_rows.loc[inbound, "exporter"]).sum()
    exports_t = float(content[outbound].sum())
    flags = [how]
    if eol_rir == 0.0:
        flags.append("EOL-RIR = 0: default assumption (no bundled per-material value)")
    if si_sr == 1.0:
        flags.append("SI = 1: default assumption (no bundled per-material value)")
    inside = supply[[c for c in supply.index if set(str(c).split("+")) <= mem]]
    sourcing = pd.concat([inside, imports_t]).groupby(level=0).sum()  # members' own output by country
    w = _wgi_of(supply.index.union(sourcing.index), wgi, missing_wgi)
    domestic_t = float(inside.sum())
    out = []
    if domestic_t + float(imports_t.sum()) - exports_t > 0:
        out.append(
            eu_sr_published(
                supply,
                sourcing,
                float(imports_t.sum()),
                exports_t,
                domestic_t,
                w,
                eol_rir,
                si_sr,
                flags=flags,
            )
        )
    hhi_fraction = float((shares(supply) ** 2).sum())
    out.append(
        geopolrisk_published(hhi_fraction, imports_t, domestic_t, governance, mem, missing_g, flags[:1])
    )
    return out
