"""The options tree's environment overrides (``critmin.options.from_environment``): prefix in any case,
``__`` between levels, JSON for a section or a bound, unknown names ignored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from critmin.options import Options, from_environment


def _options(env: dict[str, str]) -> Options:
    return Options.model_validate(from_environment(env))


def test_no_variable_gives_the_defaults() -> None:
    assert _options({"PATH": "/bin", "HOME": "/root"}) == Options()


def test_top_level_values_in_any_case_are_coerced() -> None:
    o = _options({"critmin_default_year": "2020", "CRITMIN_STRICT_ATLAS": "false", "CRITMIN_ATLAS_DIR": "/x"})
    assert (o.default_year, o.strict_atlas, str(o.atlas_dir)) == (2020, False, "/x")


def test_nested_values_keep_their_siblings() -> None:
    o = _options({"CRITMIN_RISK__SCENARIOS__DEFAULT": "5000", "Critmin_Reserve__Horizon_Months__Max": "90"})
    assert (o.risk.scenarios.default, o.risk.scenarios.max, o.risk.horizon_months.default) == (
        5000,
        1_000_000,
        24,
    )
    assert (o.reserve.horizon_months.max, o.reserve.horizon_months.default) == (90, 12)


def test_a_section_or_bound_as_json_under_the_nested_variables() -> None:
    env = {
        "CRITMIN_RISK": '{"var_level": 0.9, "scenarios": {"default": 50}}',
        "CRITMIN_RISK__SCENARIOS__DEFAULT": "70",
        "CRITMIN_RESERVE__SCENARIOS": '{"default": 5, "min": 1, "max": 10}',
    }
    o = _options(env)
    assert (o.risk.var_level, o.risk.scenarios.default, o.risk.scenarios.max) == (0.9, 70, 1_000_000)
    assert (o.reserve.scenarios.default, o.reserve.scenarios.max) == (5, 10)


def test_unknown_names_are_ignored_and_bad_values_refused() -> None:
    env = {"CRITMIN_TEST_DATABASE_URL": "x", "CRITMIN_RISK__NOSUCH": "1", "CRITMIN_ALLIANCE_GROUP__X": "y"}
    assert _options(env) == Options()
    with pytest.raises(ValidationError, match="default_year"):
        _options({"CRITMIN_DEFAULT_YEAR": "1800"})
    with pytest.raises(ValueError, match="CRITMIN_RISK: expected a JSON object"):
        from_environment({"CRITMIN_RISK": "five"})
