"""First-hour error messages (issue 13 item 2): each says what was wrong and what was expected."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from critmin.cli import app
from critmin.disruption.events import bundled_names

runner = CliRunner()


def test_exposure_unknown_material_suggests_close_names() -> None:
    for args in (["exposure", "--material", "galium"], ["exposure", "-m", "galium", "--stage", "refine"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert "unknown material 'galium'; did you mean gallium" in res.output
        assert "has no production data" not in res.output


def test_exposure_known_material_still_runs() -> None:
    res = runner.invoke(app, ["exposure", "--material", "gallium", "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[1].startswith("gallium,refine,")


def test_shock_missing_file_says_it_does_not_exist_and_lists_bundled(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    res = runner.invoke(app, ["shock", str(missing)])
    assert res.exit_code == 2
    assert f"{missing}: cannot read scenario file: it does not exist" in res.output
    assert bundled_names() == ["gallium-2023", "germanium-2023", "rare-earths-2010"]
    assert "bundled scenarios: gallium-2023, germanium-2023, rare-earths-2010" in res.output
    unknown = runner.invoke(app, ["shock", "gallium-2024"])
    assert unknown.exit_code == 2
    assert "no bundled scenario 'gallium-2024'" in unknown.output
    assert "bundled scenarios: gallium-2023, germanium-2023, rare-earths-2010" in unknown.output


def test_floor_unknown_material_names_the_priced_materials() -> None:
    res = runner.invoke(
        app, ["floor", "--material", "ndpr", "--strike", "100", "--volume-t", "10", "--paths", "10"]
    )
    assert res.exit_code == 2
    assert "unknown material 'ndpr'; did you mean ndpr-oxide?" in res.output
    assert "materials with a bundled price series:" in res.output and "gallium" in res.output
    assert "series None" not in res.output
