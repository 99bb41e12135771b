"""Overview page model on the bundled atlas, and the CSV endpoint returning the same data as the page."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from critmin.analytics.exposure import exposure_table
from critmin.atlas import load_atlas
from critmin.web import mount
from critmin.web.overview import build_overview, overview_page, wide_table
from critmin.web.page import PageError


def test_wide_table_pivots_stages_and_keeps_gaps() -> None:
    exposure = pd.DataFrame(
        {
            "material": ["a", "a", "b"],
            "stage": ["mine", "refine", "mine"],
            "year": [2024, 2023, 2024],
            "china_share": [0.5, 0.9, 0.1],
            "top1_iso3": ["CHN", "CHN", "AUS"],
            "top1_share": [0.5, 0.9, 0.6],
            "hhi": [3000.0, 8100.0, 4000.0],
            "alliance_share": [0.2, 0.05, 0.8],
            "supply_risk": [1.0, 2.0, 0.5],
        }
    )
    wide = wide_table(exposure, {"a": "Alpha"})
    assert list(wide["material"]) == ["a", "b"]
    assert list(wide["name"]) == ["Alpha", "b"]
    assert wide.loc[0, "refine_china_share"] == 0.9 and wide.loc[0, "refine_year"] == 2023
    assert pd.isna(wide.loc[1, "refine_china_share"]) and pd.isna(wide.loc[1, "refine_year"])


def test_overview_on_the_bundled_atlas() -> None:
    atlas = load_atlas()
    page = overview_page(atlas, {})
    table = page.block("materials").frame
    expected = exposure_table(atlas, year=2024)
    assert set(table["material"]) == set(expected["material"])
    gallium = table.set_index("material").loc["gallium"]
    assert gallium["Refine: China (%)"] >= 98.0  # regression fact of the atlas
    # the table shows rounded percentages of the exposure report's shares
    ga = expected[(expected["material"] == "gallium") & (expected["stage"] == "refine")].iloc[0]
    assert gallium["Refine: China (%)"] == round(100 * ga["china_share"], 1)
    share_map = page.block("share-map").frame.set_index("iso3")["share"]
    assert share_map["CHN"] >= 0.98 and share_map.sum() == pytest.approx(1.0)
    members = set(page.block("alliance-map").frame["iso3"])
    assert members == set(atlas.groups["ministerial-2026"]) and "CHN" not in members
    assert "usgs-mcs2026" in page.editions


def test_overview_parameters_are_validated() -> None:
    with pytest.raises(PageError) as bad:
        overview_page(load_atlas(), {"group": "nowhere"})
    assert bad.value.status == 422 and "nowhere" in str(bad.value) and "ministerial-2026" in str(bad.value)


def test_csv_download_is_the_page_data() -> None:
    app = FastAPI()
    mount(app)
    client = TestClient(app)
    page = build_overview({"group": "g7"})
    r = client.get("/download.csv", params={"page": "overview", "block": "materials", "group": "g7"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    got = pd.read_csv(io.StringIO(r.text))
    want = page.block("materials").frame
    assert list(got.columns) == list(want.columns) and len(got) == len(want)
    assert got["Refine: alliance (%)"].fillna(-1).round(12).tolist() == (
        want["Refine: alliance (%)"].astype(float).fillna(-1).round(12).tolist()
    )
    missing = client.get("/download.csv", params={"page": "overview", "block": "nothing"})
    assert missing.status_code == 404 and "nothing" in missing.text
    html = client.get("/", params={"group": "nowhere"})
    assert html.status_code == 422 and "nowhere" in html.text


def test_only_stages_with_data_are_offered_and_a_missing_one_falls_back() -> None:
    atlas = load_atlas()
    page = overview_page(atlas, {"material": "lithium", "stage": "refine"})
    valid = page.context["valid_stages"]
    mine_only = [m for m, st in valid.items() if st == ["mine"]]
    assert len(mine_only) > 10  # many materials have no refinery data in the atlas
    material = mine_only[0]
    fallback = overview_page(atlas, {"material": material, "stage": "refine"})  # no 422
    assert fallback.params["stage"] == "mine"
    assert any("has no refine data" in n for n in fallback.notes)
    china = fallback.block("china-share-refine")
    assert len(china.figure["data"][0]["y"]) == 15  # type: ignore[index]  # top 15, not 36 grouped bars
    assert china.frame["China (% of world)"].is_monotonic_decreasing
    assert china.figure["layout"]["xaxis"]["title"]["text"] == "China's share of world output (%)"  # type: ignore[index]


def test_the_overview_leads_with_chinas_dominance_in_words() -> None:
    atlas = load_atlas()
    page = overview_page(atlas, {})
    exposure = exposure_table(atlas, year=2024)
    refine = exposure[exposure["stage"] == "refine"].dropna(subset=["china_share"])
    n_over = int((refine["china_share"] > 0.5).sum())
    assert f"more than half of world refining for {n_over} of {len(refine)} materials" in page.intro
