"""Parsing of USGS value text: one case per documented notation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critmin.data.valuetext import ValueTextError, parse_value_text, rounding_unit


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234", 1234.0),
        ("12,345,678", 12345678.0),
        ("0.5", 0.5),
        ("45", 45.0),
        ("-3", -3.0),
        ("2,600.5", 2600.5),
    ],
)
def test_numbers_with_thousands_separators(text: str, value: float) -> None:
    pv = parse_value_text(text)
    assert pv.flag == "number"
    assert pv.value == value
    assert pv.is_number


@pytest.mark.parametrize("text", ["—", "–", "-", " — "])
def test_dash_is_zero(text: str) -> None:
    pv = parse_value_text(text)
    assert pv.flag == "zero"
    assert pv.value == 0.0
    assert pv.is_number


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("W", "withheld"),
        ("NA", "not_available"),
        ("XX", "not_applicable"),
        ("E", "net_exporter"),
        ("", "empty"),
    ],
)
def test_codes_are_nan_with_their_flag(text: str, flag: str) -> None:
    pv = parse_value_text(text)
    assert pv.flag == flag
    assert math.isnan(pv.value)
    assert not pv.is_number


def test_s_is_less_than_half_a_unit() -> None:
    pv = parse_value_text("s")
    assert pv.flag == "below_half_unit"
    assert math.isnan(pv.value)
    assert (pv.low, pv.high) == (0.0, 0.5)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        (">50", 50.0, math.nan),
        ("<25", math.nan, 25.0),
        (">85,000,000", 85e6, math.nan),
        ("<1,000", math.nan, 1e3),
    ],
)
def test_bounds_keep_the_bound_not_a_value(text: str, low: float, high: float) -> None:
    pv = parse_value_text(text)
    assert pv.flag == "bound"
    assert math.isnan(pv.value)
    assert (pv.low == low) or (math.isnan(pv.low) and math.isnan(low))
    assert (pv.high == high) or (math.isnan(pv.high) and math.isnan(high))


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("50–300", 50.0, 300.0),
        ("330 - 390", 330.0, 390.0),
        ("10,000 - 15,000", 1e4, 1.5e4),
        ("500–17,000", 500, 17e3),
    ],
)
def test_ranges_keep_both_ends_and_no_midpoint(text: str, low: float, high: float) -> None:
    pv = parse_value_text(text)
    assert pv.flag == "range"
    assert (pv.low, pv.high) == (low, high)
    assert math.isnan(pv.value)


@pytest.mark.parametrize("text", ["Large", "Small", "Moderate", "Very small", "Moderate to large"])
def test_qualitative_words(text: str) -> None:
    pv = parse_value_text(text)
    assert pv.flag == "qualitative"
    assert math.isnan(pv.value)


def test_garbled_minus_is_not_read_as_a_number() -> None:
    pv = parse_value_text("?10")
    assert pv.flag == "garbled"
    assert math.isnan(pv.value)


@pytest.mark.parametrize("text", ["abc", "1,23", "12 tons", "300–50", ">"])
def test_unknown_notation_is_an_error(text: str) -> None:
    with pytest.raises(ValueTextError, match="expected"):
        parse_value_text(text)


def test_original_text_is_kept() -> None:
    assert parse_value_text(" 1,234 ").text == " 1,234 "


@given(st.integers(min_value=0, max_value=10**12))
def test_thousands_separated_integers_round_trip(n: int) -> None:
    assert parse_value_text(f"{n:,}").value == float(n)


@pytest.mark.parametrize(
    ("text", "unit"),
    [("380,000", 10_000.0), ("302,000", 1_000.0), ("45", 1.0), ("0.25", 0.01), ("1,600,000", 1e5)],
)
def test_rounding_unit(text: str, unit: float) -> None:
    assert rounding_unit(text) == pytest.approx(unit)
