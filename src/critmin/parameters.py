"""Model parameters: one table of value, unit and source (or ``assumption``), overridable per run.

Every CSV in ``critmin/data/parameters/`` has the columns of :data:`PARAMETER_COLUMNS`; each model keeps
its own file (``market.csv``, ``vault.csv``, ...). ``material`` is a material slug or ``default``;
:meth:`ParameterSet.get` falls back from the material to ``default``. ``basis`` is one of ``published``,
``derived``, ``calibrated`` or ``assumption``; an assumption is a number no source fixes, documented in
``note`` and in the model's methods page.

Overrides have one syntax everywhere, ``NAME[MATERIAL]=VALUE`` (``NAME=VALUE`` for ``default``):
:func:`parse_overrides` reads command-line items, :func:`parse_keyed` the ``parameters:`` of a scenario
file, and both check every name and material against the table (:func:`validate_overrides`), naming
close matches for a typo.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from io import StringIO

import pandas as pd

PARAMETER_COLUMNS = ["name", "material", "value", "unit", "basis", "source", "note"]
BASES = {"published", "derived", "calibrated", "assumption"}
OVERRIDE_SYNTAX = "NAME[MATERIAL]=VALUE"
#: overridable names that are not table rows (the value is derived at run time unless overridden), with
#: whether an override must name a material (``True``) or may also be a ``default`` for every material
DERIVED_NAMES: dict[str, bool] = {
    # planning.pipeline: class capex per t/yr of a named project's (material, stage), read per material
    "capex_usd_per_tpa_mine": True,
    "capex_usd_per_tpa_refine": True,
    # planning.classes: generic capacity class capex per t/yr, read per material with the default fallback
    "class_mine_capex_usd_per_tpa": False,
    "class_refine_capex_usd_per_tpa": False,
    "class_recycle_capex_usd_per_tpa": False,
}
_OVERRIDE_RE = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9_]+)\s*(?:\[\s*(?P<material>[^\]\s]+)\s*\])?\s*=\s*(?P<value>\S.*?)\s*$"
)
_KEY_RE = re.compile(r"^\s*(?P<name>[A-Za-z0-9_]+)\s*(?:\[\s*(?P<material>[^\]\s]+)\s*\])?\s*$")


class ParameterError(KeyError):
    """A parameter that is not in the table (for this material or as ``default``)."""


class OverrideError(ValueError):
    """A parameter override that does not parse or names an unknown parameter or material."""


def _close(word: str, choices: Iterable[str]) -> str:
    near = difflib.get_close_matches(word, sorted(set(choices)), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(near)}?" if near else ""


def known_materials(table: pd.DataFrame | None = None) -> set[str]:
    """Materials an override may name: ``default``, the atlas materials and the table's materials."""
    text = resources.files("critmin.data").joinpath("materials.csv").read_text(encoding="utf-8")
    slugs = {r["slug"] for r in csv.DictReader(StringIO(text))}
    t = load_parameter_table() if table is None else table
    return slugs | set(t["material"].astype(str)) | {"default"}


def validate_overrides(
    overrides: Mapping[tuple[str, str], float], table: pd.DataFrame | None = None, where: str = "override"
) -> dict[tuple[str, str], float]:
    """``overrides`` checked against the table: known name, known material, finite value.

    Raises :class:`OverrideError` naming the entry, what was expected and the closest known names.
    """
    t = load_parameter_table() if table is None else table
    names = set(t["name"].astype(str)) | set(DERIVED_NAMES)
    materials = known_materials(t)
    out: dict[tuple[str, str], float] = {}
    for (name, material), value in overrides.items():
        label = f"{where} {name}[{material}]"
        if name not in names:
            raise OverrideError(f"{label}: unknown parameter {name!r}{_close(name, names)}")
        if material not in materials:
            raise OverrideError(f"{label}: unknown material {material!r}{_close(material, materials)}")
        if DERIVED_NAMES.get(name, False) and material == "default":
            raise OverrideError(f"{label}: {name} is per material; expected {name}[MATERIAL]=VALUE")
        if not math.isfinite(float(value)):
            raise OverrideError(f"{label}: value {value!r}; expected a finite number")
        out[(name, material)] = float(value)
    return out


