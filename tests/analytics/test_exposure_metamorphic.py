"""Metamorphic relations of the exposure report on the bundled atlas, and trade regression facts."""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from critmin.analytics import shares
from critmin.analytics.exposure import exposure_table
from critmin.atlas import load_atlas
from critmin.atlas.chain import SupplyChain
from critmin.data.trade import build_trade


@cache
def base() -> pd.DataFrame:
    return exposure_table(load_atlas(), 2024)


def test_scaling_every_tonne_changes_only_total_t() -> None:
    atlas = load_atlas()
    prod = atlas.production.copy()
    prod["tonnes"] = prod["tonnes"] * 1000.0
    scaled = exposure_table(dataclasses.replace(atlas, production=prod), 2024)
    b = base()
    np.testing.assert_allclose(scaled["total_t"], b["total_t"] * 1000.0, rtol=1e-12)
    cols = ["hhi", "hhi_upper", "top1_share", "china_share", "alliance_share", "other_share", "supply_risk"]
    np.testing.assert_allclose(scaled[cols].to_numpy(), b[cols].to_numpy(), rtol=1e-9)
    assert (scaled["top1_iso3"] == b["top1_iso3"]).all()


def test_adding_a_country_to_the_group_adds_exactly_its_share() -> None:
    atlas = load_atlas()
    groups = dict(atlas.groups)
    groups["alliance-plus-chl"] = atlas.groups["ministerial-2026"] | {"CHL"}
    bigger: SupplyChain = dataclasses.replace(atlas, groups=groups)
    plus = exposure_table(bigger, 2024, "alliance-plus-chl")
    b = base()
    chile = [
        float(shares(atlas.stage_series(m, s, int(y))).get("CHL", 0.0))
        for m, s, y in zip(b["material"], b["stage"], b["year"], strict=True)
    ]
    np.testing.assert_allclose(plus["alliance_share"], b["alliance_share"] + np.array(chile), atol=1e-12)
    assert (plus["alliance_share"] >= b["alliance_share"]).all()


def test_a_later_year_never_uses_older_data_than_an_earlier_request() -> None:
    t2023 = exposure_table(load_atlas(), 2023)
    t2025 = exposure_table(load_atlas(), 2025)
    merged = t2023.merge(t2025, on=["material", "stage"], suffixes=("_23", "_25"))
    assert len(merged) == len(base())
    assert (merged["year_25"] >= merged["year_23"]).all()


def test_built_trade_table_is_the_loader_output() -> None:
    built = load_atlas().trade
    fresh = build_trade(resources.files("critmin.data").joinpath("raw"))
    keys = ["year", "exporter", "importer", "hs6"]
    pd.testing.assert_frame_equal(
        built.sort_values(keys).reset_index(drop=True),
        fresh.sort_values(keys).reset_index(drop=True),
        check_dtype=False,
    )


def test_china_is_the_first_exporter_of_permanent_magnets_2024() -> None:
    t = load_atlas().trade
    magnets = t[(t["hs6"] == "850511") & (t["year"] == 2024)]
    by = magnets.groupby("exporter")["value_usd"].sum()
    share = by / by.sum()
    assert share.idxmax() == "CHN"
    assert share["CHN"] == pytest.approx(0.6266, abs=0.001)
