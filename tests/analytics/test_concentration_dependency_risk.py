"""Hand-worked oracles and hypothesis properties for shares, HHI, top-k, group shares, dependency, risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from critmin.analytics import (
    dependency,
    eu_supply_risk,
    geopolrisk,
    governance_risk_pv,
    group_shares,
    hhi,
    hhi_wgi,
    import_reliance,
    shares,
    supplier_shares,
    supply_dependency,
    top_k_share,
    us_net_import_reliance,
    wgi_scaled,
)

# --- hand-worked examples ------------------------------------------------------------------------------


def test_three_country_hhi_by_hand() -> None:
    # shares 0.5, 0.3, 0.2 -> 2500 + 900 + 400 = 3800
    x = pd.Series({"CHN": 50.0, "AUS": 30.0, "USA": 20.0})
    assert hhi(x) == pytest.approx(3800.0)
    assert shares(x).to_dict() == pytest.approx({"CHN": 0.5, "AUS": 0.3, "USA": 0.2})
    assert hhi(np.array([50.0, 30.0, 20.0])) == pytest.approx(3800.0)


def test_other_countries_in_total_not_in_sum_of_squares() -> None:
    # CHN 60, AUS 30, OTH 10: shares .6 .3 .1; lower bound 3600 + 900 = 4500, upper 4600
    x = pd.Series({"CHN": 60.0, "AUS": 30.0, "OTH": 10.0})
    assert hhi(x, exclude=["OTH"]) == pytest.approx(4500.0)
    assert hhi(x) == pytest.approx(4600.0)
    assert top_k_share(x, 1, exclude=["OTH"]) == pytest.approx(0.6)
    assert top_k_share(x, 2, exclude=["OTH"]) == pytest.approx(0.9)
    assert top_k_share(x, 3, exclude=["OTH"]) == pytest.approx(0.9)
    mask = np.array([False, False, True])
    assert hhi(np.array([60.0, 30.0, 10.0]), exclude=mask) == pytest.approx(4500.0)


def test_group_shares_by_hand_combined_rows_need_every_member() -> None:
    x = pd.Series({"CHN": 50.0, "AUS": 20.0, "USA+CAN": 20.0, "OTH": 10.0})
    g = group_shares(
        x, {"china": {"CHN"}, "na": {"USA", "CAN"}, "us": {"USA"}, "all": {"CHN", "AUS", "USA", "CAN"}}
    )
    assert g.to_dict() == pytest.approx({"china": 0.5, "na": 0.2, "us": 0.0, "all": 0.9})
    member = np.array([[1, 0], [0, 1], [0, 1], [0, 0]], dtype=bool)
    arr = group_shares(np.array([[50.0, 20.0, 20.0, 10.0], [0.0, 1.0, 1.0, 2.0]]), member)
    np.testing.assert_allclose(arr, [[0.5, 0.4], [0.0, 0.5]])


def test_dataframe_rows_are_distributions() -> None:
    df = pd.DataFrame({"CHN": [50.0, 1.0], "AUS": [30.0, 1.0], "USA": [20.0, 0.0]}, index=["s1", "s2"])
    np.testing.assert_allclose(hhi(df).to_numpy(), [3800.0, 5000.0])
    assert list(hhi(df).index) == ["s1", "s2"]
    np.testing.assert_allclose(top_k_share(df, 1).to_numpy(), [0.5, 0.5])


def test_zero_total_gives_nan_and_bad_input_raises() -> None:
    assert np.isnan(hhi(pd.Series({"A": 0.0, "B": 0.0})))
    assert np.isnan(hhi(np.zeros((2, 3)))).all()
    with pytest.raises(ValueError, match=">= 0"):
        shares(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="finite"):
        hhi(pd.Series({"A": np.nan, "B": 1.0}))
    with pytest.raises(ValueError, match="k >= 1"):
        top_k_share(np.array([1.0]), 0)


TRADE = pd.DataFrame(
    [
        ("CHN", "USA", 60.0),
        ("AUS", "USA", 30.0),
        ("CAN", "USA", 10.0),
        ("USA", "CAN", 5.0),
        ("MEX", "CAN", 7.0),
        ("CHN", "JPN", 99.0),
    ],
    columns=["exporter", "importer", "value_usd"],
)


def test_dependency_of_a_country_by_hand() -> None:
    f = supplier_shares(TRADE, {"USA"})
    assert f.to_dict() == pytest.approx({"CHN": 0.6, "AUS": 0.3, "CAN": 0.1})
    assert dependency(TRADE, {"USA"}, {"CHN"}) == pytest.approx(0.6)
    assert dependency(TRADE, {"USA"}, {"AUS", "CAN"}) == pytest.approx(0.4)


def test_dependency_of_a_group_excludes_intra_group_flows() -> None:
    # external imports of {USA, CAN}: CHN 60, AUS 30, MEX 7 (CAN->USA and USA->CAN are intra-group)
    assert dependency(TRADE, {"USA", "CAN"}, {"CHN"}) == pytest.approx(60 / 97)
    assert supplier_shares(TRADE, {"USA", "CAN"}).sum() == pytest.approx(1.0)
    assert np.isnan(dependency(TRADE, {"BRA"}, {"CHN"}))


def test_supply_dependency_by_hand() -> None:
    # 74 % of US supply imported, 70 % of imports from China -> 0.518 of apparent consumption
    assert supply_dependency(0.74, 0.7) == pytest.approx(0.518)
    assert np.isnan(supply_dependency(float("nan"), 0.7))
    with pytest.raises(ValueError, match=r"import_share = 1\.2"):
        supply_dependency(0.5, 1.2)


def test_import_reliance_by_hand() -> None:
    assert import_reliance(40.0, 70.0, 10.0) == pytest.approx(0.6)  # 60 / 100
    assert import_reliance(100.0, 10.0, 50.0) == 0.0  # net exporter
    assert import_reliance(0.0, 10.0, 0.0) == 1.0
    assert np.isnan(import_reliance(0.0, 0.0, 0.0))
    p = pd.Series({"a": 40.0, "b": 100.0})
    out = import_reliance(p, pd.Series({"a": 70.0, "b": 10.0}), pd.Series({"a": 10.0, "b": 50.0}))
    assert out.to_dict() == pytest.approx({"a": 0.6, "b": 0.0})
    np.testing.assert_allclose(import_reliance(np.array([40.0]), np.array([70.0]), np.array([10.0])), [0.6])


def test_us_net_import_reliance_fallback_and_net_exporter() -> None:
    nir = pd.DataFrame(
        [
            ("gallium", 2023, 100.0, "observed"),
            ("gallium", 2025, 100.0, "estimated"),
            ("boron", 2024, np.nan, "net_exporter"),
            ("lithium", 2024, np.nan, "withheld"),
            ("cobalt", 2024, 76.0, "observed"),
        ],
        columns=["material", "year", "nir_pct", "flag"],
    )
    out = us_net_import_reliance(nir, 2024)
    assert out["gallium"] == 1.0  # 2023, the latest on or before 2024
    assert out["boron"] == 0.0
    assert np.isnan(out["lithium"])
    assert out["cobalt"] == pytest.approx(0.76)


WGI = pd.DataFrame(
    [(c, 2023, ind, est) for c, est in (("AAA", 0.0), ("BBB", 2.5), ("CCC", -2.5)) for ind in ("pv", "rl")]
    + [
        ("AAA", 2021, "pv", 2.5),
        ("DDD", 2023, "pv", 1.0),
        ("DDD", 2023, "rl", np.nan),
        ("DDD", 2022, "rl", 0.0),
    ],
    columns=["iso3", "year", "indicator", "estimate"],
)


def test_wgi_scaling_by_hand() -> None:
    w = wgi_scaled(WGI, 2023, indicators=("pv", "rl"))
    # AAA 0 -> 5, BBB 2.5 -> 0, CCC -2.5 -> 10; DDD pv 1.0 -> 3, rl falls back to 2022 (0.0) -> 5: mean 4
    assert w.to_dict() == pytest.approx({"AAA": 5.0, "BBB": 0.0, "CCC": 10.0, "DDD": 4.0})
    assert wgi_scaled(WGI, 2022, indicators=("pv",)).to_dict() == pytest.approx({"AAA": 0.0})
    g = governance_risk_pv(WGI, 2023)
    assert g.to_dict() == pytest.approx({"AAA": 0.5, "BBB": 0.0, "CCC": 1.0, "DDD": 0.3})


def test_eu_supply_risk_by_hand() -> None:
    x = pd.Series({"CHN": 60.0, "AUS": 30.0, "OTH": 10.0})
    hw = hhi_wgi(x, pd.Series({"CHN": 6.0, "AUS": 2.0}), exclude=["OTH"])
    assert hw == pytest.approx(0.36 * 6 + 0.09 * 2)  # 2.34
    # [2.34 * 0.5/2 + 1.0 * (1 - 0.5/2)] * (1 - 0.1) * 0.9 = 1.335 * 0.81
    assert eu_supply_risk(hw, 1.0, 0.5, 0.1, 0.9) == pytest.approx(1.08135)
    # IR = 1: global and sourcing terms weigh half each
    assert eu_supply_risk(4.0, 2.0, 1.0, 0.0, 1.0) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="no WGI"):
        hhi_wgi(x, pd.Series({"CHN": 6.0}), exclude=["OTH"])
    assert hhi_wgi(x, pd.Series({"CHN": 6.0}), exclude=["OTH"], missing=5.0) == pytest.approx(2.16 + 0.45)
    with pytest.raises(ValueError, match="ir must be a fraction"):
        eu_supply_risk(1.0, 1.0, 1.5, 0.0, 1.0)
    np.testing.assert_allclose(
        hhi_wgi(np.array([[60.0, 30.0]]), np.array([6.0, 2.0])), [4 / 9 * 6 + 1 / 9 * 2]
    )  # shares 2/3, 1/3


def test_geopolrisk_by_hand() -> None:
    f = pd.Series({"CHN": 0.6, "AUS": 0.4})
    g = pd.Series({"CHN": 0.6, "AUS": 0.1, "USA": 0.2})
    assert geopolrisk(0.45, f, g) == pytest.approx(0.45 * (0.36 + 0.04))
    with pytest.raises(ValueError, match="no governance risk"):
        geopolrisk(0.45, pd.Series({"ZZZ": 1.0}), g)
    np.testing.assert_allclose(geopolrisk(0.45, np.array([[0.6, 0.4]]), np.array([0.6, 0.1])), [0.18])


# --- properties ------------------------------------------------------------------------------------------

quantities = arrays(
    np.float64,
    st.integers(1, 12),
    elements=st.floats(0.0, 1e9, allow_nan=False, allow_infinity=False),
).filter(lambda a: a.sum() > 1e-6)


@settings(deadline=None)  # shared 2-core machine: no per-example time limit
@given(quantities)
def test_shares_sum_to_one_and_hhi_bounds(x: np.ndarray) -> None:
    s = shares(x)
    assert s.sum() == pytest.approx(1.0)
    h = float(hhi(x))
    n = len(x)
    assert 10_000 / n - 1e-6 <= h <= 10_000 + 1e-6
    assert float(top_k_share(x, n)) == pytest.approx(1.0)
    assert float(top_k_share(x, 1)) ** 2 * 10_000 <= h + 1e-6


@settings(deadline=None)  # shared 2-core machine: no per-example time limit
@given(quantities, st.randoms(use_true_random=False))
def test_permutation_invariance(x: np.ndarray, rnd: object) -> None:
    perm = np.array(sorted(range(len(x)), key=lambda _: rnd.random()))  # type: ignore[attr-defined]
    assert float(hhi(x[perm])) == pytest.approx(float(hhi(x)))
    assert float(top_k_share(x[perm], 2)) == pytest.approx(float(top_k_share(x, 2)))
    np.testing.assert_allclose(shares(x[perm]), shares(x)[perm])


@settings(deadline=None)  # shared 2-core machine: no per-example time limit
@given(quantities, st.floats(1e-3, 1e6))
def test_scaling_invariance(x: np.ndarray, c: float) -> None:
    assert float(hhi(x * c)) == pytest.approx(float(hhi(x)), rel=1e-9)
    np.testing.assert_allclose(shares(x * c), shares(x), rtol=1e-9, atol=1e-15)


@settings(deadline=None)  # shared 2-core machine: no per-example time limit
@given(arrays(np.float64, (3, 5), elements=st.floats(0.01, 1e6)))
def test_leading_axis_equals_row_by_row_and_kinds_agree(x: np.ndarray) -> None:
    batch = hhi(x)
    assert batch.shape == (3,)
    for i in range(3):
        assert batch[i] == pytest.approx(float(hhi(x[i])))
    df = pd.DataFrame(x, columns=list("ABCDE"))
    np.testing.assert_allclose(hhi(df).to_numpy(), batch)
    np.testing.assert_allclose(shares(df).to_numpy(), shares(x))


@settings(deadline=None)  # shared 2-core machine: no per-example time limit
@given(quantities)
def test_excluding_an_entry_lowers_hhi_by_its_squared_share(x: np.ndarray) -> None:
    mask = np.zeros(len(x), dtype=bool)
    mask[0] = True
    s0 = shares(x)[0]
    assert float(hhi(x, exclude=mask)) == pytest.approx(float(hhi(x)) - 10_000 * s0**2, abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(quantities)
def test_group_shares_partition_sums_to_one(x: np.ndarray) -> None:
    labels = [f"C{i:02d}" for i in range(len(x))]
    s = pd.Series(x, index=labels)
    half = set(labels[: len(labels) // 2])
    g = group_shares(s, {"first": half, "rest": set(labels) - half})
    assert g.sum() == pytest.approx(1.0)
