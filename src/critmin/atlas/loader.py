"""Load the atlas from the tidy tables built into ``critmin/data/built/`` (see ``critmin.data.build``)."""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from io import StringIO
from pathlib import Path
from typing import Any

import pandas as pd

from critmin.atlas.chain import SupplyChain
from critmin.atlas.groups import GROUPS_ENV, load_groups
from critmin.atlas.schema import BOOLEAN, COLUMNS, NUMERIC, check_columns

TABLES: tuple[str, ...] = (
    "production",
    "world_totals",
    "world_estimates",
    "reconciliation",
    "materials",
    "trade",
    "wgi",
    "us_nir",
    "us_import_sources",
    "prices",
    "projections",
    "gdp",
)


def read_table(text: str, table: str) -> pd.DataFrame:
    """Parse one built CSV with the contract dtypes (strings stay strings: ``NA`` is a value, not NaN;
    an empty numeric cell is NaN)."""
    numeric = NUMERIC.get(table, {})
    dtypes: dict[str, Any] = {c: numeric.get(c, str) for c in COLUMNS[table]}
    df = pd.read_csv(
        StringIO(text),
        dtype=dtypes,
        keep_default_na=False,
        na_values={c: [""] for c in numeric},
        engine="c",
    )
    df = check_columns(table, df).copy()
    for col in BOOLEAN.get(table, []):
        df[col] = df[col].map({"True": True, "False": False}).astype(bool)
    return df


@cache
def _built_tables() -> dict[str, pd.DataFrame]:
    folder = resources.files("critmin.data").joinpath("built")
    out = {}
    for t in TABLES:
        out[t] = read_table(folder.joinpath(f"{t}.csv").read_text(encoding="utf-8"), t)
    return out


@cache
def _load(groups_file: str | None) -> SupplyChain:
    from critmin.provenance import DATA_EDITIONS

    t = _built_tables()
    return SupplyChain(
        production=t["production"],
        world_totals=t["world_totals"],
        world_estimates=t["world_estimates"],
        reconciliation=t["reconciliation"],
        materials=t["materials"],
        groups=load_groups(groups_file),
        trade=t["trade"],
        wgi=t["wgi"],
        us_nir=t["us_nir"],
        us_import_sources=t["us_import_sources"],
        prices=t["prices"],
        projections=t["projections"],
        gdp=t["gdp"],
        editions=dict(DATA_EDITIONS),
    )


def load_atlas(groups_file: str | Path | None = None) -> SupplyChain:
    """The bundled atlas (cached). User groups come from ``groups_file`` or ``$CRITMIN_GROUPS_FILE``.

    The tables are shared between calls: treat them as read-only (copy before modifying).
    """
    path = groups_file if groups_file is not None else os.environ.get(GROUPS_ENV) or None
    return _load(str(Path(path).resolve()) if path is not None else None)
