"""The exposure report: concentration, China and alliance shares and risk scores per material and stage.

Rules (documented in ``docs/methods/analytics.md``):

* quantities are the atlas's primary-source tonnes (``SupplyChain.stage_series``); withheld / missing
  country rows are left out and listed in ``withheld``;
* ``OTH`` (published "Other countries" / "Rest of world") is in the total, so every share is a share of
  world production; it is excluded from the HHI sum of squares (``hhi`` = lower bound), and
  ``hhi_upper`` counts it as one producer (upper bound); it is never the top producer and belongs to no
  group;
* year: the latest year with data on or before the requested one; if there is none, the earliest later
  year. The year used is reported (``year``) next to ``requested_year``;
* the EU supply risk uses sourcing = global supply (the group's sourcing mix in tonnes is not in the
  bundled data), so the IR weights cancel: ``SR = HHI_WGI,GS * (1 - EOL_RIR) * SI``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from critmin.analytics.concentration import group_shares, hhi, label_in, members_of, shares, top_k_share
from critmin.analytics.dependency import (
    dependency,
    supplier_shares,
    supply_dependency,
    us_net_import_reliance,
)
from critmin.analytics.supply_risk import eu_supply_risk, geopolrisk, governance_risk_pv, hhi_wgi, wgi_scaled
from critmin.atlas.chain import SupplyChain
from critmin.atlas.countries import OTHER
from critmin.atlas.trade_rows import SHARED_SEPARATOR
from critmin.options import options
from critmin.parameters import ParameterError, ParameterSet
from critmin.provenance import RunMetadata

DEFAULT_GROUP = options().alliance_group
DEFAULT_YEAR = options().default_year
CHINA_GROUP = "china"
PARAMETER_NAMES = ["eol_rir", "substitution_index", "wgi_scaled_missing", "governance_risk_missing"]
TABLE_COLUMNS = [
    "material",
    "stage",
    "year",
    "total_t",
    "hhi",
    "hhi_upper",
    "top1_iso3",
    "top1_share",
    "china_share",
    "alliance_share",
    "other_share",
    "n_countries",
    "supply_risk",
    "source",
]


class ExposureError(ValueError):
    """An exposure request the atlas cannot answer (unknown material, stage, group or year)."""


def _usable(atlas: SupplyChain) -> pd.DataFrame:
    """Primary production rows with a number (the rows ``stage_series`` sums)."""
    p = atlas.production
    return p[p["primary"].astype(bool) & p["tonnes"].notna()]


def pick_year(years: list[int], requested: int) -> int:
    """Latest of ``years`` on or before ``requested``; else the earliest later one."""
    if not years:
        raise ExposureError("no year with data")
    before = [y for y in years if y <= requested]
    return max(before) if before else min(years)


def _group(atlas: SupplyChain, group: str) -> frozenset[str]:
    if group not in atlas.groups:
        raise ExposureError(f"group {group!r} is not defined; expected one of {sorted(atlas.groups)}")
    return atlas.groups[group]


def _china(atlas: SupplyChain) -> frozenset[str]:
    return atlas.groups.get(CHINA_GROUP, frozenset({"CHN"}))


def _wgi_for(series: pd.Series, wgi: pd.Series, missing: float) -> pd.Series:
    """Scaled WGI per label of ``series`` (combined ``A+B`` = mean of members; no value = ``missing``)."""
    out = {}
    for code in series.index:
        if code == OTHER:
            continue
        vals = [wgi.get(m, np.nan) for m in members_of(str(code))]
        known = [v for v in vals if np.isfinite(v)]
        out[code] = float(np.mean(known)) if known else missing
    return pd.Series(out, dtype="float64")


def _wgi_vector(codes: list[str], wgi: pd.Series) -> np.ndarray:
    """Scaled WGI per code (combined ``A+B`` = mean of known members; NaN = unknown; OTH = 0)."""
    out = np.full(len(codes), np.nan)
    for i, code in enumerate(codes):
        if code == OTHER:
            out[i] = 0.0
            continue
        known = [float(wgi[m]) for m in members_of(code) if m in wgi.index and np.isfinite(wgi[m])]
        if known:
            out[i] = float(np.mean(known))
    return out


def _supply_risk(series: pd.Series, material: str, wgi: pd.Series, params: ParameterSet) -> float:
    if series.empty or float(series.sum()) <= 0:
        return float("nan")
    w = _wgi_for(series, wgi, params.get("wgi_scaled_missing", material))
    hw = float(hhi_wgi(series, w, exclude=[OTHER]))
    # sourcing = global supply: both HHI_WGI terms are equal, so IR drops out (any IR in [0, 1] gives hw)
    eol = params.get("eol_rir", material)
    return float(eu_supply_risk(hw, hw, 1.0, eol, params.get("substitution_index", material)))


def _summary(
    series: pd.Series, alliance: frozenset[str], china: frozenset[str]
) -> dict[str, float | str | int | None]:
    total = float(series.sum())
    if series.empty or total <= 0:
        return {
            "total_t": total if not series.empty else float("nan"),
            "hhi": float("nan"),
            "hhi_upper": float("nan"),
            "top1_iso3": None,
            "top1_share": float("nan"),
            "china_share": float("nan"),
            "alliance_share": float("nan"),
            "other_share": float("nan"),
            "n_countries": 0,
        }
    sh = shares(series)
    named = sh.drop(OTHER, errors="ignore")
    gs = group_shares(series, {"china": china, "alliance": alliance})
    return {
        "total_t": total,
        "hhi": hhi(series, exclude=[OTHER]),
        "hhi_upper": hhi(series),
        "top1_iso3": str(named.idxmax()) if len(named) else None,
        "top1_share": float(named.max()) if len(named) else float("nan"),
        "china_share": float(gs["china"]),
        "alliance_share": float(gs["alliance"]),
        "other_share": float(sh.get(OTHER, 0.0)),
        "n_countries": int((named > 0).sum()),
    }


def _metadata(params: ParameterSet) -> dict[str, Any]:
    return RunMetadata(parameters=params.used(PARAMETER_NAMES), parameter_digest=params.digest()).model_dump()


def _source_text(rows: pd.DataFrame) -> str:
    pairs = sorted({(str(s), str(e)) for s, e in zip(rows["source"], rows["edition"], strict=True)})
    return "; ".join(s if s == e or not e else f"{s} ({e})" for s, e in pairs)


def exposure_detail(
    atlas: SupplyChain,
    material: str,
    stage: str,
    year: int = DEFAULT_YEAR,
    group: str = DEFAULT_GROUP,
    params: ParameterSet | None = None,
) -> dict[str, Any]:
    """Exposure of one material and stage: shares by country and group, HHI, risk scores, provenance."""
    params = params if params is not None else ParameterSet()
    members = _group(atlas, group)
    known = set(atlas.materials["slug"]) | set(atlas.production["material"])
    if material not in known:
        raise ExposureError(f"material {material!r} is not in the atlas; expected one of {sorted(known)}")
    usable = _usable(atlas)
    rows_ms = usable[(usable["material"] == material) & (usable["stage"] == stage)]
    if rows_ms.empty:
        have = sorted(set(usable.loc[usable["material"] == material, "stage"]))
        raise ExposureError(
            f"stage {stage!r} of {material!r} has no production data in the atlas (missing, not estimated); "
            f"stages with data: {have}"
        )
    used_year = pick_year(sorted({int(y) for y in rows_ms["year"]}), int(year))
    series = atlas.stage_series(material, stage, used_year)
    summary = _summary(series, members, _china(atlas))
    sh = shares(series).sort_values(ascending=False, kind="stable")
    all_groups = group_shares(series, dict(atlas.groups))
    wgi = wgi_scaled(atlas.wgi, used_year)
    p = atlas.production
    sel = p[
        p["primary"].astype(bool)
        & (p["material"] == material)
        & (p["stage"] == stage)
        & (p["year"] == used_year)
    ]
    withheld = sorted(str(c) for c in sel.loc[sel["tonnes"].isna(), "iso3"])
    out: dict[str, Any] = {
        "material": material,
        "stage": stage,
        "year": used_year,
        "requested_year": int(year),
        "group": group,
        **summary,
        "shares": {str(k): float(v) for k, v in sh.items()},
        "group_shares": {str(k): float(v) for k, v in all_groups.items()},
        "withheld": withheld,
        "flags": {str(k): int(v) for k, v in sel["flag"].value_counts().sort_index().items()},
        "supply_risk": _supply_risk(series, material, wgi, params),
        "source": _source_text(sel),
    }
    rows, trade_year, shared_codes = _trade_rows(atlas, material, stage, used_year)
    hhi_points = float(summary["hhi"] or 0.0)
    missing_g = params.get("governance_risk_missing", material)
    out.update(_trade_block(rows, trade_year, shared_codes, atlas, members, hhi_points, missing_g))
    out["risk_methods"] = _risk_methods(atlas, material, series, rows, members, wgi, trade_year, params)
    nir = us_net_import_reliance(atlas.us_nir, used_year) if len(atlas.us_nir) else pd.Series(dtype=float)
    out["us_nir"] = float(nir[material]) if material in nir.index else None
    out.update(_us_block(rows, _china(atlas), out["us_nir"]))
    out.update(_metadata(params))
    return out


def _risk_methods(
    atlas: SupplyChain,
    material: str,
    series: pd.Series,
    rows: pd.DataFrame,
    members: frozenset[str],
    wgi: pd.Series,
    trade_year: int | None,
    params: ParameterSet,
) -> list[dict[str, Any]]:
    """The published EU SR and GeoPolRisk beside critmin's variants (``supply_risk``, ``geopolrisk``)."""
    from critmin.analytics.published_risk import risk_methods
    from critmin.atlas.prices import latest_reference_prices

    if trade_year is None:
        return []
    scores = risk_methods(
        series,
        rows,
        members,
        wgi,
        governance_risk_pv(atlas.wgi, trade_year),
        latest_reference_prices(atlas.prices).get(material),
        params.get("eol_rir", material),
        params.get("substitution_index", material),
        params.get("wgi_scaled_missing", material),
        params.get("governance_risk_missing", material),
        _content_factor(params, material),
    )
    scores += _economic_importance(atlas, material, members, trade_year, params)
    return [{"method": r.method, "value": r.value, "terms": r.terms, "flags": r.flags} for r in scores]


