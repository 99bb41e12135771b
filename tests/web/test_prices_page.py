"""Prices page model: defaults from the data, metamorphic checks of the evaluator, the deals assessment."""

from __future__ import annotations

import math
from importlib import resources

import pytest

from critmin.web.page import PageError
from critmin.web.prices import assess_upload, prices_page

SMALL = {"material": "copper", "paths": "300", "years": "2"}


def _fiscal(params: dict[str, str]) -> float:
    return float(prices_page(params).block("fiscal-cost").frame["fiscal_cost_pv_usd"].mean())


def test_defaults_come_from_the_data() -> None:
    page = prices_page(SMALL)
    model = dict(zip(page.block("model").frame["quantity"], page.block("model").frame["value"], strict=True))
    # the strike defaults to the model's start price (the last observed price): an at-the-money floor
    assert float(page.context["form"]["strike"]) == pytest.approx(
        float(model["start price (USD/kg)"]), rel=1e-5
    )
    assert "strike" not in page.params  # the default is recomputed for the CSV links, not rounded
    assert float(page.context["form"]["volume_t"]) == 1.0
    assert len(page.block("fiscal-cost").frame) == 300
    assert len(page.block("paths").frame) == 24
    fan = page.block("paths").frame
    assert (fan["p5"] <= fan["p50"]).all() and (fan["p50"] <= fan["p95"]).all()
    assert "price_history" in page.editions


def test_floor_cost_is_linear_in_volume_and_rises_with_strike() -> None:
    one = _fiscal(SMALL | {"strike": "9", "volume_t": "1"})
    three = _fiscal(SMALL | {"strike": "9", "volume_t": "3"})
    assert three == pytest.approx(3 * one, rel=1e-9)
    higher = _fiscal(SMALL | {"strike": "12", "volume_t": "1"})
    assert higher > one >= 0.0
    # a floor never earns the government money
    page = prices_page(SMALL | {"strike": "9"})
    assert (page.block("fiscal-cost").frame["fiscal_cost_pv_usd"] >= 0).all()


def test_bad_parameters_are_named() -> None:
    with pytest.raises(PageError) as err:
        prices_page({"mechanism": "bailout"})
    assert err.value.status == 422 and "bailout" in str(err.value)
    with pytest.raises(PageError) as err2:
        prices_page(SMALL | {"strike": "cheap"})
    assert "strike" in str(err2.value) and "cheap" in str(err2.value)
    with pytest.raises(PageError):
        prices_page(SMALL | {"paths": "10"})


def test_assessment_of_an_uploaded_deals_file() -> None:
    text = resources.files("critmin.pricing").joinpath("examples/transactions_illustrative.csv").read_text()
    out = assess_upload(text, "deals.csv", "2026-06-30", "30")
    assert out["ok"]
    prices = out["frame"]
    published = prices[prices["status"] == "published"]
    assert len(published) >= 1
    for r in published.itertuples():
        assert r.band_low_usd_per_t <= r.price_usd_per_t <= r.band_high_usd_per_t
        assert math.isclose(r.price_usd_per_kg * 1000, r.price_usd_per_t)
    bad = text.replace("2026-06-08,gallium,refine,4N,2.0,590", "2026-06-08,gallium,refine,4N,-2.0,590", 1)
    err = assess_upload(bad, "deals.csv", "2026-06-30", "30")
    assert not err["ok"] and "deals.csv" in err["error"] and "volume_t" in err["error"]
    assert not assess_upload(text, "deals.csv", "June", "30")["ok"]
