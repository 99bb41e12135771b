"""Groups as data: the bundled lists and validation of user group files."""

from __future__ import annotations

from pathlib import Path

import pytest

from critmin.atlas.groups import GroupFileError, load_groups

EU27 = {
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "GER", "GRC", "HUN", "IRL",
    "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE",
}  # fmt: skip


def test_bundled_group_sizes() -> None:
    g = load_groups()
    assert len(g["eu27"]) == 27
    assert g["eu27"] == (EU27 - {"GER"}) | {"DEU"}
    assert len(g["ministerial-2026-attendees"]) == 55  # USA + 54
    # the alliance adds the EU members that did not attend in their own right
    assert g["ministerial-2026"] == g["ministerial-2026-attendees"] | g["eu27"]
    assert len(g["ministerial-2026"]) == 55 + len(g["eu27"] - g["ministerial-2026-attendees"])
    assert g["g7"] == {"CAN", "FRA", "DEU", "ITA", "JPN", "GBR", "USA"}
    assert g["china"] == {"CHN"}
    assert {"KOR", "USA", "IND", "EST"} <= g["msp-2024"]
    assert "ARG" not in g["msp-2024"]
    for absent in ("CHN", "IDN", "CHL", "ZAF", "RUS"):
        assert absent not in g["ministerial-2026"]


def test_user_group_file_adds_groups_and_may_include_bundled(tmp_path: Path) -> None:
    f = tmp_path / "g.yaml"
    f.write_text("groups:\n  quad-plus:\n    source: me\n    members: [AUS, IND]\n    include: [g7]\n")
    g = load_groups(f)
    assert g["quad-plus"] == g["g7"] | {"AUS", "IND"}
    assert "eu27" in g


def test_user_group_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "g.yaml"
    f.write_text("groups:\n  mine:\n    source: me\n    members: [CHL]\n")
    monkeypatch.setenv("CRITMIN_GROUPS_FILE", str(f))
    assert load_groups()["mine"] == {"CHL"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("groups:\n  bad:\n    source: me\n    members: [USA, XYZ]\n", "members[1] = 'XYZ'"),
        ("groups:\n  bad:\n    source: me\n    include: [nope]\n", "includes 'nope'"),
        ("groups:\n  bad:\n    members: [USA]\n", "source"),
        ("groups:\n  eu27:\n    source: me\n    members: [USA]\n", "already exist"),
        ("groups: [1, 2\n", "not valid YAML"),
    ],
)
def test_bad_user_group_file_is_an_error_naming_the_file(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(GroupFileError) as err:
        load_groups(f)
    assert str(f) in str(err.value)
    assert needle in str(err.value)
