"""A hand-made three-country supply chain for page-builder tests (numbers chosen for hand-worked oracles)."""

from __future__ import annotations

import pandas as pd

from critmin.atlas.chain import SupplyChain
from critmin.atlas.schema import empty


def _prod(rows: list[tuple[str, str, str, int, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "material": m, "stage": s, "iso3": c, "year": y, "tonnes": t, "flag": f,
                "source": "usgs-mcs2026", "edition": "usgs-mcs2026", "primary": True,
                "value_text": "" if t != t else str(t), "unit_text": "metric tons", "basis": "Ga content",
            }
            for m, s, c, y, t, f in rows
        ]
    )  # fmt: skip


def tiny_chain() -> SupplyChain:
    """Material ``testium``: mine AUS 100, BRA 50, CAN 30; refine AUS 60, DEU 120, CAN withheld."""
    nan = float("nan")
    production = _prod(
        [
            ("testium", "mine", "AUS", 2024, 100.0, "observed"),
            ("testium", "mine", "BRA", 2024, 50.0, "observed"),
            ("testium", "mine", "CAN", 2024, 30.0, "estimated"),
            ("testium", "refine", "AUS", 2024, 60.0, "observed"),
            ("testium", "refine", "DEU", 2024, 120.0, "observed"),
            ("testium", "refine", "CAN", 2024, nan, "withheld"),
        ]
    )
    trade = pd.DataFrame(
        {
            "year": [2024, 2024, 2024],
            "exporter": ["BRA", "BRA", "DEU"],
            "importer": ["DEU", "AUS", "USA"],
            "hs6": ["261790", "261790", "811292"],
            "material": ["testium", "testium", "testium"],
            "stage": ["mine", "mine", "refine"],
            "value_usd": [30.0, 10.0, 99.0],
        }
    )
    materials = pd.DataFrame(
        {
            "slug": ["testium"], "name": ["Testium"], "basis": ["Ts content"],
            "stages": ["mine;refine;magnet"], "usgs_chapter": ["TESTIUM"], "critical_us_2025": [True],
        }
    )  # fmt: skip
    prices = pd.DataFrame(
        {
            "material": ["testium"] * 2, "year": [2023, 2024], "usd_per_t": [1000.0, 1500.0],
            "series": ["Ts metal"] * 2, "unit_text": ["dollars per kilogram"] * 2,
            "source": ["usgs-mcs2026"] * 2,
        }
    )  # fmt: skip
    imports = pd.DataFrame({"material": ["testium"] * 2, "iso3": ["DEU", "AUS"], "share": [0.7, 0.3]})
    return SupplyChain(
        production=production,
        world_totals=empty("world_totals"),
        reconciliation=empty("reconciliation"),
        materials=materials,
        groups={"ministerial-2026": frozenset({"AUS", "DEU", "USA"}), "china": frozenset({"CHN"})},
        trade=trade,
        wgi=empty("wgi"),
        us_nir=empty("us_nir"),
        us_import_sources=imports,
        prices=prices,
        editions={"usgs-mcs2026": "USGS MCS 2026 (test)"},
    )
