"""Rebuild the atlas from a new edition's raw files and report what changed (``critmin data build --raw``).

The files of ``--raw DIR`` (same layout as ``critmin/data/raw``: for next year's USGS release
``usgs_mcs2027/MCS2027_Commodities_Data.csv``, or a corrected copy of any bundled file) are laid over the
bundled raw folder in a temporary copy; the build runs on it unchanged. The report lists rows added and
removed per table and every country share (primary rows, per material, stage and year) that moved by more
than :data:`SHARE_POINT`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from critmin.atlas.loader import read_table
from critmin.data.build import build_tables, default_out_dir, raw_root, to_csv_text, write_tables

SHARE_POINT = 0.01
KEYS: dict[str, list[str]] = {
    "production": ["material", "stage", "iso3", "year", "edition"],
    "world_totals": ["material", "stage", "year", "edition"],
    "prices": ["material", "series", "year"],
}


@dataclass(frozen=True)
class RefreshReport:
    """Rows added/removed per table and the shares that moved by more than a point."""

    rows: pd.DataFrame  # table, before, after, added, removed
    moved: pd.DataFrame  # material, stage, year, iso3, share_before, share_after, change
    written: list[Path]


def overlay(raw_dir: Path, into: Path) -> Path:
    """Copy the bundled raw folder to ``into`` and lay the files of ``raw_dir`` over it."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"--raw {raw_dir}: not a folder; expected the layout of critmin/data/raw")
    target = into / "raw"
    shutil.copytree(Path(str(raw_root())), target)
    for f in sorted(raw_dir.rglob("*")):
        if f.is_file():
            dest = target / f.relative_to(raw_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
    return target


def _shares(production: pd.DataFrame) -> pd.Series:
    p = production[production["primary"].astype(bool)].dropna(subset=["tonnes"])
    s = p.groupby(["material", "stage", "year", "iso3"])["tonnes"].sum()
    total = s.groupby(level=["material", "stage", "year"]).transform("sum")
    return (s / total.where(total > 0)).dropna()


def compare(
    before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Row counts per table (added/removed by key) and the shares that moved by more than a point."""
    rows = []
    for table, new in after.items():
        old = before.get(table, new.iloc[0:0])
        keys = KEYS.get(table, list(new.columns))
        k_old = set(map(tuple, old[keys].astype(str).to_numpy()))
        k_new = set(map(tuple, new[keys].astype(str).to_numpy()))
        rows.append({"table": table, "before": len(old), "after": len(new), "added": len(k_new - k_old),
                     "removed": len(k_old - k_new)})  # fmt: skip
    s_old, s_new = _shares(before["production"]), _shares(after["production"])
    both = pd.concat({"share_before": s_old, "share_after": s_new}, axis=1)
    years_new = {k[:3] for k in s_new.index}
    both = both[[k[:3] in years_new for k in both.index]].fillna(0.0)
    both["change"] = both["share_after"] - both["share_before"]
    moved = both[both["change"].abs() > SHARE_POINT].reset_index()
    return pd.DataFrame(rows), moved


def rebuild(raw_dir: Path, out: Path | None = None) -> RefreshReport:
    """Build from ``raw_dir`` laid over the bundled raw files; write to ``out`` (default: the package's
    built folder) only after every table is built; report the changes against the current built tables."""
    folder = default_out_dir()
    before = {t: read_table((folder / f"{t}.csv").read_text(encoding="utf-8"), t) for t in KEYS}
    with tempfile.TemporaryDirectory() as tmp:
        tables = build_tables(overlay(raw_dir, Path(tmp)))
    after = {t: read_table(to_csv_text(t, tables[t]), t) for t in KEYS}
    rows, moved = compare(before, after)
    written = write_tables(tables, out or folder)
    return RefreshReport(rows, moved, written)
