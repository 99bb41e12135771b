"""Reproducible build of the atlas tables: ``python -m critmin.data.build [--out DIR]``.

Reads the bundled raw files (``critmin/data/raw``, through :mod:`importlib.resources`) and writes one tidy
CSV per atlas table into ``critmin/data/built/`` (or ``--out``). The output is deterministic: rows are sorted
and floats written with ``repr`` precision, so a rebuild is byte-identical (a test checks it).
"""

from __future__ import annotations

import argparse
import math
import re
from importlib import resources
from importlib.resources.abc import Traversable
from io import StringIO
from pathlib import Path

import pandas as pd

from critmin.atlas.schema import COLUMNS, STAGES, check_columns
from critmin.data.derived_prices import derive_pgm_price
from critmin.data.history import parse_ds140_world, parse_mcs2022_2024, parse_myb2022_t8, parse_theler
from critmin.data.iea import parse_iea, parse_iea_projections
from critmin.data.ree import derive_elements
from critmin.data.rhodium import derive_rhodium
from critmin.data.salient import build_import_sources, build_prices, build_us_nir
from critmin.data.usgs import Parsed, parse_mcs2025, parse_mcs2025_estimates, parse_mcs2026
from critmin.data.valuetext import rounding_unit

#: sources in order of precedence; the first with rows for a (material, stage, year) is the primary one
IEA_FIRST: frozenset[tuple[str, str]] = frozenset(
    {
        ("cobalt", "refine"),
        ("lithium", "refine"),
        ("nickel", "refine"),
        ("copper", "refine"),
        ("battery-graphite", "refine"),
        ("magnet-rare-earths", "refine"),
    }
)
DEFAULT_ORDER = ("usgs", "iea", "theler2020")
#: publication month of each edition: within the chosen source the newest edition that has rows for a
#: (material, stage, year) is primary, the others are kept as revisions. An edition not listed (a new release
#: given to ``critmin data build --raw``) is dated by the year in its name (``usgs-mcs2027`` -> 2027-02).
EDITION_DATE: dict[str, str] = {
    "usgs-mcs2026": "2026-02",
    "iea-cm-2025": "2025-05",
    "usgs-myb2022": "2025-03",
    "usgs-mcs2025": "2025-01",
    "usgs-mcs2024": "2024-03",
    "usgs-ds140": "2023-09",
    "usgs-mcs2023": "2023-01",
    "usgs-mcs2022": "2022-01",
    "theler2020": "2020-06",
}


def edition_date(edition: str) -> str:
    """``YYYY-MM`` publication month of an edition (:data:`EDITION_DATE`, else the year in its name)."""
    if edition in EDITION_DATE:
        return EDITION_DATE[edition]
    m = re.search(r"(19|20)\d{2}", edition)
    return f"{m.group(0)}-02" if m else "0000-00"


SORT_KEYS: dict[str, list[str]] = {
    "production": ["material", "stage", "year", "source", "edition", "iso3"],
    "world_totals": ["material", "stage", "year", "source", "edition"],
    "world_estimates": ["material", "stage", "year", "source", "edition"],
    "reconciliation": ["material", "stage", "year", "source"],
    "materials": ["slug"],
    "trade": ["year", "exporter", "importer", "hs6"],
    "wgi": ["iso3", "year", "indicator"],
    "us_nir": ["material", "year"],
    "us_import_sources": ["material", "iso3"],
    "prices": ["material", "series", "year"],
    "projections": ["material", "stage", "year", "iso3"],
    "gdp": ["iso3", "year"],
}


class BuildError(ValueError):
    """The raw data do not satisfy an invariant of the atlas."""


def raw_root() -> Traversable:
    """The bundled raw data folder."""
    return resources.files("critmin.data").joinpath("raw")


