"""Volume schedules for the mechanisms: tonnes per year, flat or year by year, or a project's capacity ramp.

A schedule is a tuple of tonnes per year (year 1 first); each year's tonnes are spread evenly over its 12
months. A project's ramp (docs/methods/mechanisms.md, volume paths)::

    output[y] = capacity * factor * min(1, (y - first_year + 1) / (ramp_years + 1))   (0 before first_year)

(the planning convention: ``(k + 1) / (R + 1)`` of capacity in operating year ``k``, full from year ``R``).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from io import StringIO

import numpy as np
import pandas as pd
from numpy.typing import NDArray

MONTHS_PER_YEAR = 12
Volume = float | tuple[float, ...]


def as_schedule(volume: float | Sequence[float], what: str = "volume_t_per_year") -> Volume:
    """Validate a flat volume or a year-by-year schedule (tonnes per year, each >= 0)."""
    if isinstance(volume, int | float):
        v = float(volume)
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{what}: {volume}; expected tonnes per year >= 0")
        return v
    sched = tuple(float(x) for x in volume)
    if not sched or not all(np.isfinite(x) and x >= 0 for x in sched):
        raise ValueError(f"{what}: {list(volume)}; expected a non-empty list of tonnes per year >= 0")
    return sched


def monthly(volume: Volume, months: int, what: str = "volume_t_per_year") -> NDArray[np.float64]:
    """Tonnes per month ``[month]`` over ``months`` (a schedule must cover the whole horizon)."""
    if isinstance(volume, float | int):
        return np.full(months, float(volume) / MONTHS_PER_YEAR)
    years = -(-months // MONTHS_PER_YEAR)
    if len(volume) < years:
        raise ValueError(f"{what}: schedule covers {len(volume)} years; the horizon needs {years}")
    return np.repeat(np.asarray(volume[:years], dtype=float) / MONTHS_PER_YEAR, MONTHS_PER_YEAR)[:months]


def total_t(volume: Volume, months: int) -> float:
    """Tonnes covered over the horizon."""
    return float(monthly(volume, months).sum())


def project_ramp(
    capacity_t: float, first_year: int, ramp_years: float, start_year: int, years: int, factor: float = 1.0
) -> tuple[float, ...]:
    """Output of a project year by year from ``start_year``: linear ramp to capacity from ``first_year``."""
    if capacity_t < 0 or ramp_years < 0 or years < 1:
        raise ValueError(
            f"project ramp: capacity {capacity_t}, ramp {ramp_years}, years {years}; expected >= 0"
        )
    y = np.arange(start_year, start_year + years)
    frac = np.where(y < first_year, 0.0, np.minimum(1.0, (y - first_year + 1) / (ramp_years + 1)))
    return tuple(float(v) for v in capacity_t * factor * frac)


def read_schedule_csv(text: str, source: str) -> pd.DataFrame:
    """A volume schedule file: columns year, tonnes (and optional notes); years consecutive."""
    df = pd.read_csv(StringIO(text), comment="#")
    missing = {"year", "tonnes"} - set(df.columns)
    if missing:
        raise ValueError(f"{source}: missing column(s) {sorted(missing)}; expected year, tonnes")
    years = df["year"].to_numpy(int)
    if len(years) == 0 or (np.diff(years) != 1).any():
        raise ValueError(f"{source}, column year: {years.tolist()}; expected consecutive years")
    bad = df.index[~(pd.to_numeric(df["tonnes"], errors="coerce") >= 0)]
    if len(bad):
        row = int(bad[0]) + 2
        raise ValueError(f"{source}, row {row}, column tonnes: {df['tonnes'].iloc[bad[0]]!r}; expected >= 0")
    return df


def dod_mp_volume_path() -> pd.DataFrame:
    """The documented NdPr oxide volume path of the DoD-MP floor (examples/dod_mp_ndpr_volumes.csv)."""
    name = "dod_mp_ndpr_volumes.csv"
    text = resources.files("critmin.pricing").joinpath("examples", name).read_text(encoding="utf-8")
    return read_schedule_csv(text, f"critmin/pricing/examples/{name}")
