"""Scenario lab without a server: form and YAML scenarios validated, result blocks from the real engine."""

from __future__ import annotations

import pytest

from critmin.atlas import load_atlas
from critmin.disruption import parse_scenario, simulate
from critmin.disruption.montecarlo import run_monte_carlo
from critmin.web.scenario_results import (
    ScenarioInputError,
    compose_scenario,
    ranking_blocks,
    scenario_from_yaml,
    shock_blocks,
)

FORM = {"material": "cobalt", "exporter": "chn", "stage": "refine", "share": "1", "duration_months": "12",
        "horizon_months": "12"}  # fmt: skip


def test_form_composes_a_validated_scenario() -> None:
    sc = compose_scenario(FORM)
    assert sc["horizon_months"] == 12 and sc["name"] == "chn-cobalt-restriction"
    (event,) = sc["events"]
    assert event["exporter"] == "CHN" and event["share"] == 1.0 and event["targets"] == "all"
    groups = compose_scenario(FORM | {"targets": "USA, JPN"})["events"][0]["targets"]
    assert groups == ["USA", "JPN"]
    with pytest.raises(ScenarioInputError) as err:
        compose_scenario(FORM | {"share": "1.5"})
    assert "share" in str(err.value) and "1.5" in str(err.value)
    with pytest.raises(ScenarioInputError) as err2:
        compose_scenario(FORM | {"duration_months": "a year"})
    assert "duration_months" in str(err2.value) and "a year" in str(err2.value)


def test_yaml_upload_errors_name_the_event_and_field() -> None:
    good = (
        "name: t\nhorizon_months: 6\nevents:\n"
        "  - {type: export_restriction, exporter: CHN, material: gallium, share: 1}\n"
    )
    assert scenario_from_yaml(good, "t.yaml")["events"][0]["material"] == "gallium"
    bad = good.replace("share: 1", "share: 2")
    with pytest.raises(ScenarioInputError) as err:
        scenario_from_yaml(bad, "t.yaml")
    assert "t.yaml" in str(err.value) and "event 0" in str(err.value) and "share" in str(err.value)
    with pytest.raises(ScenarioInputError):
        scenario_from_yaml("name: [unclosed", "broken.yaml")


def test_shock_blocks_from_the_engine() -> None:
    # the DRC's ore: China's cobalt-oxide exports (BACI tonnes) are ~1% of its output, too small a gap
    sc = parse_scenario(compose_scenario(FORM | {"exporter": "cod", "stage": "mine"}))
    result = simulate(load_atlas(), sc).to_dict()
    blocks = {b.key: b for b in shock_blocks(result)}
    assert list(blocks) == ["prices", "members", "sectors", "releases"]
    prices = blocks["prices"].frame
    assert len(prices) == 2 * 12 and set(prices["zone"]) == {"outside", "restrictor"}
    outside = prices[prices["zone"] == "outside"]["price_index"]
    inside = prices[prices["zone"] == "restrictor"]["price_index"]
    assert outside.max() > 1.0 > inside.min()  # the rest of the world pays more, the restrictor less
    monthly = blocks["releases"].frame
    members = blocks["members"].frame
    assert 0 < members["shortfall_t"].sum() <= monthly["shortfall_t"].sum() + 1e-6
    assert blocks["sectors"].frame["loss_usd"].sum() == pytest.approx(
        result["materials"]["cobalt"]["loss_usd"]
    )
    assert (monthly["shortfall_t"] <= monthly["restricted_t"] + 1e-9).all()


def test_ranking_blocks_from_the_monte_carlo() -> None:
    mc = run_monte_carlo(load_atlas(), 200, 0, horizon_months=12)
    result = {
        "summary": mc.summary.to_dict("records"),
        "member_summary": mc.member_summary.to_dict("records"),
    }
    blocks = {b.key: b for b in ranking_blocks(result)}
    assert list(blocks) == ["ranking-chart", "member-ranking-chart", "ranking", "member-ranking"]
    ranking = blocks["ranking"].frame
    assert blocks["ranking-chart"].frame.equals(ranking.head(15))
    assert list(ranking["rank"]) == sorted(ranking["rank"])
    valued = ranking[ranking["valued"]]
    assert valued["expected_loss_usd"].is_monotonic_decreasing
    assert (ranking["cvar_usd"] >= ranking["var_usd"] - 1e-6).all()


def test_price_blocks_show_bands_around_published_prices() -> None:
    from importlib import resources

    from critmin.web.prices import assess_upload
    from critmin.web.scenario_results import price_blocks

    text = resources.files("critmin.pricing").joinpath("examples/transactions_illustrative.csv").read_text()
    frame = assess_upload(text, "deals.csv", "2026-06-30", "30")["frame"]
    blocks = {b.key: b for b in price_blocks({"prices": frame.to_dict("records")})}
    published = blocks["published"].frame
    assert len(published) == int((frame["status"] == "published").sum()) >= 1
    assert len(blocks["assessed"].frame) == len(frame)
    err = blocks["published"].figure["data"][0]["error_y"]  # type: ignore[index]
    assert min(err["array"]) >= 0 and min(err["arrayminus"]) >= 0
