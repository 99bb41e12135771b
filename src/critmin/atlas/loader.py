"""Load the atlas from the tidy tables built into ``critmin/data/built/`` (see ``critmin.data.build``)."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from functools import cache
from importlib import resources
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
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


def parse_tables(raw: dict[str, bytes]) -> dict[str, pd.DataFrame]:
    """Every table of :data:`TABLES` parsed from its CSV bytes."""
    return {t: read_table(raw[t].decode("utf-8"), t) for t in TABLES}


#: what a parse of the built tables depends on besides their bytes (see :mod:`critmin.atlas.tablecache`)
PARSE_CODE = ("atlas/loader.py", "atlas/schema.py")


@cache
def _built_tables(folder_name: str | None) -> dict[str, pd.DataFrame]:
    """The parsed tables of a built folder, through a binary copy keyed by their content
    (:mod:`critmin.atlas.tablecache`)."""
    from critmin.atlas import tablecache

    folder: Any = Path(folder_name) if folder_name else resources.files("critmin.data").joinpath("built")
    raw = {t: folder.joinpath(f"{t}.csv").read_bytes() for t in TABLES}
    pa = sys.modules.get("pyarrow")  # pandas's string storage when installed (imported with pandas)
    versions = {"pandas": pd.__version__, "numpy": np.__version__, "pyarrow": getattr(pa, "__version__", "-")}
    key = tablecache.digest(raw, PARSE_CODE, versions)

    def valid(hit: Any) -> bool:
        return (
            isinstance(hit, dict)
            and tuple(hit) == TABLES
            and all(isinstance(v, pd.DataFrame) for v in hit.values())
        )

    return tablecache.cached("atlas-tables", key, lambda: parse_tables(raw), valid)


class AtlasConsistencyError(ValueError):
    """The atlas fails its consistency check (:meth:`SupplyChain.consistency_problems`): names each
    problem."""

    def __init__(self, where: str, problems: tuple[str, ...]) -> None:
        self.problems = problems
        super().__init__(f"atlas {where} is inconsistent: " + "; ".join(problems))


@cache
def _load(groups_file: str | None, folder: str | None) -> SupplyChain:
    from critmin.provenance import DATA_EDITIONS

    t = _built_tables(folder)
    atlas = SupplyChain(
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
    return replace(atlas, warnings=tuple(atlas.consistency_problems()))


def load_atlas(
    groups_file: str | Path | None = None, *, strict: bool | None = None, folder: str | Path | None = None
) -> SupplyChain:
    """The bundled atlas (cached), checked for consistency when it loads. User groups come from
    ``groups_file`` or ``$CRITMIN_GROUPS_FILE``; the tables from ``folder``, else ``options().atlas_dir``,
    else the bundled ``critmin/data/built``.

    ``strict=True`` raises :class:`AtlasConsistencyError` naming every problem; ``strict=False`` lists
    them on ``atlas.warnings``; ``None`` (default) follows :data:`critmin.options.STRICT_ATLAS` (lenient
    in the library; the CLI and the API are strict unless ``options().strict_atlas`` is false).
    The tables are shared between calls: treat them as read-only (copy before modifying).
    """
    from critmin.options import STRICT_ATLAS, options

    path = groups_file if groups_file is not None else os.environ.get(GROUPS_ENV) or None
    where = folder if folder is not None else options().atlas_dir
    atlas = _load(
        str(Path(path).resolve()) if path is not None else None,
        str(Path(where).resolve()) if where is not None else None,
    )
    if (STRICT_ATLAS.get() if strict is None else strict) and atlas.warnings:
        raise AtlasConsistencyError(str(where) if where is not None else "critmin/data/built", atlas.warnings)
    return atlas
