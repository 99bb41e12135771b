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

from critmin.analytics.concentration import group_shares, hhi, members_of, shares
from critmin.analytics.dependency import dependency, supplier_shares, us_net_import_reliance
from critmin.analytics.supply_risk import eu_supply_risk, geopolrisk, governance_risk_pv, hhi_wgi, wgi_scaled
from critmin.atlas.chain import SupplyChain
from critmin.atlas.countries import OTHER
from critmin.atlas.trade import SHARED_SEPARATOR
from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata

DEFAULT_GROUP = "ministerial-2026"
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


def _supply_risk(series: pd.Series, material: str, wgi: pd.Series, params: ParameterSet) -> float:
    if series.empty or float(series.sum()) <= 0:
        return float("nan")
    w = _wgi_for(series, wgi, params.get("wgi_scaled_missing", material))
    hw = float(hhi_wgi(series, w, exclude=[OTHER]))
    # sourcing = global supply: both HHI_WGI terms are equal, so IR drops out (any IR in [0, 1] gives hw)
    return float(
        eu_supply_risk(
            hw, hw, 1.0, params.get("eol_rir", material), params.get("substitution_index", material)
        )
    )


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
        "n_countries": len(named),
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
    year: int = 2024,
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
    out.update(_trade_block(atlas, material, stage, used_year, members, float(summary["hhi"] or 0.0), params))
    nir = us_net_import_reliance(atlas.us_nir, used_year) if len(atlas.us_nir) else pd.Series(dtype=float)
    out["us_nir"] = float(nir[material]) if material in nir.index else None
    out.update(_metadata(params))
    return out


def _trade_block(
    atlas: SupplyChain,
    material: str,
    stage: str,
    year: int,
    members: frozenset[str],
    hhi_points: float,
    params: ParameterSet,
) -> dict[str, Any]:
    """Import side of the group (BACI values): supplier shares, dependency on China, GeoPolRisk."""
    t = atlas.trade
    rows = t[(t["material"] == material) & (t["stage"] == stage)]
    shared = t[(t["stage"] == stage) & t["material"].str.contains(SHARED_SEPARATOR, regex=False)]
    shared_codes = sorted(
        {str(c) for c, m in zip(shared["hs6"], shared["material"], strict=True) if material in m.split("|")}
    )
    empty: dict[str, Any] = {
        "import_year": None,
        "import_hs6": [],
        "import_shared_hs6": shared_codes,
        "import_suppliers": {},
        "import_dependency_china": None,
        "geopolrisk": None,
    }
    if rows.empty:
        return empty
    trade_year = pick_year(sorted({int(y) for y in rows["year"]}), year)
    rows = rows[rows["year"] == trade_year]
    f = supplier_shares(rows, members)
    if f.empty:
        return {**empty, "import_year": trade_year, "import_hs6": sorted(set(rows["hs6"]))}
    g = governance_risk_pv(atlas.wgi, trade_year)
    gpr = geopolrisk(hhi_points / 10_000.0, f, g, missing=params.get("governance_risk_missing", material))
    return {
        "import_year": trade_year,
        "import_hs6": sorted(set(rows["hs6"])),
        "import_shared_hs6": shared_codes,
        "import_suppliers": {str(k): float(v) for k, v in f.head(10).items()},
        "import_dependency_china": dependency(rows, members, _china(atlas)),
        "geopolrisk": float(gpr),
    }


def exposure_table(
    atlas: SupplyChain,
    year: int = 2024,
    group: str = DEFAULT_GROUP,
    params: ParameterSet | None = None,
) -> pd.DataFrame:
    """One row per (material, stage) with production data: columns :data:`TABLE_COLUMNS`.

    ``alliance_share`` is the share of ``group``; ``df.attrs`` holds the group and the RunMetadata.
    """
    params = params if params is not None else ParameterSet()
    members = _group(atlas, group)
    china = _china(atlas)
    usable = _usable(atlas)
    sums = usable.groupby(["material", "stage", "year", "iso3"], sort=True)["tonnes"].sum()
    src = usable.groupby(["material", "stage", "year"], sort=True)[["source", "edition"]]
    sources = {k: _source_text(v) for k, v in src}
    years: dict[tuple[str, str], list[int]] = {}
    for material, stage, yr in {(str(m), str(s), int(y)) for m, s, y, _ in sums.index}:
        years.setdefault((material, stage), []).append(yr)
    wgi_cache: dict[int, pd.Series] = {}
    records = []
    for (material, stage), yrs in sorted(years.items()):
        used = pick_year(sorted(int(y) for y in yrs), int(year))
        series = sums.loc[(material, stage, used)]
        series.index.name = "iso3"
        if used not in wgi_cache:
            wgi_cache[used] = wgi_scaled(atlas.wgi, used)
        records.append(
            {
                "material": material,
                "stage": stage,
                "year": used,
                **_summary(series, members, china),
                "supply_risk": _supply_risk(series, material, wgi_cache[used], params),
                "source": sources[(material, stage, used)],
            }
        )
    df = pd.DataFrame.from_records(records, columns=TABLE_COLUMNS)
    df.attrs["group"] = group
    df.attrs["requested_year"] = int(year)
    df.attrs["metadata"] = _metadata(params)
    return df
