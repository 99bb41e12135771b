"""Material page: production by country per stage, mine-to-refine Sankey, prices, US import sources,
sources and flags. Everything comes from the atlas (``critmin.atlas.load_atlas``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import pandas as pd

from critmin.atlas.chain import SupplyChain
from critmin.atlas.countries import country_name
from critmin.web import figures
from critmin.web.flows import mine_to_refine, top_flows
from critmin.web.page import Block, Page, PageError, int_param

TOP = 12
DEFAULT_MATERIAL = "gallium"


def _label(iso3: str) -> str:
    return " + ".join(country_name(c) for c in iso3.split("+"))


def _stage_year(atlas: SupplyChain, material: str, stage: str, year: int | None) -> int | None:
    years = atlas.years_of(material, stage)
    if not years:
        return None
    if year is None:
        return years[-1]
    return year if year in years else None


def production_frame(atlas: SupplyChain, material: str, stage: str, year: int) -> pd.DataFrame:
    """Primary-source tonnes by country for one stage and year, largest first, with flag and source."""
    p = atlas.production
    sel = p[(p["material"] == material) & (p["stage"] == stage) & (p["year"] == year) & p["primary"]]
    out = sel[["iso3", "tonnes", "flag", "source", "edition", "value_text", "unit_text"]].copy()
    out.insert(1, "country", [_label(str(c)) for c in out["iso3"]])
    return out.sort_values("tonnes", ascending=False, na_position="last", ignore_index=True)


def _ore_exports(atlas: SupplyChain, material: str, year: int) -> tuple[pd.DataFrame, int | None]:
    t = atlas.trade
    ore = t[(t["material"] == material) & (t["stage"] == "mine")]
    years = sorted(int(y) for y in set(ore["year"]) if int(y) <= year)
    if not years:
        return ore.iloc[0:0][["exporter", "importer", "value_usd"]], None
    used = years[-1]
    return ore[ore["year"] == used][["exporter", "importer", "value_usd"]], used


def pct(share: float) -> str:
    """A share (0-1) as a percentage for the page's text ("98.8%"; a gap stays a gap)."""
    return "–" if share != share else f"{100 * share:.1f}%"


def key_facts(atlas: SupplyChain, material: str, stage_years: Mapping[str, int]) -> pd.DataFrame:
    """Per stage: year, China's and the alliance's share of world output and the top three producers
    (``critmin.analytics.exposure.exposure_detail``; ``OTH`` is never a top producer)."""
    from critmin.analytics.exposure import DEFAULT_GROUP, exposure_detail

    rows = []
    for stage, year in stage_years.items():
        d = exposure_detail(atlas, material, stage, year=year, group=DEFAULT_GROUP)
        top = [(c, v) for c, v in d["shares"].items() if c != "OTH"][:3]
        rows.append({
            "Stage": stage,
            "Year": int(d["year"]),
            "China (% of world)": round(100 * float(d["china_share"]), 1),
            f"Alliance, {DEFAULT_GROUP} (% of world)": round(100 * float(d["alliance_share"]), 1),
            "Top 3 producers": "; ".join(f"{_label(c)} {pct(v)}" for c, v in top),
            "Source": d["source"],
        })  # fmt: skip
    return pd.DataFrame(rows)


def lead_lines(facts: pd.DataFrame) -> list[str]:
    """The page's message in words: one sentence per stage."""
    alliance_col = next(c for c in facts.columns if c.startswith("Alliance"))
    verbs = {"mine": "Mining", "refine": "Refining", "magnet": "Magnet making"}
    return [
        f"{verbs.get(r['Stage'], r['Stage'])} ({r['Year']}): China {r['China (% of world)']:.1f}% of world "
        f"output, the alliance {r[alliance_col]:.1f}%; top 3: {r['Top 3 producers']}."
        for _, r in facts.iterrows()
    ]


def history_blocks(atlas: SupplyChain, material: str, stages: list[str]) -> list[Block]:
    """Per stage with data: the top producers' shares over time, observed beside IEA projections."""
    from critmin.analytics.history import share_history

    out = []
    for stage in stages:
        hist = share_history(atlas, material, stage)
        if hist["year"].nunique() < 2:
            continue
        names = [_label(c) if c != "REST" else "all others" for c in hist["iso3"]]
        marks = [" (IEA projection)" if k == "projection" else "" for k in hist["kind"]]
        shown = hist.assign(producer=[n + m for n, m in zip(names, marks, strict=True)])
        fig = figures.lines(shown, "year", "share", "producer", f"{stage} shares over time", "share")
        span = f"{int(hist['year'].min())}-{int(hist['year'].max())}"
        out.append(
            Block(
                f"history-{stage}",
                f"Who produces it over time ({stage}, {span})",
                hist,
                fig,
                "Share of each year's listed production; the newest edition that published a year is used "
                "(column edition); before 2016 the source is Theler et al. (2020), a secondary transcription "
                "of the USGS Minerals Yearbook; IEA base-case projections are marked and never mixed with "
                "observations.",
                wide=True,
            )
        )
    return out


