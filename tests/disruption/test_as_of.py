"""As-of dating: a scenario's start month picks the atlas year; the initial market balance."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from critmin.atlas.chain import SupplyChain
from critmin.disruption import ScenarioError, parse_scenario, simulate
from critmin.disruption.events import bundled_scenario
from critmin.disruption.inputs import InputError, build_inputs, start_year


def _two_years(chain: SupplyChain) -> SupplyChain:
    """The tiny chain plus a 2021 edition: gallium refine CHN 500 / JPN 500, price 200,000 USD/t."""
    old = chain.production[chain.production["material"] == "gallium"].copy()
    old["year"] = 2021
    old.loc[old["iso3"] == "CHN", "tonnes"] = 500.0
    old.loc[old["iso3"] == "JPN", "tonnes"] = 500.0
    old = old[old["iso3"] != "RUS"]
    prices = pd.concat(
        [
            chain.prices,
            chain.prices[chain.prices["material"] == "gallium"].assign(year=2021, usd_per_t=200_000.0),
        ]
    )
    gdp = pd.concat([chain.gdp, chain.gdp.assign(year=2020, gdp_usd=[10.0, 80.0, 10.0])])
    return dataclasses.replace(
        chain, production=pd.concat([chain.production, old], ignore_index=True), prices=prices, gdp=gdp
    )


def test_start_year_parsing() -> None:
    assert start_year("2023-08") == 2023 and start_year(None) is None
    for bad in ("2023-13", "23-08", "2023/08"):
        with pytest.raises(InputError, match="expected a month 'YYYY-MM'"):
            start_year(bad)


def test_latest_year_before_the_start_is_used(chain: SupplyChain) -> None:
    atlas = _two_years(chain)
    g = "gallium"
    early = build_inputs(atlas, as_of="2022-06")  # 2021 is the latest year before 2022
    late = build_inputs(atlas, as_of="2025-01")
    now = build_inputs(atlas)
    assert early.years[(g, "refine")] == 2021 and late.years[(g, "refine")] == 2024
    assert now.years[(g, "refine")] == 2024
    assert early.shares[(g, "refine")]["CHN"] == pytest.approx(0.5)
    assert late.shares[(g, "refine")]["CHN"] == pytest.approx(0.9)
    assert early.price_usd_per_t[early.index(g)] == 200_000.0
    assert late.price_usd_per_t[late.index(g)] == 365_000.0
    assert early.data_years["prices"][g] == 2021 and early.data_years["as_of"] == "2022-06"
    # GDP before 2022: the 2020 figures (CHN 80 of 100) allocate gallium, which has no trade tonnes
    i = early.index(g)
    assert early.consumption_share[i, early.countries.index("CHN")] == pytest.approx(0.8)
    # before every year of the atlas: the earliest year, flagged
    first = build_inputs(atlas, as_of="2015-01")
    assert first.years[(g, "refine")] == 2021 and "gallium/refine" in first.data_years["before_start"]
    assert "gallium/refine" not in early.data_years["before_start"]


def test_a_dated_scenario_says_which_years_it_used(chain: SupplyChain) -> None:
    atlas = _two_years(chain)
    ev = {
        "type": "export_restriction",
        "exporter": "CHN",
        "material": "gallium",
        "share": 1.0,
        "duration_months": 3,
    }
    sc = parse_scenario({"name": "dated", "start": "2022-03", "horizon_months": 6, "events": [ev]})
    r = simulate(atlas, sc)
    years = r.to_dict()["parameters"]["data_years"]
    assert years["as_of"] == "2022-03" and years["production"]["gallium/refine"] == 2021
    basis = r.to_dict()["parameters"]["input_basis"]
    assert basis["gallium"]["allocation"] == "gdp-share"  # flagged on the result
    # cobalt's 2024 tonnes are after the start: the earliest trade year is used (flagged by its year)
    assert basis["cobalt"]["year"] == 2024 and basis["cobalt"]["export"].startswith("trade")
    undated = simulate(atlas, sc.model_copy(update={"start": None}))
    # CHN holds 50% in 2021 and 90% in 2024: the dated run withholds less, the price rises less
    i = r.row("gallium")
    assert r.price_outside[i].max() < undated.price_outside[i].max()


def test_initial_balance_surplus_lowers_and_deficit_raises_the_price(chain: SupplyChain) -> None:
    base = {"name": "balance", "horizon_months": 4, "events": []}
    flat = simulate(chain, parse_scenario(base))
    surplus = simulate(chain, parse_scenario({**base, "initial_balance": {"cobalt": 0.05}}))
    deficit = simulate(chain, parse_scenario({**base, "initial_balance": {"cobalt": -0.05}}))
    i = flat.row("cobalt")
    np.testing.assert_allclose(flat.price_outside[i], 1.0)
    assert np.all(surplus.price_outside[i] < 1.0)
    assert np.all(deficit.price_outside[i] > 1.0)
    with pytest.raises(ScenarioError, match="initial_balance"):
        parse_scenario({**base, "initial_balance": {"cobalt": 0.9}})
    with pytest.raises(ScenarioError, match="start"):
        parse_scenario({**base, "start": "2023-8"})
    with pytest.raises(InputError, match="initial_balance"):
        simulate(chain, parse_scenario({**base, "initial_balance": {"unobtainium": 0.1}}))


def test_bundled_episodes_are_dated() -> None:
    assert bundled_scenario("gallium-2023").start == "2023-08"
    assert bundled_scenario("rare-earths-2010").start == "2010-01"
