"""Material page model on a hand-made chain: blocks, gaps kept, Sankey conservation, errors."""

from __future__ import annotations

import pytest

from critmin.web.material import material_page
from critmin.web.page import PageError
from critmin.web.render import NAV, render_page

from .tiny import tiny_chain


def test_blocks_and_data() -> None:
    page = material_page(tiny_chain(), {"material": "testium"})
    keys = [b.key for b in page.blocks]
    assert keys[:4] == ["key-facts", "production-mine", "production-refine", "sankey"]
    assert {"prices", "us-imports", "sources"} <= set(keys)
    refine = page.block("production-refine").frame
    # the withheld Canadian refinery row stays a gap, listed last
    assert list(refine["iso3"]) == ["DEU", "AUS", "CAN"]
    assert refine["tonnes"].isna().tolist() == [False, False, True]
    assert refine["flag"].iloc[-1] == "withheld"
    assert any("magnet" in n and "missing" in n for n in page.notes)


def test_sankey_is_trade_based_and_conserves_mine_output() -> None:
    page = material_page(tiny_chain(), {"material": "testium"})
    sankey = page.block("sankey")
    flows = sankey.frame
    assert flows["tonnes"].sum() == pytest.approx(180.0)
    bra_deu = flows[(flows["mine_iso3"] == "BRA") & (flows["refine_iso3"] == "DEU")]
    assert bra_deu["basis"].tolist() == ["trade"] and bra_deu["tonnes"].iloc[0] == pytest.approx(37.5)
    assert "trade-based" in sankey.caption and "2024" in sankey.caption
    trace = sankey.figure["data"][0]  # type: ignore[index]
    assert sum(trace["link"]["value"]) == pytest.approx(180.0)
    # left and right nodes are distinct even for a country on both sides (Australia)
    assert trace["node"]["label"].count("Australia") == 2


def test_year_filter_and_errors() -> None:
    chain = tiny_chain()
    with pytest.raises(PageError) as unknown:
        material_page(chain, {"material": "unobtainium"})
    assert unknown.value.status == 404 and "unobtainium" in str(unknown.value)
    with pytest.raises(PageError) as bad:
        material_page(chain, {"material": "testium", "year": "soon"})
    assert bad.value.status == 422 and "soon" in str(bad.value)
    empty = material_page(chain, {"material": "testium", "year": "2020"})
    assert not any(b.key.startswith("production-") for b in empty.blocks)
    assert "No mine data for 2020." in empty.notes


def test_rendered_html_names_edition_and_links_csv() -> None:
    page = material_page(tiny_chain(), {"material": "testium"})
    html = render_page(page, NAV)
    assert "USGS MCS 2026 (test)" in html
    assert 'href="/download.csv?page=material&amp;block=sources&amp;material=testium"' in html
    assert html.count('data-chart="chart-') == sum(b.figure is not None for b in page.blocks)
    assert 'aria-current="page"' in html


def test_key_facts_and_lead_are_hand_worked_shares() -> None:
    """Mine: AUS 100, BRA 50, CAN 30 of 180 t; refine: DEU 120, AUS 60 of 180 t (CAN withheld, a gap);
    the alliance is AUS, DEU, USA; China produces nothing."""
    page = material_page(tiny_chain(), {"material": "testium"})
    facts = page.block("key-facts").frame.set_index("Stage")
    alliance = "Alliance, ministerial-2026 (% of world)"
    assert facts.loc["mine", "China (% of world)"] == 0.0
    assert facts.loc["mine", alliance] == pytest.approx(55.6)  # 100 / 180
    assert facts.loc["refine", alliance] == pytest.approx(100.0)  # 180 / 180
    assert facts.loc["mine", "Top 3 producers"] == "Australia 55.6%; Brazil 27.8%; Canada 16.7%"
    assert facts.loc["refine", "Top 3 producers"] == "Germany 66.7%; Australia 33.3%"
    assert page.context["lead"][1] == (
        "Refining (2024): China 0.0% of world output, the alliance 100.0%; "
        "top 3: Germany 66.7%; Australia 33.3%."
    )
