"""Reference-price assessment: hand-worked examples, publication rules, robustness, order independence."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from critmin.parameters import ParameterSet
from critmin.pricing.reference_price import (
    BaseSpec,
    Differential,
    Normalisation,
    assess,
    robust_inliers,
    weighted_quantile,
)
from critmin.pricing.transactions import FxTable, Transaction

AS_OF = date(2026, 6, 30)


def tx(price: float, volume: float, reporter: str, **kw: object) -> Transaction:
    base: dict[str, object] = {
        "date": AS_OF - timedelta(days=3),
        "material": "gallium",
        "stage": "refine",
        "specification": "4N",
        "volume_t": volume,
        "price": price,
        "currency": "USD",
        "incoterm": "CIF Rotterdam",
        "buyer": f"buyer-{reporter}-{price}-{volume}",
        "seller": "seller",
        "reporter": reporter,
    }
    return Transaction.model_validate(base | kw)


def test_hand_worked_example_with_outlier_excluded() -> None:
    # prices 98, 100, 102, 500: median 101, MAD 2 -> scale max(1.4826*2, 0.05*101) = 5.05, k*scale = 15.15
    deals = [tx(100, 20, "A"), tx(102, 10, "B"), tx(98, 10, "C"), tx(500, 5, "A")]
    row = assess(deals, as_of=AS_OF).prices.iloc[0]
    assert row["status"] == "published"
    assert row["excluded_outliers"] == 1
    assert row["price_usd_per_t"] == pytest.approx((100 * 20 + 102 * 10 + 98 * 10) / 40)  # = 100
    assert row["volume_t"] == 40 and row["count"] == 3 and row["reporters"] == 3
    assert row["max_reporter_share"] == pytest.approx(0.5)  # exactly half is allowed
    # weighted quartiles: cumulative weight shares 0.25 (98), 0.75 (100), 1.0 (102)
    assert (row["band_low_usd_per_t"], row["band_high_usd_per_t"]) == (98, 100)
    assert row["liquidity"] == "thin"


def test_currency_unit_and_normalisation() -> None:
    # EUR 0.1/kg at 1.10 USD/EUR = 110 USD/t; spec 5N: -15 USD/t to 4N; FOB Shanghai: +5 USD/t
    norm = Normalisation(
        bases=[BaseSpec(material="gallium", stage="refine", specification="4N", incoterm="CIF Rotterdam")],
        differentials=[
            Differential(material="gallium", stage="refine", kind="specification", name="5N", usd_per_t=-15),
            Differential(
                material="gallium", stage="refine", kind="incoterm", name="FOB Shanghai", usd_per_t=5
            ),
        ],
    )
    deals = [
        tx(0.1, 10, "A", currency="EUR", price_unit="kg"),  # 110
        tx(120, 10, "B", specification="5N"),  # 105
        tx(100, 10, "C", incoterm="FOB Shanghai"),  # 105
        tx(100, 10, "D", specification="6N"),  # no differential: its own key
    ]
    out = assess(deals, as_of=AS_OF, fx=FxTable({"EUR": 1.10}), normalisation=norm).prices
    base = out[out["specification"] == "4N"].iloc[0]
    assert base["price_usd_per_t"] == pytest.approx((110 + 105 + 105) / 3)
    assert base["price_usd_per_kg"] == pytest.approx(base["price_usd_per_t"] / 1000)
    other = out[out["specification"] == "6N"].iloc[0]
    assert other["status"] == "insufficient data" and "1 independent reporter" in other["reason"]


def test_window_and_duplicate_reports() -> None:
    old = tx(101, 10, "D", date=AS_OF - timedelta(days=31))  # outside a 30-day window
    same = {"buyer": "X", "seller": "Y"}
    deals = [tx(100, 10, "A", **same), tx(100, 10, "B", **same), tx(100, 10, "C"), old]
    row = assess(deals, as_of=AS_OF, window_days=30).prices.iloc[0]
    # A and B reported the same deal: it counts once (credited to A), so only 2 independent reporters remain
    assert row["status"] == "insufficient data" and row["reporters"] == 2 and row["count"] == 2
    wide = assess(deals, as_of=AS_OF, window_days=32).prices.iloc[0]
    assert wide["count"] == 3 and wide["reporters"] == 3


def test_dominant_reporter_reason() -> None:
    deals = [tx(100, 60, "Big"), tx(101, 20, "B"), tx(99, 20, "C")]
    row = assess(deals, as_of=AS_OF).prices.iloc[0]
    assert row["status"] == "insufficient data"
    assert "'big' supplies 60% of volume" in row["reason"]
    assert np.isnan(row["price_usd_per_t"])


def test_liquid_flag_and_parameter_override() -> None:
    deals = [tx(100 + i % 3, 5, f"R{i % 5}") for i in range(10)]
    res = assess(deals, as_of=AS_OF)
    assert res.prices.iloc[0]["liquidity"] == "liquid"
    assert res.metadata.parameters["ref_min_reporters[default]"] == 3
    strict = ParameterSet().with_overrides({("ref_min_reporters", "default"): 6})
    assert assess(deals, as_of=AS_OF, params=strict).prices.iloc[0]["status"] == "insufficient data"


def test_weighted_quantile_and_inliers() -> None:
    assert weighted_quantile(np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 2.0]), 0.5) == 2.0
    assert weighted_quantile(np.array([1.0, 2.0]), np.array([3.0, 1.0]), 0.75) == 1.0
    mask = robust_inliers(np.array([10.0, 10.0, 10.0, 11.0, 40.0]), k=3, floor=0.0)
    assert mask.tolist() == [True, True, True, False, False]  # MAD = 0 -> only the median value survives


@st.composite
def market(draw: st.DrawFn) -> list[Transaction]:
    n = draw(st.integers(3, 14))
    n_rep = draw(st.integers(3, 6))
    prices = draw(st.lists(st.floats(95, 105), min_size=n, max_size=n))
    vols = draw(st.lists(st.floats(1, 10), min_size=n, max_size=n))
    return [
        tx(p, v, f"R{i % n_rep}", buyer=f"b{i}") for i, (p, v) in enumerate(zip(prices, vols, strict=True))
    ]


@settings(max_examples=40, deadline=None)
@given(market(), st.floats(10, 1000), st.floats(0.1, 10), st.booleans())
def test_one_extreme_outlier_moves_price_less_than_band(
    deals: list[Transaction], factor: float, vol: float, high: bool
) -> None:
    before = assess(deals, as_of=AS_OF).prices.iloc[0]
    assume(before["status"] == "published")
    price = 100 * factor if high else 100 / factor
    after = assess([*deals, tx(price, vol, "R0", buyer="outlier")], as_of=AS_OF).prices.iloc[0]
    assert after["status"] == "published"
    moved = abs(after["price_usd_per_t"] - before["price_usd_per_t"])
    width = before["band_high_usd_per_t"] - before["band_low_usd_per_t"]
    assert moved < width or moved == 0.0
    assert after["excluded_outliers"] == before["excluded_outliers"] + 1


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(1, 1e4), st.floats(0.01, 100), st.sampled_from(["A", "B", "C", "D", "E"])),
        min_size=1,
        max_size=25,
    )
)
def test_published_prices_always_satisfy_the_rules(rows: list[tuple[float, float, str]]) -> None:
    deals = [tx(p, v, r, buyer=f"b{i}") for i, (p, v, r) in enumerate(rows)]
    out = assess(deals, as_of=AS_OF).prices
    pub = out[out["status"] == "published"]
    assert (pub["reporters"] >= 3).all() and (pub["max_reporter_share"] <= 0.5).all()
    if len({r for _, _, r in rows}) < 3:
        assert pub.empty


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 10), st.floats(1.01, 20))
def test_dominant_reporter_never_publishes(n_small: int, dominance: float) -> None:
    small = [tx(100, 1, f"R{i}", buyer=f"b{i}") for i in range(n_small)]
    big = tx(100, n_small * dominance, "Big")  # more than all the others together
    row = assess([*small, big], as_of=AS_OF).prices.iloc[0]
    assert row["status"] == "insufficient data" and "'big'" in row["reason"]


@settings(max_examples=40, deadline=None)
@given(market(), st.randoms(use_true_random=False))
def test_order_independence(deals: list[Transaction], rnd: object) -> None:
    shuffled = list(deals)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = assess(deals, as_of=AS_OF).prices
    b = assess(shuffled, as_of=AS_OF).prices
    pd.testing.assert_frame_equal(a, b)


def test_bad_window() -> None:
    with pytest.raises(ValueError, match="window_days"):
        assess([tx(100, 1, "A")], as_of=AS_OF, window_days=0)
