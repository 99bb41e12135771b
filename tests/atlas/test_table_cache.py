"""The binary copies of parsed atlas inputs (``critmin.atlas.tablecache``): the same frames and groups as a
parse, never stale (a changed CSV is a new key), and a broken or unwritable cache only costs the parse."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from critmin.atlas import tablecache
from critmin.atlas.groups import GroupSpec, bundled_group_specs, parse_group_file
from critmin.atlas.loader import PARSE_CODE, TABLES, _built_tables, parse_tables
from critmin.options import options


def _raw(folder: Path) -> dict[str, bytes]:
    return {t: (folder / f"{t}.csv").read_bytes() for t in TABLES}


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A copy of the bundled built folder (tests change its tables)."""
    src = resources.files("critmin.data").joinpath("built")
    out = tmp_path / "built"
    out.mkdir()
    for t in TABLES:
        shutil.copyfile(str(src.joinpath(f"{t}.csv")), out / f"{t}.csv")
    return out


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``options().cache_dir`` is a fresh folder for one test."""
    where = tmp_path / "cache"
    monkeypatch.setenv("CRITMIN_CACHE_DIR", str(where))
    monkeypatch.delenv("CRITMIN_ATLAS_CACHE", raising=False)
    options.cache_clear()
    _built_tables.cache_clear()
    yield where
    monkeypatch.delenv("CRITMIN_CACHE_DIR")
    options.cache_clear()
    _built_tables.cache_clear()


KIND = "atlas-tables"
VERSIONS = {"pandas": pd.__version__}


def _copies(where: Path, kind: str = KIND) -> list[Path]:
    return sorted(where.glob(f"{kind}-*.pickle"))


def _key(folder: Path) -> str:
    return tablecache.digest(_raw(folder), PARSE_CODE, VERSIONS)


def test_cached_tables_equal_a_parse(built: Path, cache_dir: Path) -> None:
    first = _built_tables(str(built))  # parsed, then written
    assert len(_copies(cache_dir)) == 1
    _built_tables.cache_clear()
    second = _built_tables(str(built))  # read from the copy
    parsed = parse_tables(_raw(built))
    assert tuple(second) == TABLES
    for t in TABLES:
        pd.testing.assert_frame_equal(second[t], parsed[t], check_exact=True)
        pd.testing.assert_frame_equal(first[t], parsed[t], check_exact=True)
        assert list(second[t].dtypes) == list(parsed[t].dtypes)
    assert second["production"] is not first["production"]  # a new process's load: not the memo


def test_a_changed_table_is_a_new_key_never_the_stale_copy(built: Path, cache_dir: Path) -> None:
    before = _built_tables(str(built))["materials"]
    text = (built / "materials.csv").read_text(encoding="utf-8")
    slug = str(before["slug"].iloc[0])
    (built / "materials.csv").write_text(text.replace(f"\n{slug},", f"\n{slug}-x,", 1), encoding="utf-8")
    _built_tables.cache_clear()
    after = _built_tables(str(built))["materials"]
    assert after["slug"].iloc[0] == f"{slug}-x" and before["slug"].iloc[0] == slug
    assert len(_copies(cache_dir)) == 2


def test_the_key_covers_bytes_table_names_code_and_versions(built: Path) -> None:
    raw = _raw(built)
    key = tablecache.digest(raw, PARSE_CODE, VERSIONS)
    assert tablecache.digest(dict(raw), PARSE_CODE, dict(VERSIONS)) == key
    assert tablecache.digest({**raw, "gdp": raw["gdp"] + b"\n"}, PARSE_CODE, VERSIONS) != key
    swapped = {**raw, "us_nir": raw["wgi"], "wgi": raw["us_nir"]}
    assert tablecache.digest(swapped, PARSE_CODE, VERSIONS) != key
    assert tablecache.digest(raw, PARSE_CODE[:1], VERSIONS) != key  # the schema's source is in the key
    assert tablecache.digest(raw, PARSE_CODE, {"pandas": "0"}) != key


def test_a_corrupt_copy_is_parsed_again_and_replaced(built: Path, cache_dir: Path) -> None:
    _built_tables(str(built))
    (copy,) = _copies(cache_dir)
    copy.write_bytes(b"not a pickle")
    _built_tables.cache_clear()
    tables = _built_tables(str(built))
    assert len(tables["production"]) > 10_000
    assert copy.read_bytes() != b"not a pickle"  # replaced by a readable copy
    assert set(tablecache.load(cache_dir, KIND, copy.name[len(KIND) + 1 : -len(".pickle")])) == set(TABLES)


def test_a_copy_of_other_tables_is_not_served(built: Path, cache_dir: Path) -> None:
    _built_tables(str(built))
    (copy,) = _copies(cache_dir)
    key = copy.name[len(KIND) + 1 : -len(".pickle")]
    assert tablecache.store(cache_dir, KIND, key, {"production": pd.DataFrame()})
    _built_tables.cache_clear()
    assert len(_built_tables(str(built))["production"]) > 10_000
    assert len(tablecache.load(cache_dir, KIND, key)["production"]) > 10_000  # replaced


def test_an_unwritable_cache_dir_only_costs_the_parse(built: Path, cache_dir: Path) -> None:
    cache_dir.write_text("a file where the folder should be", encoding="utf-8")
    assert not tablecache.store(cache_dir, KIND, "k", {})
    assert len(_built_tables(str(built))["production"]) > 10_000


def test_the_cache_can_be_turned_off(built: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMIN_ATLAS_CACHE", "false")
    options.cache_clear()
    assert len(_built_tables(str(built))["production"]) > 10_000
    assert not cache_dir.exists()


def test_only_the_most_recent_copies_are_kept(cache_dir: Path) -> None:
    for i in range(tablecache.KEEP + 2):
        assert tablecache.store(cache_dir, KIND, f"k{i}", {})
    assert tablecache.store(cache_dir, "other-kind", "k", {})
    assert len(_copies(cache_dir)) == tablecache.KEEP
    assert len(_copies(cache_dir, "other-kind")) == 1  # each kind is pruned on its own


def test_cached_bundled_groups_equal_a_parse(cache_dir: Path) -> None:
    bundled_group_specs.cache_clear()
    try:
        first = bundled_group_specs()
        assert len(_copies(cache_dir, "bundled-groups")) == 1
        bundled_group_specs.cache_clear()
        second = bundled_group_specs()
    finally:
        bundled_group_specs.cache_clear()
    text = resources.files("critmin.data").joinpath("groups.yaml").read_text(encoding="utf-8")
    parsed = parse_group_file(text, "groups.yaml")
    assert first == parsed and second == parsed and second is not first
    assert all(isinstance(v, GroupSpec) for v in second.values()) and "eu27" in second
