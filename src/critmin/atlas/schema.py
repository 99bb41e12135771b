"""Column contracts of the atlas tables (see ``docs/architecture.md``)."""

from __future__ import annotations

import pandas as pd

STAGES: tuple[str, ...] = ("mine", "refine", "magnet")
#: the words users type for a stage (``--stage mining``) -> the atlas stage
STAGE_ALIASES: dict[str, str] = {"mining": "mine", "refining": "refine", "separation": "refine",
                                 "processing": "refine", "magnets": "magnet"}  # fmt: skip


def canonical_stage(stage: str) -> str:
    """The atlas stage of a user's stage word (``mining`` -> ``mine``); other text is returned unchanged."""
    s = stage.strip().lower()
    return STAGE_ALIASES.get(s, s)


FLAGS: tuple[str, ...] = (
    "observed",
    "estimated",
    "withheld",
    "not_available",
    "derived",
    "assumed",
    "projected",
)

COLUMNS: dict[str, list[str]] = {
    "production": [
        "material",
        "stage",
        "iso3",
        "year",
        "tonnes",
        "flag",
        "source",
        "edition",
        "primary",
        "value_text",
        "unit_text",
        "basis",
    ],
    "world_totals": ["material", "stage", "year", "tonnes", "source", "edition", "value_text"],
    # an earlier edition's estimate of a world total a later edition publishes again (MCS 2025 for 2024)
    "world_estimates": ["material", "stage", "year", "tonnes", "source", "edition", "value_text"],
    "reconciliation": [
        "material",
        "stage",
        "year",
        "source",
        "sum_t",
        "world_t",
        "diff_t",
        "rel_diff",
        "within_rounding",
    ],
    "materials": ["slug", "name", "basis", "stages", "usgs_chapter", "critical_us_2025"],
    "trade": ["year", "exporter", "importer", "hs6", "material", "stage", "value_usd", "tonnes"],
    "wgi": ["iso3", "year", "indicator", "estimate"],
    "us_nir": ["material", "year", "nir_pct", "flag", "value_text"],
    "us_import_sources": ["material", "iso3", "share"],
    "prices": ["material", "year", "usd_per_t", "series", "unit_text", "source", "basis"],
    "projections": [
        "material",
        "stage",
        "iso3",
        "year",
        "tonnes",
        "flag",
        "scenario",
        "source",
        "edition",
        "value_text",
        "basis",
    ],
    "gdp": ["iso3", "year", "gdp_usd", "industry_va_usd"],
}

# pandas dtypes used when reading the built CSVs back (everything else is read as string)
NUMERIC: dict[str, dict[str, str]] = {
    "production": {"year": "int64", "tonnes": "float64"},
    "world_totals": {"year": "int64", "tonnes": "float64"},
    "world_estimates": {"year": "int64", "tonnes": "float64"},
    "reconciliation": {
        "year": "int64",
        "sum_t": "float64",
        "world_t": "float64",
        "diff_t": "float64",
        "rel_diff": "float64",
    },
    "trade": {"year": "int64", "value_usd": "float64", "tonnes": "float64"},
    "wgi": {"year": "int64", "estimate": "float64"},
    "us_nir": {"year": "int64", "nir_pct": "float64"},
    "us_import_sources": {"share": "float64"},
    "prices": {"year": "int64", "usd_per_t": "float64"},
    "projections": {"year": "int64", "tonnes": "float64"},
    "gdp": {"year": "int64", "gdp_usd": "float64", "industry_va_usd": "float64"},
}
BOOLEAN: dict[str, list[str]] = {
    "production": ["primary"],
    "reconciliation": ["within_rounding"],
    "materials": ["critical_us_2025"],
}


def empty(table: str) -> pd.DataFrame:
    """An empty frame with the contract columns of ``table``."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS[table]})


def check_columns(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` restricted to (and ordered by) the contract columns; raise if one is missing."""
    missing = [c for c in COLUMNS[table] if c not in df.columns]
    if missing:
        raise ValueError(f"atlas table {table!r} lacks columns {missing}; expected {COLUMNS[table]}")
    return df[COLUMNS[table]]
