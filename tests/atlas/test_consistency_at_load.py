"""The atlas consistency check runs when the atlas loads (issue 11 item 6): strict in the CLI and the API
(an error naming the inconsistent rows), listed on ``atlas.warnings`` otherwise.

The fixture atlas is the bundled built folder with one inconsistency: one production row's tonnes made
negative.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.atlas import load_atlas
from critmin.atlas.loader import TABLES, AtlasConsistencyError
from critmin.cli import app
from critmin.options import options


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A built folder whose production table has one row with negative tonnes; that row's id."""
    src = resources.files("critmin.data").joinpath("built")
    out = tmp_path_factory.mktemp("built")
    for t in TABLES:
        shutil.copyfile(str(src.joinpath(f"{t}.csv")), out / f"{t}.csv")
    text = (out / "production.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    i = next(k for k, r in enumerate(rows) if r["tonnes"] not in ("", "0.0") and r["primary"] == "True")
    rows[i]["tonnes"] = "-" + rows[i]["tonnes"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (out / "production.csv").write_text(buf.getvalue(), encoding="utf-8")
    r = rows[i]
    return out, "/".join(r[c] for c in ("material", "stage", "iso3", "year", "edition"))


@pytest.fixture
def env_atlas(broken: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The options point at the broken folder (CRITMIN_ATLAS_DIR) for one test."""
    monkeypatch.setenv("CRITMIN_ATLAS_DIR", str(broken[0]))
    options.cache_clear()
    yield broken[1]
    monkeypatch.delenv("CRITMIN_ATLAS_DIR")
    monkeypatch.delenv("CRITMIN_STRICT_ATLAS", raising=False)
    options.cache_clear()


def test_bundled_atlas_passes_strict() -> None:
    atlas = load_atlas(strict=True)
    assert atlas.warnings == ()
    assert len(atlas.production) > 10_000


def test_strict_load_raises_naming_the_row(broken: tuple[Path, str]) -> None:
    folder, row = broken
    with pytest.raises(AtlasConsistencyError) as err:
        load_atlas(strict=True, folder=folder)
    msg = str(err.value)
    assert "negative tonnes in 1 row(s)" in msg and row in msg and str(folder) in msg
    assert len(err.value.problems) == 1


def test_lenient_load_lists_the_problem(broken: tuple[Path, str]) -> None:
    folder, row = broken
    for atlas in (load_atlas(strict=False, folder=folder), load_atlas(folder=folder)):  # library default
        assert len(atlas.warnings) == 1
        assert "negative tonnes" in atlas.warnings[0] and row in atlas.warnings[0]
    assert load_atlas().warnings == ()  # the bundled atlas is another cached load


def test_cli_is_strict_by_default(env_atlas: str) -> None:
    res = CliRunner().invoke(app, ["materials", "--format", "csv"])
    assert res.exit_code == 2
    assert "inconsistent" in res.stderr and "negative tonnes" in res.stderr and env_atlas in res.stderr
    assert res.stdout == ""


def test_every_cli_command_is_strict(env_atlas: str) -> None:
    res = CliRunner().invoke(app, ["exposure", "-m", "gallium", "-s", "refine", "--format", "json"])
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr.startswith("error: atlas ") and env_atlas in res.stderr


def test_cli_lists_the_problem_when_not_strict(env_atlas: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMIN_STRICT_ATLAS", "false")
    options.cache_clear()
    res = CliRunner().invoke(app, ["sources", "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert "warning: atlas consistency: production: negative tonnes" in res.stderr and env_atlas in res.stderr
    assert res.stdout.startswith("edition,")  # the output itself stays clean CSV


def test_api_refuses_to_start_on_an_inconsistent_atlas(env_atlas: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from critmin.api.app import create_app
    from critmin.store import Store

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    service = create_app(store, job_kinds={}, embedded_worker=False)
    with pytest.raises(AtlasConsistencyError, match="negative tonnes") as err, TestClient(service):
        pass
    store.dispose()
    assert env_atlas in str(err.value)