def _economic_importance(
    atlas: SupplyChain, material: str, members: frozenset[str], year: int, params: ParameterSet
) -> list[Any]:
    """The EU EI of the group where data allow: end use all in WDI industry (parameter), the group's
    industry value added and GDP (each member's latest WDI year <= ``year``)."""
    from critmin.analytics.published_risk import eu_ei_published, group_value_added

    if len(atlas.gdp) == 0:
        return []
    industry, gdp, missing = group_value_added(atlas.gdp, members, year)
    if not gdp > 0:
        return []
    share = params.get("ei_end_use_industry_share", material)
    si_ei = params.get("substitution_index_ei", material)
    flags = [
        f"A_industry = {share:g}: end use assigned to WDI industry (ISIC B-F), the only bundled sector value "
        "added (no manufacturing or NACE 2-digit split)",
        "EI scaled by the group's GDP (WDI, current US$, each member's latest year)",
    ]
    if si_ei == 1.0:
        flags.append("SI_EI = 1: default assumption (no bundled per-material value)")
    if missing:
        flags.append(f"no WDI GDP and industry value added for {', '.join(missing)} (left out)")
    return [
        eu_ei_published(pd.Series({"industry": share}), pd.Series({"industry": industry}), gdp, si_ei, flags)
    ]


def _content_factor(params: ParameterSet, material: str) -> float | None:
    """``trade_content_factor`` of the material (content t per gross t of its HS6 codes), if documented."""
    try:
        return float(params.get("trade_content_factor", material))
    except ParameterError:
        return None