def load_materials() -> pd.DataFrame:
    """The materials registry ``critmin/data/materials.csv``, validated."""
    name = "critmin/data/materials.csv"
    text = resources.files("critmin.data").joinpath("materials.csv").read_text(encoding="utf-8")
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    df = check_columns("materials", df).copy()
    for i, r in df.iterrows():
        row = int(str(i)) + 2
        if r["slug"] != r["slug"].strip().lower() or " " in r["slug"]:
            raise BuildError(f"{name} row {row}, column slug: {r['slug']!r}; expected a lowercase slug")
        bad = [s for s in r["stages"].split(";") if s not in STAGES]
        if bad:
            raise BuildError(
                f"{name} row {row}, column stages: {r['stages']!r}; expected ';'-joined {STAGES}"
            )
        if r["critical_us_2025"] not in ("True", "False"):
            raise BuildError(
                f"{name} row {row}, column critical_us_2025: {r['critical_us_2025']!r}; expected True/False"
            )
    if df["slug"].duplicated().any():
        raise BuildError(f"{name}: duplicate slugs {sorted(df.loc[df['slug'].duplicated(), 'slug'])}")
    df["critical_us_2025"] = df["critical_us_2025"] == "True"
    return df


def derive_pgm(production: pd.DataFrame) -> pd.DataFrame:
    """``platinum-group-metals`` mine rows = platinum + palladium per country, year and edition
    (flag ``derived``; NaN and ``not_available`` when either is not a number or not listed)."""
    p = production[production["material"].isin(["platinum", "palladium"])]
    rows = []
    for (iso3, year, edition, source), g in p.groupby(["iso3", "year", "edition", "source"], sort=True):
        by = dict(zip(g["material"], g["tonnes"], strict=True))
        texts = dict(zip(g["material"], g["value_text"], strict=True))
        t = by.get("platinum", math.nan) + by.get("palladium", math.nan)
        rows.append(
            {
                "material": "platinum-group-metals",
                "stage": "mine",
                "iso3": iso3,
                "year": year,
                "tonnes": t,
                "flag": "derived" if math.isfinite(t) else "not_available",
                "source": source,
                "edition": edition,
                "primary": False,
                "value_text": f"Pt {texts.get('platinum', '')} + Pd {texts.get('palladium', '')}",
                "unit_text": str(g["unit_text"].iloc[0]),
                "basis": "platinum + palladium content",
            }
        )
    return pd.DataFrame(rows)


def history_parts(root: Traversable) -> list[Parsed]:
    """The history sources (1998-2023; see :mod:`critmin.data.history`)."""
    return [parse_mcs2022_2024(root), parse_myb2022_t8(root), parse_theler(root)]


def mark_primary(production: pd.DataFrame) -> pd.DataFrame:
    """Set ``primary`` on the rows of the first source (by precedence) present for each (material, stage,
    year), and within it of the newest edition (:func:`edition_date`) with at least one number."""
    out = production.copy()
    out["primary"] = False
    for (material, stage, _year), g in out.groupby(["material", "stage", "year"], sort=False):
        order = ("iea", "usgs", "theler2020") if (material, stage) in IEA_FIRST else DEFAULT_ORDER
        chosen = next(s for s in order if (g["source"] == s).any())
        mine = g[g["source"] == chosen]
        # the newest edition that published a figure (an edition whose rows are all W/NA does not hide
        # an older edition's numbers: germanium 2021 stays MCS 2022's)
        numbered = mine.loc[mine["tonnes"].notna(), "edition"]
        editions = set(numbered) if len(numbered) else set(mine["edition"])
        newest = max(editions, key=lambda e: (edition_date(str(e)), str(e)))
        out.loc[g.index[g["edition"] == newest], "primary"] = True
    return out


