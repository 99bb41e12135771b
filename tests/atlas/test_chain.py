"""SupplyChain accessors on a hand-made chain (oracles worked by hand)."""

from __future__ import annotations

import math

import pandas as pd

from critmin.atlas.chain import SupplyChain
from critmin.atlas.schema import COLUMNS, empty


def _prod(rows: list[tuple[str, str, str, int, float, bool]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["material", "stage", "iso3", "year", "tonnes", "primary"])
    df["flag"] = ["withheld" if math.isnan(t) else "observed" for t in df["tonnes"]]
    df["source"] = "test"
    df["edition"] = "test"
    df["value_text"] = df["tonnes"].astype(str)
    df["unit_text"] = "metric tons"
    df["basis"] = "content"
    return df[COLUMNS["production"]]


def _chain() -> SupplyChain:
    prod = _prod(
        [
            ("x", "mine", "CHN", 2024, 60.0, True),
            ("x", "mine", "AUS", 2024, 30.0, True),
            ("x", "mine", "OTH", 2024, 10.0, True),
            ("x", "mine", "USA", 2024, math.nan, True),  # withheld: dropped
            ("x", "mine", "CHN", 2024, 99.0, False),  # secondary source: ignored
            ("x", "mine", "CHN", 2023, 50.0, True),
            ("x", "refine", "CHN", 2024, 5.0, False),  # only a secondary source for refine
        ]
    )
    mats = pd.DataFrame(
        [("x", "X", "x content", "mine;refine", "X", True), ("y", "Y", "y content", "mine", "Y", False)],
        columns=COLUMNS["materials"],
    )
    return SupplyChain(
        production=prod,
        world_totals=empty("world_totals"),
        reconciliation=empty("reconciliation"),
        materials=mats,
        groups={"china": frozenset({"CHN"})},
        trade=empty("trade"),
        wgi=empty("wgi"),
        us_nir=empty("us_nir"),
        us_import_sources=empty("us_import_sources"),
        prices=empty("prices"),
    )


def test_stage_series_uses_primary_rows_drops_nan_keeps_other() -> None:
    s = _chain().stage_series("x", "mine", 2024)
    assert s.to_dict() == {"AUS": 30.0, "CHN": 60.0, "OTH": 10.0}
    assert s.index.name == "iso3"


def test_stage_series_of_unknown_selection_is_empty() -> None:
    assert _chain().stage_series("x", "mine", 1990).empty


def test_stages_and_years() -> None:
    c = _chain()
    assert c.stages_of("x") == ["mine", "refine"]
    assert c.years_of("x", "mine") == [2023, 2024]
    assert c.years_of("x", "refine") == []


def test_missing_stages_reports_declared_stage_without_primary_rows() -> None:
    miss = _chain().missing_stages()
    pairs = set(zip(miss["material"], miss["stage"], strict=True))
    assert pairs == {("x", "refine"), ("y", "mine")}


def test_hand_made_chain_is_consistent() -> None:
    assert _chain().consistency_problems() == []


def test_consistency_problems_are_listed() -> None:
    c = _chain()
    bad = c.production.copy()
    bad.loc[0, "stage"] = "smelt"
    bad.loc[1, "iso3"] = "WLD"
    bad.loc[2, "tonnes"] = -1.0
    bad.loc[3, "flag"] = "observed"  # NaN tonnes flagged as a number
    bad.loc[4, "primary"] = True  # second primary row, same edition: still one edition
    bad.loc[4, "edition"] = "other"
    broken = SupplyChain(**{**c.__dict__, "production": bad})
    probs = " | ".join(broken.consistency_problems())
    for needle in ("smelt", "WLD", "negative", "NaN does not match", "several primary editions"):
        assert needle in probs