def _trade_rows(
    atlas: SupplyChain, material: str, stage: str, year: int
) -> tuple[pd.DataFrame, int | None, list[str]]:
    """BACI rows of the material's own HS6 codes for the trade year used, that year, and the shared codes."""
    t = atlas.trade
    covering = [m for m in t["material"].unique() if material in str(m).split(SHARED_SEPARATOR)]
    sub = t[t["material"].isin(covering) & (t["stage"] == stage)]
    own = sub[sub["material"] == material]
    shared_codes = sorted({str(c) for c in sub.loc[sub["material"] != material, "hs6"]})
    if own.empty:
        return own, None, shared_codes
    trade_year = pick_year(sorted({int(y) for y in own["year"]}), year)
    return own[own["year"] == trade_year], trade_year, shared_codes


def _trade_block(
    rows: pd.DataFrame,
    trade_year: int | None,
    shared_codes: list[str],
    atlas: SupplyChain,
    members: frozenset[str],
    hhi_points: float,
    missing_g: float,
) -> dict[str, Any]:
    """Import side of the group (BACI values): supplier shares, dependency on China, GeoPolRisk."""
    empty: dict[str, Any] = {
        "import_year": trade_year,
        "import_hs6": sorted({str(c) for c in rows["hs6"]}),
        "import_shared_hs6": shared_codes,
        "import_suppliers": {},
        "import_dependency_china": None,
        "geopolrisk": None,
    }
    if trade_year is None:
        return empty
    f = supplier_shares(rows, members)
    if f.empty:
        return empty
    g = governance_risk_pv(atlas.wgi, trade_year)
    gpr = geopolrisk(hhi_points / 10_000.0, f, g, missing=missing_g)
    return {
        **empty,
        "import_suppliers": {str(k): float(v) for k, v in f.head(10).items()},
        "import_dependency_china": dependency(rows, members, _china(atlas)),
        "geopolrisk": float(gpr),
    }


