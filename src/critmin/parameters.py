"""Model parameters: one table of value, unit and source (or ``assumption``), overridable per run.

Every CSV in ``critmin/data/parameters/`` has the columns of :data:`PARAMETER_COLUMNS`; each model keeps
its own file (``market.csv``, ``vault.csv``, ...). ``material`` is a material slug or ``default``;
:meth:`ParameterSet.get` falls back from the material to ``default``. ``basis`` is one of ``published``,
``derived``, ``calibrated`` or ``assumption``; an assumption is a number no source fixes, documented in
``note`` and in the model's methods page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from io import StringIO

import pandas as pd

PARAMETER_COLUMNS = ["name", "material", "value", "unit", "basis", "source", "note"]
BASES = {"published", "derived", "calibrated", "assumption"}


class ParameterError(KeyError):
    """A parameter that is not in the table (for this material or as ``default``)."""


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
        """A new set with extra overrides (later ones win)."""
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
