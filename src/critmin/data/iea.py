"""Parse the IEA Critical Minerals Dataset (May 2025) supply table: 2024 observed mining and refining.

The six IEA blocks map to atlas materials as below; ``kt`` is converted to tonnes. ``Total`` rows go to world
totals, ``Rest of world`` to ``OTH``. Projections (2030-2040, base case) go to a separate ``projections``
table (:func:`parse_iea_projections`), never into production.

Data fix: in some blocks the published ``Rest of world`` double-counts one listed country (listed + Rest of
world exceeds ``Total`` by exactly that country's value: nickel mining (Australia), nickel refining (Canada),
graphite mining (Tanzania), and some projection years). There ``Rest of world`` is re-derived as ``Total``
minus the listed countries (flag ``derived``, ``value_text`` names the inputs).
"""

from __future__ import annotations

import math
from importlib.resources.abc import Traversable
from io import StringIO

import pandas as pd

from critmin.atlas.countries import resolve
from critmin.data.usgs import Parsed

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


#: the excess of listed + Rest of world over Total that counts as a double-counted country (kt)
DOUBLE_COUNT_TOL_KT = 0.5


def fix_rest_of_world(prod: pd.DataFrame, world: pd.DataFrame) -> pd.DataFrame:
    """Re-derive ``OTH`` as Total minus the listed countries where the published value double-counts one
    listed country (the excess equals that country's value within :data:`DOUBLE_COUNT_TOL_KT`)."""
    out = prod.copy()
    for w in world.itertuples(index=False):
        block = out[(out["material"] == w.material) & (out["stage"] == w.stage) & (out["year"] == w.year)]
        oth = block[block["iso3"] == "OTH"]
        listed = block[block["iso3"] != "OTH"]
        if len(oth) != 1:
            continue
        excess = float(block["tonnes"].sum()) - float(str(w.tonnes))
        doubled = listed[(listed["tonnes"] - excess).abs() <= DOUBLE_COUNT_TOL_KT * KT]
        if excess <= DOUBLE_COUNT_TOL_KT * KT or doubled.empty:
            continue
        rest = float(str(w.tonnes)) - float(listed["tonnes"].sum())
        names = "+".join(sorted(doubled["iso3"]))
        i = oth.index[0]
        out.loc[i, "value_text"] = (
            f"Total {w.value_text} - listed countries (published Rest of world {oth['value_text'].iloc[0]} "
            f"double-counts {names})"
        )
        out.loc[i, "tonnes"] = rest
        out.loc[i, "flag"] = "derived"
    return out


def parse_iea(raw: Traversable) -> Parsed:
    """2024 observed rows of the IEA supply table as production and world-total rows (tonnes)."""
    prod, world = _parse(raw, projection=False)
    return Parsed(fix_rest_of_world(prod, world), world)


def parse_iea_projections(raw: Traversable) -> pd.DataFrame:
    """The 2030/2035/2040 base-case rows (``projections`` table; country rows and ``WLD`` totals)."""
    prod, world = _parse(raw, projection=True)
    prod = fix_rest_of_world(prod, world)
    world = world.assign(iso3="WLD", flag="projected", basis=prod["basis"].iloc[0] if len(prod) else "")
    both = pd.concat([prod, world], ignore_index=True)
    both["scenario"] = "IEA base case"
    return both


def _parse(raw: Traversable, projection: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    text = raw.joinpath(IEA_FILE).read_text(encoding="utf-8")
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    prod: list[dict[str, object]] = []
    world: list[dict[str, object]] = []
    for i, r in df.iterrows():
        if r["is_projection"] != ("True" if projection else "False"):
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
        flag = "projected" if projection else "observed"
        base.update(iso3=ref.code, flag=flag, primary=False, unit_text="kt", basis=basis)
        prod.append(base)
    return pd.DataFrame(prod), pd.DataFrame(world)
