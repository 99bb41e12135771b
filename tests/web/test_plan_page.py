"""Investment plan page on the real pipeline: the curve meets the target, contributions add up, errors."""

from __future__ import annotations

import pytest

from critmin.web.page import PageError
from critmin.web.plan import build_plan, plan_page


def test_default_plan_meets_its_target_and_contributions_add_up() -> None:
    page = build_plan({})
    keys = [b.key for b in page.blocks]
    assert keys == ["pipeline", "roadmap", "independence", "bands", "keyset", "contributions"]
    bands = page.block("bands").frame
    assert (bands["p10"] <= bands["p50"] + 1e-12).all() and (bands["p50"] <= bands["p90"] + 1e-12).all()
    assert set(bands["material"]) == {"magnet-rare-earths"} and set(bands["stage"]) == {"refine"}
    fig = page.block("bands").figure
    assert fig is not None and [t.get("fill") for t in fig["data"]] == [None, None, "tonexty"]
    keyset = page.block("keyset").frame
    assert {"magnet-rare-earths", "gallium", "cobalt", "lithium", "antimony"} <= set(keyset["material"])
    for r in keyset.itertuples():
        assert (r.p50 == r.p50 and r.p50 is not None) or r.reason, r
    supply = page.block("independence").frame.set_index("year")
    later = supply.loc[2030:]
    assert (later["non_china_share_a"] >= 0.12 - 1e-9).all() and (
        later["non_china_share_b"] >= 0.12 - 1e-9
    ).all()
    road = page.block("roadmap").frame
    assert (road["first_output_year"] >= road["start_year"]).all() and (road["start_year"] <= 2030).any()
    assert road["source_title"].str.len().gt(0).all()
    burden = page.block("contributions").frame
    assert burden["contribution_usd"].sum() == pytest.approx(road["capex_usd"].sum())
    assert burden["share_of_capex"].sum() == pytest.approx(1.0)
    # host rule: each alliance host pays for its own projects
    for r in road.itertuples():
        if r.country_iso3 in set(burden["member"]):
            assert burden.set_index("member").loc[r.country_iso3, "contribution_usd"] >= r.capex_usd - 1e-6
    pipeline = page.block("pipeline").frame
    assert set(road["project_id"]) <= set(pipeline["project_id"])
    assert (pipeline["included"] | pipeline["exclusion_reason"].astype(str).str.len().gt(0)).all()


def test_impossible_plan_is_explained() -> None:
    page = plan_page({"material": "lithium", "stage": "refine", "target": "0.6", "by": "2030"})
    assert "roadmap" not in [b.key for b in page.blocks]
    assert any("2030" in n or "short" in n.lower() or "infeasible" in n.lower() for n in page.notes), (
        page.notes
    )


def test_bad_plan_parameters() -> None:
    with pytest.raises(PageError) as err:
        plan_page({"target": "1.5"})
    assert err.value.status == 422 and "target" in str(err.value)
    with pytest.raises(PageError):
        plan_page({"material": "unobtainium"})
    with pytest.raises(PageError) as err:
        plan_page({"members": "USA,XXX"})
    assert err.value.status == 422 and "XXX" in str(err.value)