def _sankey_block(atlas: SupplyChain, material: str, stage_years: Mapping[str, int]) -> Block | None:
    """Mine-to-refine flows of the latest year both stages have (None without both stages)."""
    if not ("mine" in stage_years and "refine" in stage_years):
        return None
    year = min(stage_years["mine"], stage_years["refine"])
    mine = atlas.stage_series(material, "mine", year)
    refine = atlas.stage_series(material, "refine", year)
    ore, trade_year = _ore_exports(atlas, material, year)
    flows = top_flows(mine_to_refine(mine, refine, ore), TOP)
    flows.insert(1, "mine_country", [_label(c) if c != "other" else "other" for c in flows["mine_iso3"]])
    flows.insert(3, "refine_country", [_label(c) if c != "other" else "other" for c in flows["refine_iso3"]])
    how = (
        f"trade-based: exports split by BACI ore-stage export values of {trade_year}"
        if trade_year is not None
        else "no BACI ore-stage trade for this material: exports split by refinery output (assumption)"
    )
    fig = figures.sankey(flows, "mine_country", "refine_country", "tonnes", f"Mine → refine, {year}")
    return Block(
        "sankey",
        f"From mine countries to refine countries, {year}",
        flows,
        fig,
        f"Domestic refining first, then {how}. See the dashboard guide.",
        wide=True,
    )


def _reference_blocks(atlas: SupplyChain, material: str, notes: list[str]) -> list[Block]:
    """Prices, US import sources and reliance, sources and flags, reconciliation (``notes`` gets gaps)."""
    blocks: list[Block] = []
    prices = atlas.prices[atlas.prices["material"] == material].sort_values(["series", "year"])
    if len(prices):
        fig = figures.lines(prices, "year", "usd_per_t", "series", "US prices (USGS)", "USD per t")
        blocks.append(Block("prices", "Prices over time", prices.reset_index(drop=True), fig))
    else:
        notes.append("No USGS price series for this material.")

    src = atlas.us_import_sources
    imports = src[src["material"] == material].sort_values("share", ascending=False).copy()
    if len(imports):
        imports.insert(2, "country", [_label(str(c)) for c in imports["iso3"]])
        fig = figures.bars(imports, "country", "share", "US import sources, 2021-24 average", "share")
        blocks.append(Block("us-imports", "US import sources", imports.reset_index(drop=True), fig))
    nir = atlas.us_nir[atlas.us_nir["material"] == material].sort_values("year")
    if len(nir):
        blocks.append(Block("us-nir", "US net import reliance (USGS)", nir.reset_index(drop=True)))

    p = atlas.production[atlas.production["material"] == material]
    flags = (
        p.groupby(["stage", "year", "source", "edition", "primary", "flag"], as_index=False)
        .size()
        .rename(columns={"size": "rows"})
    )
    blocks.append(Block("sources", "Sources and flags", flags))
    rec = atlas.reconciliation[atlas.reconciliation["material"] == material]
    if len(rec):
        blocks.append(
            Block("reconciliation", "Country rows vs published world total", rec.reset_index(drop=True))
        )
    return blocks


def material_page(atlas: SupplyChain, params: Mapping[str, str]) -> Page:
    """The page model of one material (``params['material']``, optional ``year``)."""
    material = params.get("material") or DEFAULT_MATERIAL
    known = [str(s) for s in atlas.materials["slug"]]
    if material not in known:
        raise PageError(f"unknown material {material!r}; expected a slug such as {', '.join(known[:8])}, ...")
    year_param = int_param(params, "year", 0, 0, 2100) or None
    info = atlas.materials[atlas.materials["slug"] == material].iloc[0]
    blocks: list[Block] = []
    notes: list[str] = []
    stage_years: dict[str, int] = {}
    for stage in atlas.stages_of(material):
        year = _stage_year(atlas, material, stage, year_param)
        if year is None:
            notes.append(f"No {stage} data for {year_param}." if year_param else f"No {stage} data.")
            continue
        stage_years[stage] = year
        frame = production_frame(atlas, material, stage, year)
        shown = frame.dropna(subset=["tonnes"]).head(TOP)
        fig = figures.bars(shown, "country", "tonnes", f"{stage} {year}", f"t ({info['basis']})")
        caption = f"Top {len(shown)} of {len(frame)} rows; the CSV has every row, withheld ones included."
        blocks.append(
            Block(
                f"production-{stage}",
                f"{stage.capitalize()} production by country, {year}",
                frame,
                fig,
                caption,
            )
        )
    blocks.extend(history_blocks(atlas, material, list(stage_years)))
    missing = atlas.missing_stages()
    for stage in missing.loc[missing["material"] == material, "stage"]:
        notes.append(f"Stage {stage} is missing from the data: reported as a gap, not estimated.")

    sankey = _sankey_block(atlas, material, stage_years)
    if sankey is not None:
        blocks.append(sankey)
    blocks.extend(_reference_blocks(atlas, material, notes))
    p = atlas.production[atlas.production["material"] == material]

    facts = key_facts(atlas, material, stage_years)
    if len(facts):
        caption = "Shares of world output (OTH, 'other countries', counts in the total)."
        title = "China, the alliance and the top producers"
        blocks.insert(0, Block("key-facts", title, facts, wide=True, caption=caption))
    params_out = {"material": material} | ({"year": str(year_param)} if year_param else {})
    eds = sorted(set(p["edition"]))
    return Page(
        name="material",
        title=f"{info['name']} ({info['basis']})",
        blocks=blocks,
        editions={e: atlas.editions.get(e, e) for e in eds} or dict(atlas.editions),
        params=params_out,
        intro=f"Stages: {', '.join(stage_years) or 'none'}. Tonnes of contained content.",
        notes=notes,
        template="material.html",
        context={
            "materials": atlas.materials[["slug", "name"]].to_records(index=False).tolist(),
            "material": material,
            "lead": lead_lines(facts) if len(facts) else [],
        },
    )


@lru_cache(maxsize=128)
def _cached(material: str, year: str) -> Page:
    from critmin.atlas import load_atlas

    return material_page(load_atlas(), {"material": material, "year": year})


def build_material(params: Mapping[str, str]) -> Page:
    """Material page on the bundled atlas (cached per material and year)."""
    return _cached(params.get("material", ""), params.get("year", ""))
