"""A tiny hand-made supply chain (three materials, a handful of countries) for fast disruption tests."""

from __future__ import annotations

import pandas as pd
import pytest

from critmin.atlas.chain import SupplyChain
from critmin.atlas.schema import COLUMNS, empty

PRODUCTION = [
    # material, stage, iso3, tonnes
    ("gallium", "refine", "CHN", 900.0),
    ("gallium", "refine", "JPN", 50.0),
    ("gallium", "refine", "RUS", 50.0),
    ("cobalt", "mine", "COD", 700.0),
    ("cobalt", "mine", "AUS", 100.0),
    ("cobalt", "mine", "OTH", 200.0),
    ("cobalt", "refine", "CHN", 750.0),
    ("cobalt", "refine", "FIN", 100.0),
    ("cobalt", "refine", "OTH", 150.0),
    ("lithium", "mine", "AUS", 100.0),
    ("lithium", "mine", "CHL", 60.0),
    ("lithium", "mine", "CHN", 40.0),
]
TRADE = [
    # exporter, importer, material, value_usd, tonnes (gross weight; NaN = no quantity)
    ("CHN", "USA", "gallium", 40.0, float("nan")),
    ("CHN", "JPN", "gallium", 40.0, float("nan")),
    ("CHN", "DEU", "gallium", 20.0, float("nan")),
    ("COD", "CHN", "cobalt", 80.0, 200.0),
    ("CHN", "USA", "cobalt", 10.0, 20.0),
    ("CHN", "JPN", "cobalt", 10.0, float("nan")),  # no quantity: value / unit value (10 / 0.4 = 25 t)
    ("AUS", "CHN", "lithium", 70.0, 100.0),
    ("CHL", "USA", "lithium", 30.0, 50.0),
]
GDP = {"USA": 60.0, "CHN": 30.0, "JPN": 10.0}  # hand-made, year 2023
WGI = {"CHN": -0.5, "COD": -1.5, "AUS": 1.5, "JPN": 1.2, "RUS": -1.0, "FIN": 1.9, "CHL": 0.9}
PRICES = {"gallium": 365_000.0, "cobalt": 33_000.0, "lithium": 10_000.0}


def tiny_chain() -> SupplyChain:
    prod = pd.DataFrame(
        [
            {
                "material": m,
                "stage": s,
                "iso3": c,
                "year": 2024,
                "tonnes": t,
                "flag": "observed",
                "source": "fixture",
                "edition": "fixture",
                "primary": True,
                "value_text": str(t),
                "unit_text": "t",
                "basis": "content",
            }
            for m, s, c, t in PRODUCTION
        ]
    )[COLUMNS["production"]]
    world = prod.groupby(["material", "stage"], as_index=False)["tonnes"].sum()
    world["year"] = 2024
    world["source"] = "fixture"
    world["edition"] = "fixture"
    world["value_text"] = world["tonnes"].astype(str)
    trade = pd.DataFrame(
        [
            {
                "year": 2024,
                "exporter": e,
                "importer": i,
                "hs6": "000000",
                "material": m,
                "stage": "refine",
                "value_usd": v,
                "tonnes": q,
            }
            for e, i, m, v, q in TRADE
        ]
    )[COLUMNS["trade"]]
    wgi = pd.DataFrame(
        [
            {"iso3": c, "year": 2023, "indicator": ind, "estimate": v}
            for c, v in WGI.items()
            for ind in ("GE", "RQ")
        ]
    )
    prices = pd.DataFrame(
        [
            {
                "material": m,
                "year": 2024,
                "usd_per_t": v,
                "series": "fixture",
                "unit_text": "t",
                "source": "fixture",
            }
            for m, v in PRICES.items()
        ]
    )
    materials = pd.DataFrame(
        [
            {
                "slug": m,
                "name": m,
                "basis": "content",
                "stages": "mine;refine",
                "usgs_chapter": "",
                "critical_us_2025": True,
            }
            for m in PRICES
        ]
    )
    return SupplyChain(
        production=prod,
        world_totals=world[COLUMNS["world_totals"]],
        reconciliation=empty("reconciliation"),
        materials=materials,
        groups={
            "ministerial-2026": frozenset({"USA", "JPN", "DEU", "AUS", "FIN"}),
            "china": frozenset({"CHN"}),
            "g7": frozenset({"USA", "JPN", "DEU"}),
        },
        trade=trade,
        wgi=wgi,
        us_nir=empty("us_nir"),
        us_import_sources=empty("us_import_sources"),
        prices=prices,
        editions={"fixture": "hand-made tiny chain"},
        gdp=pd.DataFrame(
            [{"iso3": c, "year": 2023, "gdp_usd": v, "industry_va_usd": v / 4} for c, v in GDP.items()]
        )[COLUMNS["gdp"]],
    )


@pytest.fixture(scope="session")
def chain() -> SupplyChain:
    return tiny_chain()