def _us_block(rows: pd.DataFrame, china: frozenset[str], nir: float | None) -> dict[str, Any]:
    """US dependency on China: BACI import share ``D(USA, china)`` and ``us_nir * D`` (USGS NIR)."""
    none: dict[str, Any] = {"us_import_dependency_china": None, "us_supply_dependency_china": None}
    if rows.empty:
        return none
    d = dependency(rows, {"USA"}, china)
    if not np.isfinite(d):
        return none
    sd = supply_dependency(nir, d) if nir is not None and np.isfinite(nir) else None
    return {"us_import_dependency_china": d, "us_supply_dependency_china": sd}


def parameter_values(params: ParameterSet, name: str, materials: list[str]) -> np.ndarray:
    """``params.get(name, m)`` for each material from one pass over the table (same precedence)."""
    t = params.table[params.table["name"] == name]
    table = {str(m): float(v) for m, v in zip(t["material"], t["value"], strict=True)}
    out = []
    for m in materials:
        hit = next(
            (params.overrides[k] for k in ((name, m), (name, "default")) if k in params.overrides), None
        )
        if hit is None:
            hit = table[m] if m in table else table.get("default")
        if hit is None:
            raise ParameterError(f"no parameter {name!r} for material {m!r} or 'default'")
        out.append(float(hit))
    return np.asarray(out, dtype="float64")