def parse_overrides(
    items: Iterable[str], table: pd.DataFrame | None = None, where: str = "--param"
) -> dict[tuple[str, str], float]:
    """Command-line overrides ``NAME[MATERIAL]=VALUE`` (``NAME=VALUE`` means ``default``), validated."""
    raw: dict[tuple[str, str], float] = {}
    for item in items:
        hit = _OVERRIDE_RE.match(item)
        try:
            if hit is None:
                raise ValueError(item)
            value = float(hit["value"])
        except ValueError as exc:
            raise OverrideError(f"{where} {item!r}: expected NAME[MATERIAL]=NUMBER") from exc
        raw[(hit["name"], hit["material"] or "default")] = value
    return validate_overrides(raw, table, where)


def parse_keyed(
    parameters: Mapping[str, float], table: pd.DataFrame | None = None, where: str = "parameters"
) -> dict[tuple[str, str], float]:
    """A mapping ``{'NAME[MATERIAL]': value}`` (a scenario file's ``parameters:``), validated."""
    raw: dict[tuple[str, str], float] = {}
    for key, value in parameters.items():
        hit = _KEY_RE.match(key)
        if hit is None:
            raise OverrideError(f"{where} {key!r}: expected a key NAME or NAME[MATERIAL]")
        raw[(hit["name"], hit["material"] or "default")] = float(value)
    return validate_overrides(raw, table, where)


def load_parameter_table() -> pd.DataFrame:
    """All bundled parameter files as one validated table."""
    frames = []
    folder = resources.files("critmin.data").joinpath("parameters")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".csv"):
            continue
        df = pd.read_csv(StringIO(entry.read_text(encoding="utf-8")), dtype={"material": str})
        missing = [c for c in PARAMETER_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(
                f"parameters/{entry.name}: missing columns {missing}; expected {PARAMETER_COLUMNS}"
            )
        bad = df[~df["basis"].isin(BASES)]
        if len(bad):
            row = int(bad.index[0]) + 2
            raise ValueError(
                f"parameters/{entry.name} row {row}, column basis: {bad['basis'].iloc[0]!r}; expected one of "
                f"{sorted(BASES)}"
            )
        df["file"] = entry.name
        frames.append(df[[*PARAMETER_COLUMNS, "file"]])
    if not frames:
        return pd.DataFrame(columns=[*PARAMETER_COLUMNS, "file"])
    table = pd.concat(frames, ignore_index=True)
    dup = table.duplicated(["name", "material"], keep=False)
    if dup.any():
        first = table[dup].iloc[0]
        raise ValueError(f"parameter {first['name']!r} for {first['material']!r} is defined twice")
    return table


@dataclass(frozen=True)
class ParameterSet:
    """The bundled parameter table plus per-run overrides ``{(name, material): value}``."""

    table: pd.DataFrame = field(default_factory=load_parameter_table)
    overrides: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def get(self, name: str, material: str = "default") -> float:
        """Value for ``name`` and ``material``, falling back to the ``default`` row."""
        for key in ((name, material), (name, "default")):
            if key in self.overrides:
                return float(self.overrides[key])
        index = self._index
        for mat in (material, "default"):
            if (name, mat) in index:
                return index[(name, mat)]
        raise ParameterError(f"no parameter {name!r} for material {material!r} or 'default'")

    @cached_property
    def _index(self) -> dict[tuple[str, str], float]:
        """``(name, material) -> value`` of the table, for constant-time lookups."""
        t = self.table
        return {
            (str(n), str(m)): float(v)
            for n, m, v in zip(t["name"], t["material"], pd.to_numeric(t["value"]), strict=True)
        }

    def with_overrides(self, overrides: Mapping[tuple[str, str], float]) -> ParameterSet:
        """A new set with extra overrides (later ones win); an unknown name raises :class:`OverrideError`."""
        names = set(self.table["name"].astype(str)) | set(DERIVED_NAMES)
        for name, material in overrides:
            if name not in names:
                raise OverrideError(
                    f"override {name}[{material}]: unknown parameter {name!r}{_close(name, names)}"
                )
        return ParameterSet(self.table, {**self.overrides, **overrides})

    def used(self, names: list[str] | None = None) -> dict[str, float]:
        """Flat ``name[material] -> value`` of the effective parameters (for result metadata)."""
        t = self.table if names is None else self.table[self.table["name"].isin(names)]
        out = {
            f"{n}[{m}]": float(v)
            for n, m, v in zip(
                t["name"].astype(str), t["material"].astype(str), t["value"].astype(float), strict=True
            )
        }
        for (n, m), v in self.overrides.items():
            out[f"{n}[{m}]"] = float(v)
        return out

    def digest(self) -> str:
        """Short hash identifying the effective parameter values."""
        text = ";".join(f"{k}={v!r}" for k, v in sorted(self.used().items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]
