"""Parse the IEA Critical Minerals Dataset (May 2025) supply table: 2024 observed mining and refining.

The six IEA blocks map to atlas materials as below; ``kt`` is converted to tonnes. ``Total`` rows go to world
totals, ``Rest of world`` to ``OTH``. Projections (2030-2040) are not taken.
"""

from __future__ import annotations

import math
from importlib.resources.abc import Traversable
from io import StringIO

import pandas as pd

from critmin.atlas.countries import resolve
from critmin.atlas.usgs import Parsed

IEA_FILE = "iea_critical_minerals_2025/iea_cm_supply_mining_refining_by_country.csv"
EDITION = "iea-cm-2025"
KT = 1e3

# (IEA mineral, IEA stage) -> (material, stage, basis)
IEA_MAP: dict[tuple[str, str], tuple[str, str, str]] = {
    ("Copper", "mining"): ("copper", "mine", "copper content"),
    ("Copper", "refining"): ("copper", "refine", "copper content (refined copper)"),
    ("Cobalt", "mining"): ("cobalt", "mine", "cobalt content"),
    ("Cobalt", "refining"): ("cobalt", "refine", "cobalt content (refined cobalt products)"),
    ("Lithium", "mining"): ("lithium", "mine", "lithium content"),
    ("Lithium", "refining"): ("lithium", "refine", "lithium content (lithium chemicals)"),
    ("Nickel", "mining"): ("nickel", "mine", "nickel content"),
    ("Nickel", "refining"): ("nickel", "refine", "nickel content (refined nickel, IEA scope)"),
    ("Graphite", "mining"): ("graphite", "mine", "natural graphite"),
    ("Graphite", "refining"): ("battery-graphite", "refine", "battery-grade graphite (natural + synthetic)"),
    ("Rare Earth Elements", "mining"): (
        "magnet-rare-earths",
        "mine",
        "magnet rare earths (Nd, Pr, Dy, Tb) oxide",
    ),
    ("Rare Earth Elements", "refining"): (
        "magnet-rare-earths",
        "refine",
        "magnet rare earths (Nd, Pr, Dy, Tb) oxide",
    ),
}


class IeaDataError(ValueError):
    """An IEA row outside the documented layout."""


def parse_iea(raw: Traversable) -> Parsed:
    """2024 observed rows of the IEA supply table as production and world-total rows (tonnes)."""
    text = raw.joinpath(IEA_FILE).read_text(encoding="utf-8")
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    prod: list[dict[str, object]] = []
    world: list[dict[str, object]] = []
    for i, r in df.iterrows():
        if r["is_projection"] != "False":
            continue
        where = f"{IEA_FILE} row {int(str(i)) + 2}"
        key = (r["mineral"], r["stage"])
        if key not in IEA_MAP:
            raise IeaDataError(f"{where}, columns mineral/stage: {key!r}; expected one of {sorted(IEA_MAP)}")
        material, stage, basis = IEA_MAP[key]
        try:
            kt = float(r["value_kt"])
        except ValueError as exc:
            raise IeaDataError(f"{where}, column value_kt: {r['value_kt']!r}; expected a number") from exc
        if not math.isfinite(kt) or kt < 0:
            raise IeaDataError(f"{where}, column value_kt: {r['value_kt']!r}; expected a finite number >= 0")
        ref = resolve(r["country"], "iea")
        base: dict[str, object] = {
            "material": material,
            "stage": stage,
            "year": int(r["year"]),
            "tonnes": kt * KT,
            "source": "iea",
            "edition": EDITION,
            "value_text": r["value_kt"],
        }
        if ref.kind == "world":
            world.append(base)
            continue
        base.update(iso3=ref.code, flag="observed", primary=False, unit_text="kt", basis=basis)
        prod.append(base)
    return Parsed(pd.DataFrame(prod), pd.DataFrame(world))
