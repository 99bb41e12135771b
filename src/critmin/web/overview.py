"""Overview page: the alliance on a world map, who produces a chosen material, China's share per material,
and the sortable exposure table of every material (``critmin.analytics.exposure``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import pandas as pd

from critmin.atlas.chain import SupplyChain
from critmin.atlas.countries import OTHER, country_name
from critmin.web import figures
from critmin.web.page import Block, Page, PageError, int_param, require

DEFAULT_GROUP = "ministerial-2026"
DEFAULT_MATERIAL = "gallium"
DEFAULT_STAGE = "refine"
STAGES = ["mine", "refine"]
# per-stage columns of the overview table, from ``exposure_table``
STAGE_COLUMNS = ["year", "china_share", "top1_iso3", "top1_share", "hhi", "alliance_share", "supply_risk"]


def wide_table(exposure: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """One row per material: ``<stage>_<column>`` for the mine and refine stages (gaps stay NaN)."""
    materials = sorted(set(exposure["material"]))
    out = pd.DataFrame({"material": materials, "name": [names.get(m, m) for m in materials]})
    for stage in STAGES:
        part = exposure[exposure["stage"] == stage].set_index("material")[STAGE_COLUMNS]
        part = part.reindex(materials)
        for col in STAGE_COLUMNS:
            out[f"{stage}_{col}"] = part[col].to_numpy()
    for stage in STAGES:
        out[f"{stage}_year"] = out[f"{stage}_year"].astype("Int64")
    return out


TOP_N = 15
FRIENDLY = {
    "year": "year",
    "china_share": "China (%)",
    "top1_iso3": "top producer",
    "top1_share": "top producer (%)",
    "hhi": "HHI",
    "alliance_share": "alliance (%)",
    "supply_risk": "supply risk",
}


def friendly_table(wide: pd.DataFrame) -> pd.DataFrame:
    """The overview table with plain headers ("Refine: China (%)") and shares as rounded percentages."""
    out = wide.copy()
    renames = {"material": "material", "name": "name"}
    for stage in STAGES:
        for col, label in FRIENDLY.items():
            key = f"{stage}_{col}"
            if col.endswith("share"):
                out[key] = (out[key].astype(float) * 100).round(1)
            elif col in ("hhi", "supply_risk"):
                out[key] = out[key].astype(float).round(0 if col == "hhi" else 2)
            renames[key] = f"{stage.capitalize()}: {label}"
    return out.rename(columns=renames)


def stages_with_data(exposure: pd.DataFrame) -> dict[str, list[str]]:
    """Per material, the overview stages (mine, refine) that have production data."""
    have = exposure[exposure["stage"].isin(STAGES) & exposure["total_t"].gt(0)]
    out: dict[str, list[str]] = {}
    for material, stage in zip(have["material"], have["stage"], strict=True):
        out.setdefault(str(material), []).append(str(stage))
    return {m: [s for s in STAGES if s in v] for m, v in out.items()}


def china_block(exposure: pd.DataFrame, names: Mapping[str, str], stage: str) -> Block:
    """The top materials by China's share of world output at ``stage`` (percent, full names)."""
    part = exposure[exposure["stage"] == stage].dropna(subset=["china_share"])
    part = part.sort_values(["china_share", "material"], ascending=[False, True], ignore_index=True)
    frame = pd.DataFrame({
        "material": part["material"], "name": [names.get(m, m) for m in part["material"]],
        "year": part["year"].astype(int), "China (% of world)": (part["china_share"] * 100).round(1),
    })  # fmt: skip
    top = frame.head(TOP_N)
    verb = {"mine": "mining", "refine": "refining"}[stage]
    title = f"China's share of world {verb}: top {len(top)} of {len(frame)} materials"
    fig = figures.hbars(top, "name", "China (% of world)", title, "China's share of world output (%)", "%")
    return Block(f"china-share-{stage}", f"China's share of {verb}, top {len(top)}", frame, fig,
                 caption="Every material is in the CSV and in the table below.")  # fmt: skip


def overview_lead(exposure: pd.DataFrame, names: Mapping[str, str], group: str, year: int) -> str:
    """The page's message in words: how many materials China dominates per stage, and the alliance."""
    parts = []
    for stage in STAGES:
        rows = exposure[(exposure["stage"] == stage)].dropna(subset=["china_share"])
        over = rows[rows["china_share"] > 0.5]
        top = rows.sort_values("china_share", ascending=False).head(1)
        lead = f"{names.get(str(top['material'].iloc[0]), '')} {100 * float(top['china_share'].iloc[0]):.0f}%"
        parts.append(f"China has more than half of world {'mining' if stage == 'mine' else 'refining'} for "
                     f"{len(over)} of {len(rows)} materials (highest: {lead})")  # fmt: skip
    return f"{'; '.join(parts)}. Alliance: {group}; latest data on or before {year}."


