"""The options tree (defaults, bounds, environment overrides) and the one JSON serialisation."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

from critmin.options import Bound, Options, options
from critmin.serialize import dumps, plain


def test_defaults_are_the_documented_ones() -> None:
    o = Options()
    assert o.alliance_group == "ministerial-2026"
    assert o.default_year == 2024
    assert (o.risk.scenarios.default, o.risk.scenarios.max) == (10_000, 1_000_000)
    assert o.reserve.horizon_months.max == 180


def test_environment_overrides_nested_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMIN_ALLIANCE_GROUP", "g7")
    monkeypatch.setenv("CRITMIN_RISK__SCENARIOS__DEFAULT", "5000")
    options.cache_clear()
    try:
        assert options().alliance_group == "g7"
        assert options().risk.scenarios.default == 5000
        assert options().risk.scenarios.max == 1_000_000  # untouched siblings keep their default
    finally:
        options.cache_clear()


def test_a_default_outside_its_bounds_is_refused() -> None:
    with pytest.raises(ValidationError, match="min <= default <= max"):
        Bound(default=0, min=1, max=10)


class _M(BaseModel):
    x: float
    d: date


def test_plain_makes_results_json_safe() -> None:
    obj = {
        "nan": float("nan"),
        "inf": np.float64("inf"),
        "arr": np.array([1.5, np.nan]),
        "i": np.int64(3),
        "when": date(2023, 8, 1),
        "model": _M(x=1.0, d=date(2024, 1, 2)),
        "frame": pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan]}),
        1: "key becomes text",
    }
    got = plain(obj)
    assert got == {
        "nan": None,
        "inf": None,
        "arr": [1.5, None],
        "i": 3,
        "when": "2023-08-01",
        "model": {"x": 1.0, "d": "2024-01-02"},
        "frame": [{"a": 1, "b": 0.5}, {"a": 2, "b": None}],
        "1": "key becomes text",
    }
    assert json.loads(dumps(obj)) == got
    assert "\n" not in dumps(obj)  # compact unless asked
