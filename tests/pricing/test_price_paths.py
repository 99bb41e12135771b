"""Price histories and the mean-reverting baseline: parsing facts, fit recovery, metamorphic relations."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from critmin.parameters import ParameterSet
from critmin.pricing.history import (
    TROY_OUNCE_T,
    PriceHistory,
    PriceSeriesError,
    known_materials,
    ndpr_oxide_annual,
    pinksheet_history,
    pinksheet_monthly,
    read_monthly_csv,
    usgs_annual,
    usgs_ndpr_published,
)
from critmin.pricing.price_paths import (
    PricePathModel,
    fit_history,
    fit_material,
    ou_from_ar1,
    paths_from_price_index,
    pooled_kappa,
    simulate,
)


def test_pinksheet_parsing_facts() -> None:
    df = pinksheet_monthly()
    phos = df[df["material"] == "phosphate-rock"].set_index("month")["usd_per_t"]
    assert pd.Timestamp("2023-11-01") not in phos.index  # published as '…' (no quote)
    assert pd.Timestamp("2023-10-01") in phos.index
    copper = pinksheet_history("copper").values
    assert copper.index[0] == pd.Timestamp("1960-01-01") and copper.index[-1] == pd.Timestamp("2026-05-01")
    gold = df[(df["material"] == "gold")].set_index("month")["usd_per_t"]
    # gold is quoted per troy ounce: one tonne is 32,150.7466 troy ounces
    assert pytest.approx(32150.7466, rel=1e-9) == 1 / TROY_OUNCE_T
    assert gold.loc["2024-01-01"] / 32150.7466 == pytest.approx(2033.0, rel=0.05)
    assert "iron-ore" not in set(df["material"])  # $/dmtu is not converted to tonnes
    assert {"ndpr-oxide", "gallium", "copper"} <= known_materials()


def test_ou_from_ar1_oracle() -> None:
    kappa, mu, sigma, dt = 0.5, 4.0, 0.3, 1 / 12
    b = np.exp(-kappa * dt)
    sd = sigma * np.sqrt((1 - b * b) / (2 * kappa))
    got = ou_from_ar1(b, mu * (1 - b), sd, dt)
    np.testing.assert_allclose(got, (kappa, mu, sigma), rtol=1e-12)


def _model(**kw: float) -> PricePathModel:
    base = {"mu": np.log(1000.0), "kappa": 0.6, "sigma": 0.25, "x0": np.log(1000.0)}
    return PricePathModel(material="copper", **(base | kw))


def test_fit_recovers_simulated_parameters() -> None:
    model = _model()
    path = simulate(model, n_paths=1, months=6000, seed=3)[0]
    hist = PriceHistory("copper", pd.Series(path), "monthly", "sim", "sim")
    params = ParameterSet().with_overrides({("pp_fit_months", "default"): 6000})
    fit = fit_history(hist, params)
    assert fit.kappa == pytest.approx(0.6, rel=0.3)
    assert fit.sigma == pytest.approx(0.25, rel=0.05)
    assert fit.mu == pytest.approx(np.log(1000.0), abs=0.1)
    # metamorphic: prices x 7 shift mu by ln 7 and leave kappa and sigma unchanged
    scaled = fit_history(replace(hist, values=hist.values * 7.0), params)
    assert scaled.mu - fit.mu == pytest.approx(np.log(7.0), abs=1e-9)
    assert scaled.kappa == pytest.approx(fit.kappa, rel=1e-9) and scaled.sigma == pytest.approx(
        fit.sigma, rel=1e-9
    )


def test_stationary_moments_and_no_regime() -> None:
    model = _model()
    x = np.log(simulate(model, n_paths=4000, months=240, seed=1)[:, -1])
    assert x.mean() == pytest.approx(model.mu, abs=0.02)
    assert x.var() == pytest.approx(model.sigma**2 / (2 * model.kappa), rel=0.1)
    # the baseline has no restriction regime: no parameter can raise it (issue 16), and the model has no jump
    assert not {"hazard", "jump", "duration_months"} & set(vars(model))
    assert not ParameterSet().table["name"].str.startswith("pp_restriction").any()


def test_fit_material_on_bundled_data() -> None:
    copper = fit_material("copper")
    assert copper.fit["frequency"] == "monthly" and copper.fit["n"] == 240
    assert 0 < copper.kappa < 2 and 0.1 < copper.sigma < 0.4
    assert 0.05 < pooled_kappa() < 2
    # the model starts at the last observed price (May 2026)
    assert np.exp(copper.x0) == pytest.approx(pinksheet_history("copper").values.iloc[-1])


def test_user_monthly_series(tmp_path: Path) -> None:
    f = tmp_path / "ndpr.csv"
    f.write_text("month,usd_per_t\n2025-01,60000\n2025-02,62000\n2025-03,59000\n2025-04,61000\n")
    h = read_monthly_csv(f, "ndpr-oxide")
    assert h.frequency == "monthly" and h.values.iloc[1] == 62000.0
    f.write_text("month,usd_per_t\n2025-01,60000\n2025-01,62000\n2025-03,59000\n")
    with pytest.raises(PriceSeriesError, match="row 3, column month: '2025-01'; expected a month after"):
        read_monthly_csv(f, "ndpr-oxide")
    f.write_text("month,usd_per_t\n2025-01,60000\n2025-02,-1\n2025-03,59000\n")
    with pytest.raises(PriceSeriesError, match="row 3, column usd_per_t: '-1'"):
        read_monthly_csv(f, "ndpr-oxide")


def test_paths_from_disruption_index() -> None:
    idx = np.array([[1.0, 1.2, 1.5], [1.0, 1.0, 0.9]])
    np.testing.assert_allclose(paths_from_price_index(idx, 100.0), idx * 100.0)
    with pytest.raises(ValueError, match="positive"):
        paths_from_price_index(-idx, 1.0)


def test_ndpr_oxide_series_from_usgs_nd_and_pr() -> None:
    mix = ndpr_oxide_annual()
    # USGS MCS 2026: Nd oxide 98, Pr oxide 93 USD/kg in 2021 -> 0.75 * 98 + 0.25 * 93 = 96.75 USD/kg
    assert mix.values.loc[2021] == pytest.approx(96_750.0)
    assert list(mix.values.index) == [2021, 2022, 2023, 2024, 2025]
    published = usgs_ndpr_published()  # USGS NdPr oxide (99% min): 92, 124, 75, 55, 69 USD/kg
    assert published.loc[2024] == pytest.approx(55_000.0)
    rel = (mix.values / published.loc[mix.values.index] - 1).abs()
    assert (rel < 0.07).all()
    # the mix is a parameter: all Nd gives the Nd oxide price
    nd_only = ndpr_oxide_annual(params=ParameterSet().with_overrides({("ndpr_nd_share", "ndpr-oxide"): 1.0}))
    assert nd_only.values.loc[2022] == pytest.approx(134_000.0)
    model = fit_material("ndpr-oxide")
    assert model.fit["frequency"] == "annual" and model.fit["confidence"] == "low"
    assert np.exp(model.x0) == pytest.approx(73_250.0)  # starts at the 2025 mix price
    gallium = usgs_annual("gallium")
    assert gallium.values.loc[2025] == pytest.approx(580_000.0)  # US import unit value, 580 USD/kg
