"""Scenario files: validation with errors naming file, event index, field, value and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from critmin.disruption import ExportRestriction, ScenarioError, load_scenario, parse_scenario
from critmin.disruption.events import bundled_scenario

ISSUE_EXAMPLE = """
name: gallium-2023
horizon_months: 12
events:
  - {type: export_restriction, exporter: CHN, material: gallium, stage: refine, share: 1.0,
     targets: all, start_month: 0, duration_months: 4}
"""


def test_issue_example_parses(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(ISSUE_EXAMPLE)
    sc = load_scenario(f)
    assert sc.horizon_months == 12
    ev = sc.events[0]
    assert isinstance(ev, ExportRestriction)
    assert (ev.exporter, ev.share, ev.targets, ev.active(12)) == ("CHN", 1.0, "all", [0, 1, 2, 3])


def test_json_and_all_event_types(tmp_path: Path) -> None:
    f = tmp_path / "s.json"
    f.write_text(
        '{"name": "x", "horizon_months": 6, "parameters": {"price_cap_index[gallium]": 3},'
        ' "events": [{"type": "production_outage", "country": "cod", "material": "cobalt", "share": 0.5},'
        ' {"type": "demand_shock", "material": "lithium", "sector": "electric_vehicles", "share": 0.2},'
        ' {"type": "export_restriction", "exporter": "china", "material": "gallium", "share": 0.5,'
        '  "targets": ["usa", "JPN"]}]}'
    )
    sc = load_scenario(f)
    assert [e.type for e in sc.events] == ["production_outage", "demand_shock", "export_restriction"]
    assert sc.events[0].country == "COD"  # type: ignore[union-attr]
    assert sc.events[2].targets == ["USA", "JPN"]  # type: ignore[union-attr]
    assert sc.events[2].exporter == "china"  # type: ignore[union-attr]  # a group name stays as is
    assert sc.overrides() == {("price_cap_index", "gallium"): 3.0}


def test_error_names_file_event_field_value_and_expectation(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(ISSUE_EXAMPLE.replace("share: 1.0", "share: 1.7"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    msg = str(err.value)
    assert str(f) in msg and "event 0" in msg and "field share" in msg and "1.7" in msg
    assert "less than or equal to 1" in msg


def test_unknown_event_type_and_unknown_field_are_errors() -> None:
    with pytest.raises(ScenarioError, match=r"event 0.*field type"):
        parse_scenario({"name": "x", "events": [{"type": "embargo", "material": "gallium"}]})
    with pytest.raises(ScenarioError, match=r"event 0, field colour"):
        parse_scenario(
            {
                "name": "x",
                "events": [
                    {
                        "type": "production_outage",
                        "country": "CHN",
                        "material": "gallium",
                        "share": 0.1,
                        "colour": "red",
                    }
                ],
            }
        )
    with pytest.raises(ScenarioError, match="expected a mapping"):
        parse_scenario(["not", "a", "mapping"])


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")
    f = tmp_path / "broken.yaml"
    f.write_text("name: [unclosed")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(f)


def test_bundled_scenarios_parse() -> None:
    for name in ("gallium-2023", "rare-earths-2010"):
        sc = bundled_scenario(name)
        assert sc.name == name and sc.events
