"""Documented ranges of the market parameters, and draws within them (Monte Carlo and sensitivity).

``critmin/data/parameter_ranges.csv`` gives ``low`` and ``high`` per parameter (``default`` rows, with the
source of the range). A material with its own central value in the parameter table gets the default range
scaled by ``value / default value of the table`` (the same relative spread; an override to 0 switches
the range off); a central value outside its range widens the range to include it. Draws are triangular
with the mode at the central value: it stays the most likely one and no draw leaves the range.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from critmin.parameters import ParameterSet

FloatArray = NDArray[np.float64]
RANGES_FILE = "parameter_ranges.csv"
RANGE_COLUMNS = ["name", "material", "low", "high", "source", "note"]

#: parameter name -> field of :class:`critmin.disruption.kernel.KernelParams`
KERNEL_FIELD: dict[str, str] = {
    "price_elasticity_demand_short_run": "ed_sr",
    "price_elasticity_demand_long_run": "ed_lr",
    "price_elasticity_supply_short_run": "es_sr",
    "price_elasticity_supply_long_run": "es_lr",
    "restrictor_supply_elasticity": "es_restrictor",
    "elasticity_adjustment_months": "adjust_months",
    "spare_capacity_share": "spare_share",
    "spare_capacity_restart_months": "spare_restart_months",
    "spare_capacity_ramp_months": "spare_ramp_months",
    "commercial_inventory_days": "inventory_days",
    "inventory_max_draw_share": "inventory_draw",
    "storage_release_elasticity": "storage_sigma",
    "precautionary_demand_share": "precaution",
    "price_cap_index": "cap",
    "price_floor_index": "floor",
}


class RangeError(ValueError):
    """A row of ``parameter_ranges.csv`` that cannot be used (names the row, field and value)."""


@dataclass(frozen=True)
class Range:
    """One documented range."""

    name: str
    material: str
    low: float
    high: float
    source: str
    note: str


@cache
def load_ranges() -> tuple[Range, ...]:
    """The bundled ranges, validated (``low < high``, a known kernel parameter, no duplicates)."""
    text = resources.files("critmin.data").joinpath(RANGES_FILE).read_text(encoding="utf-8")
    return parse_ranges(text)


def parse_ranges(text: str, file: str = RANGES_FILE) -> tuple[Range, ...]:
    """Parse and validate a ranges CSV (columns :data:`RANGE_COLUMNS`)."""
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in RANGE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RangeError(f"{file}: missing columns {missing}; expected {RANGE_COLUMNS}")
    out: list[Range] = []
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(reader, start=2):
        if row["name"] not in KERNEL_FIELD:
            raise RangeError(
                f"{file} row {i}, column name: {row['name']!r}; expected a kernel parameter "
                f"({', '.join(sorted(KERNEL_FIELD))})"
            )
        try:
            low, high = float(row["low"]), float(row["high"])
        except ValueError:
            raise RangeError(
                f"{file} row {i}, columns low/high: {row['low']!r}, {row['high']!r}; expected numbers"
            ) from None
        if not low < high:
            raise RangeError(f"{file} row {i}, columns low/high: {low} >= {high}; expected low < high")
        key = (row["name"], row["material"])
        if key in seen:
            raise RangeError(
                f"{file} row {i}: {key} appears twice; expected one range per parameter and material"
            )
        seen.add(key)
        out.append(Range(row["name"], row["material"], low, high, row["source"], row["note"]))
    return tuple(out)


@dataclass(frozen=True)
class ParameterRanges:
    """Per-material triangular ranges of the drawn parameters: arrays ``[parameter, material]``."""

    names: tuple[str, ...]
    low: FloatArray
    mode: FloatArray
    high: FloatArray

    def quantile(self, u: FloatArray, rows: NDArray[np.int64] | slice = slice(None)) -> FloatArray:
        """Inverse triangular CDF: ``u [..., parameter]`` in [0, 1) with columns ``rows`` of the materials
        -> values ``[..., parameter]`` (``u`` broadcasts against ``low[:, rows].T``)."""
        lo, md, hi = self.low[:, rows].T, self.mode[:, rows].T, self.high[:, rows].T
        span = hi - lo
        cut = np.divide(md - lo, span, out=np.zeros_like(span), where=span > 0)
        left = lo + np.sqrt(u * span * (md - lo))
        right = hi - np.sqrt((1.0 - u) * span * (hi - md))
        return np.where(u < cut, left, right)


def material_ranges(
    ps: ParameterSet, materials: list[str], names: tuple[str, ...] | None = None
) -> ParameterRanges:
    """Ranges of ``names`` (default: every parameter with a range) for each material, around the values in
    force in ``ps`` (overrides included)."""
    table = {(r.name, r.material): r for r in load_ranges()}
    documented = ParameterSet(ps.table)  # the table's values, without overrides: the ranges' centre
    chosen = names if names is not None else tuple(dict.fromkeys(r.name for r in load_ranges()))
    P, M = len(chosen), len(materials)
    low, mode, high = np.zeros((P, M)), np.zeros((P, M)), np.zeros((P, M))
    for j, name in enumerate(chosen):
        base = table.get((name, "default"))
        ref = documented.get(name)
        for i, m in enumerate(materials):
            v = ps.get(name, m)
            r = table.get((name, m), base)
            if r is None:
                raise RangeError(f"{RANGES_FILE}: no range for {name!r} (material {m!r} or default)")
            lo, hi = r.low, r.high
            if r.material == "default" and ref != 0 and v != ref:
                lo, hi = sorted((r.low * v / ref, r.high * v / ref))
            mode[j, i], low[j, i], high[j, i] = v, min(lo, v), max(hi, v)
    return ParameterRanges(chosen, low, mode, high)