def _country_frame(codes: list[str], values: list[float], value: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iso3": codes,
            "country": [" + ".join(country_name(c) for c in x.split("+")) for x in codes],
            value: values,
        }
    )


def overview_page(atlas: SupplyChain, params: Mapping[str, str]) -> Page:
    """The overview page model (``year``, ``group``, ``material`` and ``stage`` of the map)."""
    from critmin.analytics.exposure import ExposureError, exposure_detail, exposure_table

    year = int_param(params, "year", 2024, 1990, 2100)
    group = require(params, "group", sorted(atlas.groups), DEFAULT_GROUP)
    material = require(params, "material", sorted(str(s) for s in atlas.materials["slug"]), DEFAULT_MATERIAL)
    stage = require(params, "stage", STAGES, DEFAULT_STAGE)
    exposure = exposure_table(atlas, year=year, group=group)
    names = dict(zip(atlas.materials["slug"].astype(str), atlas.materials["name"].astype(str), strict=True))
    table = friendly_table(wide_table(exposure, names))
    valid = stages_with_data(exposure)
    notes: list[str] = []
    if stage not in valid.get(material, [stage]):
        notes.append(f"{names.get(material, material)} has no {stage} data in the atlas; showing "
                     f"{valid[material][0]} instead.")  # fmt: skip
        stage = valid[material][0]

    members = sorted(atlas.groups[group])
    alliance = _country_frame(members, [1.0] * len(members), "member")
    alliance_fig = figures.choropleth(
        alliance, "iso3", "member", f"{group}: {len(members)} countries", "member"
    )
    alliance_fig["data"][0].update(showscale=False, colorscale=[[0, "#1f5fa8"], [1, "#1f5fa8"]])

    try:
        detail = exposure_detail(atlas, material, stage, year=year, group=group)
    except ExposureError as err:
        raise PageError(str(err), status=422) from err
    shares = detail["shares"]
    share_frame = _country_frame(list(shares), [float(v) for v in shares.values()], "share")
    on_map = share_frame[~share_frame["iso3"].str.contains("+", regex=False) & (share_frame["iso3"] != OTHER)]
    china = detail["china_share"]
    title = f"{names.get(material, material)} {stage} {detail['year']}: China {china:.0%}"
    share_fig = figures.choropleth(on_map, "iso3", "share", title, "share of world output", text="country")
    share_fig["data"][0]["colorbar"]["tickformat"] = ".0%"
    share_fig["data"][0]["hovertemplate"] = "%{text}: %{z:.1%}<extra></extra>"

    china_blocks = [china_block(exposure, names, s) for s in STAGES]

    meta: dict[str, Any] = exposure.attrs.get("metadata", {})
    blocks = [
        Block("alliance-map", f"The alliance ({group})", alliance, alliance_fig),
        Block(
            "share-map",
            f"Who produces {names.get(material, material)} ({stage})",
            share_frame,
            share_fig,
            f"Shares of world output, {detail['year']} ({detail['source']}). 'Other countries' and "
            "combined rows are in the CSV, not on the map.",
        ),
        *china_blocks,
        Block(
            "materials",
            "Every material: mine and refine shares, HHI, alliance share, supply risk",
            table,
            caption=f"Alliance = {group}. HHI 0-10,000 (Other countries excluded); supply risk: EU method "
            "(see docs/methods). Latest year on or before the requested one; '–' = no data (a gap, "
            "not a zero).",
            wide=True,
            links={"material": "/materials?material={}"},
        ),
    ]
    return Page(
        name="overview",
        title="Overview: where the alliance is exposed",
        blocks=blocks,
        editions=dict(meta.get("data_editions") or atlas.editions),
        params={"year": str(year), "group": group, "material": material, "stage": stage},
        intro=overview_lead(exposure, names, group, year)
        + f" Parameter set {meta.get('parameter_digest', '')}.",
        template="overview.html",
        notes=notes,
        context={
            "valid_stages": valid,
            "groups": sorted(atlas.groups),
            "materials": sorted(names.items(), key=lambda kv: kv[1]),
            "stages": STAGES,
        },
    )


@lru_cache(maxsize=64)
def _cached(items: tuple[tuple[str, str], ...]) -> Page:
    from critmin.atlas import load_atlas

    return overview_page(load_atlas(), dict(items))


def build_overview(params: Mapping[str, str]) -> Page:
    """Overview page on the bundled atlas (cached per parameter set)."""
    keys = ("year", "group", "material", "stage")
    return _cached(tuple(sorted((k, v) for k, v in params.items() if k in keys)))