def reconcile(production: pd.DataFrame, world_totals: pd.DataFrame) -> pd.DataFrame:
    """Country rows + Other vs the published world total, per (material, stage, year, edition).

    ``within_rounding``: |sum - total| <= half the rounding unit of the total's published text (10**k for k
    trailing zeros, e.g. 380,000 -> 5,000 in the published unit), plus 1e-9 relative for float noise.
    """
    rows = []
    for w in world_totals.itertuples(index=False):
        if not math.isfinite(float(str(w.tonnes))):
            continue
        part = production[
            (production["material"] == w.material)
            & (production["stage"] == w.stage)
            & (production["year"] == w.year)
            & (production["edition"] == w.edition)
        ]
        if part.empty:
            continue  # a world-only series (USGS DS 140): nothing to reconcile
        s = float(part["tonnes"].sum(skipna=True))
        world_t = float(str(w.tonnes))
        text = str(w.value_text)
        numeric_text = text.replace(",", "").strip()
        published = float(numeric_text) if numeric_text else math.nan
        factor = world_t / published if published else 1.0
        tol = 0.5 * rounding_unit(text) * factor + 1e-9 * abs(world_t)
        diff = s - world_t
        rows.append(
            {
                "material": w.material,
                "stage": w.stage,
                "year": w.year,
                "source": w.edition,
                "sum_t": s,
                "world_t": world_t,
                "diff_t": diff,
                "rel_diff": diff / world_t if world_t else math.nan,
                "within_rounding": abs(diff) <= tol,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS["reconciliation"])


def build_tables(raw: Traversable | None = None) -> dict[str, pd.DataFrame]:
    """All atlas tables from the raw files."""
    from critmin.data.governance import build_wgi
    from critmin.data.trade import build_trade
    from critmin.data.wdi import build_gdp

    root = raw if raw is not None else raw_root()
    parts = [parse_mcs2026(root), parse_mcs2025(root), parse_iea(root), *history_parts(root)]
    production = pd.concat([p.production for p in parts], ignore_index=True)
    production = pd.concat(
        [production, derive_pgm(production), derive_rhodium(production)], ignore_index=True
    )
    world = pd.concat([*(p.world_totals for p in parts), parse_ds140_world(root)], ignore_index=True)
    dup = production.duplicated(["material", "stage", "iso3", "year", "edition"], keep=False)
    if dup.any():
        first = production[dup].iloc[0]
        raise BuildError(
            f"two rows for {first['material']}/{first['stage']}/{first['iso3']}/{first['year']} in "
            f"{first['edition']}; expected one per country"
        )
    materials = load_materials()
    unknown = sorted(set(production["material"]) - set(materials["slug"]))
    if unknown:
        raise BuildError(
            f"materials {unknown} have production rows but no entry in critmin/data/materials.csv"
        )
    production = mark_primary(production)
    production = mark_primary(pd.concat([production, derive_elements(root, production)], ignore_index=True))
    known = set(materials["slug"])
    prices = build_prices(root, materials, known)
    prices = pd.concat([prices, derive_pgm_price(prices, world, production)], ignore_index=True)
    return {
        "production": production,
        "world_totals": world,
        "world_estimates": parse_mcs2025_estimates(root),
        "reconciliation": reconcile(production, world),
        "materials": materials,
        "trade": build_trade(root),
        "wgi": build_wgi(root),
        "us_nir": build_us_nir(root, materials),
        "us_import_sources": build_import_sources(root, materials),
        "prices": prices,
        "projections": parse_iea_projections(root),
        "gdp": build_gdp(root),
    }


def to_csv_text(table: str, df: pd.DataFrame) -> str:
    """Deterministic CSV text of one table (contract columns, sorted rows, repr floats, '\\n' endings)."""
    out = check_columns(table, df).sort_values(SORT_KEYS[table], kind="mergesort").reset_index(drop=True)
    return out.to_csv(index=False, lineterminator="\n")


def write_tables(tables: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """Write every table as ``<name>.csv`` into ``out_dir`` (all texts are rendered before any write)."""
    texts = {name: to_csv_text(name, df) for name, df in tables.items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in texts.items():
        path = out_dir / f"{name}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        paths.append(path)
    return paths


def default_out_dir() -> Path:
    """``critmin/data/built`` of the installed (editable) package."""
    return Path(str(resources.files("critmin.data"))) / "built"


def raw_hashes(root: Path | None = None) -> list[tuple[str, str]]:
    """``(relative path, SHA-256)`` of every bundled raw file, sorted (the table in SOURCES.md)."""
    import hashlib

    base = root if root is not None else Path(str(raw_root()))
    files = sorted(f for f in base.rglob("*") if f.is_file())
    return [(f.relative_to(base).as_posix(), hashlib.sha256(f.read_bytes()).hexdigest()) for f in files]


def hash_table() -> str:
    """The Markdown table of :func:`raw_hashes` (pasted between the sha256 markers of SOURCES.md)."""
    lines = ["| file | SHA-256 |", "|---|---|"]
    lines += [f"| `{name}` | `{digest}` |" for name, digest in raw_hashes()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(prog="python -m critmin.data.build", description=__doc__)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: critmin/data/built)")
    ap.add_argument("--hashes", action="store_true", help="print the SHA-256 table of the raw files and exit")
    args = ap.parse_args(argv)
    if args.hashes:
        print(hash_table())
        return 0
    out = args.out or default_out_dir()
    for p in write_tables(build_tables(), out):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