def _chosen_years(usable: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per (material, stage): the year used for ``year`` (:func:`pick_year`)."""
    pairs = usable[["material", "stage", "year"]].drop_duplicates()
    rows = [
        (str(m), str(s), pick_year(sorted(int(y) for y in g["year"]), int(year)))
        for (m, s), g in pairs.groupby(["material", "stage"], sort=True)
    ]
    return pd.DataFrame(rows, columns=["material", "stage", "year"])


def exposure_table(
    atlas: SupplyChain,
    year: int = DEFAULT_YEAR,
    group: str = DEFAULT_GROUP,
    params: ParameterSet | None = None,
) -> pd.DataFrame:
    """One row per (material, stage) with production data: columns :data:`TABLE_COLUMNS`.

    Computed on a dense [material-stage, country] matrix with the batched concentration functions
    (same rules as :func:`exposure_detail`). ``alliance_share`` is the share of ``group``; ``df.attrs``
    holds the group, the requested year and the RunMetadata.
    """
    params = params if params is not None else ParameterSet()
    members = _group(atlas, group)
    china = _china(atlas)
    usable = _usable(atlas)
    chosen = _chosen_years(usable, year)
    rows = usable.merge(chosen, on=["material", "stage", "year"], how="inner")
    q_frame = rows.pivot_table(
        index=["material", "stage"], columns="iso3", values="tonnes", aggfunc="sum", fill_value=0.0
    ).reindex(pd.MultiIndex.from_frame(chosen[["material", "stage"]]), fill_value=0.0)
    codes = [str(c) for c in q_frame.columns]
    q = q_frame.to_numpy(dtype="float64")
    other = np.array([c == OTHER for c in codes], dtype=bool)
    total = q.sum(axis=1)
    s = shares(q)
    named = np.where(other, -1.0, np.nan_to_num(s, nan=-1.0))
    top = named.argmax(axis=1)
    valid = total > 0
    membership = np.array([[label_in(c, china), label_in(c, members)] for c in codes], dtype=bool)
    gs = group_shares(q, membership.reshape(len(codes), 2))
    materials = [str(m) for m in chosen["material"]]
    # scaled WGI per row (its year) and column; OTH adds nothing; a country without WGI takes the parameter
    missing = parameter_values(params, "wgi_scaled_missing", materials)
    by_year = {y: _wgi_vector(codes, wgi_scaled(atlas.wgi, y)) for y in {int(y) for y in chosen["year"]}}
    w = np.stack([by_year[int(y)] for y in chosen["year"]]) if len(chosen) else np.empty_like(q)
    w = np.where(np.isnan(w), missing[:, None], w)
    w = np.where(other, 0.0, w)
    with np.errstate(invalid="ignore"):
        hw = np.where(valid, hhi_wgi(np.where(valid[:, None], q, 1.0), w), np.nan)
    sr = eu_supply_risk(
        hw,
        hw,
        np.ones_like(hw),
        parameter_values(params, "eol_rir", materials),
        parameter_values(params, "substitution_index", materials),
    )
    src = rows.groupby(["material", "stage"], sort=True)[["source", "edition"]]
    sources = {k: _source_text(v) for k, v in src}
    df = pd.DataFrame(
        {
            "material": materials,
            "stage": [str(x) for x in chosen["stage"]],
            "year": chosen["year"].astype("int64"),
            "total_t": total,
            "hhi": hhi(q, exclude=other),
            "hhi_upper": hhi(q),
            "top1_iso3": [
                codes[j] if ok and named[i, j] >= 0 else None
                for i, (j, ok) in enumerate(zip(top, valid, strict=True))
            ],
            "top1_share": top_k_share(q, 1, exclude=other),
            "china_share": gs[:, 0],
            "alliance_share": gs[:, 1],
            "other_share": np.where(valid, np.nan_to_num(s)[:, other].sum(axis=1), np.nan),
            "n_countries": ((q > 0) & ~other).sum(axis=1).astype("int64"),
            "supply_risk": sr,
            "source": [sources[(m, st)] for m, st in zip(chosen["material"], chosen["stage"], strict=True)],
        },
        columns=TABLE_COLUMNS,
    )
    df.attrs["group"] = group
    df.attrs["requested_year"] = int(year)
    df.attrs["metadata"] = _metadata(params)
    return df
