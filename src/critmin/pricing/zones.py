"""Two-zone price paths for the mechanisms: the disruption engine's zones on the calibrated baseline.

One price model (docs/methods/price-paths.md): the no-event baseline is the calibrated mean-reverting
process of :mod:`critmin.pricing.price_paths` (one world price: both zones equal); an event run through the
disruption engine moves the two zones by the engine's price indices (1 = no change)::

    outside[path, t]    = baseline[path, t] * index_outside[path, t]
    restrictor[path, t] = baseline[path, t] * index_restrictor[path, t]
    landed[path, t]     = outside[path, t] * (1 + landed_cost_markup)

A mechanism names the price it references: ``outside`` (the outside-zone benchmark, e.g. NdPr ex-China),
``china`` (the restricting zone's domestic price) or ``landed`` (a member's landed import price).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from critmin.disruption.montecarlo import MonteCarloResult
from critmin.disruption.simulate import ShockResult
from critmin.parameters import ParameterSet

FloatArray = NDArray[np.float64]
REFERENCES: tuple[str, ...] = ("outside", "china", "landed")
#: pricing material -> the disruption engine's material whose zones it follows
DISRUPTION_MATERIAL = {"ndpr-oxide": "magnet-rare-earths"}


class ZoneError(ValueError):
    """Price paths that cannot be used as asked (shape, horizon, missing zone, unknown reference)."""


@dataclass(frozen=True)
class ZonePrices:
    """Price paths ``[path, month]`` in USD/t of both zones of one material.

    ``restrictor`` is ``None`` when the source carries no restricting-zone path (the Monte Carlo result).
    """

    material: str
    outside: FloatArray
    restrictor: FloatArray | None
    source: str
    restrictor_iso3: str = "CHN"

    def __post_init__(self) -> None:
        for name in ("outside", "restrictor"):
            a = getattr(self, name)
            if a is None:
                continue
            if a.ndim != 2 or not np.isfinite(a).all() or (a <= 0).any():
                raise ZoneError(f"{name} prices: shape {a.shape}; expected [path, month] of positive USD/t")
        if self.restrictor is not None and self.restrictor.shape != self.outside.shape:
            raise ZoneError(f"restrictor shape {self.restrictor.shape} != outside {self.outside.shape}")

    @property
    def shape(self) -> tuple[int, int]:
        """(paths, months)."""
        return (int(self.outside.shape[0]), int(self.outside.shape[1]))

    def landed(self, params: ParameterSet | None = None) -> FloatArray:
        """A member's landed import price: the outside price plus freight and insurance."""
        markup = (params or ParameterSet()).get("landed_cost_markup", self.material)
        return self.outside * (1.0 + markup)

    def price(self, reference: str, params: ParameterSet | None = None) -> FloatArray:
        """The referenced price paths (``outside``, ``china`` or ``landed``)."""
        if reference == "outside":
            return self.outside
        if reference == "landed":
            return self.landed(params)
        if reference == "china":
            if self.restrictor is None:
                raise ZoneError(
                    f"{self.source}: no China (restricting-zone) price paths; run a scenario through "
                    "critmin.disruption.simulate (from_shock) to reference the China domestic price"
                )
            return self.restrictor
        raise ZoneError(f"reference: {reference!r}; expected one of {', '.join(REFERENCES)}")

    def scaled(self, outside: ArrayLike, restrictor: ArrayLike | None = None, source: str = "") -> ZonePrices:
        """Both zones multiplied by price indices (broadcast over paths)."""
        out = self.outside * np.asarray(outside, dtype=float)
        res = (
            None
            if self.restrictor is None
            else self.restrictor * np.asarray(outside if restrictor is None else restrictor, dtype=float)
        )
        return replace(self, outside=out, restrictor=res, source=source or self.source)


def from_array(material: str, paths: ArrayLike, source: str = "user") -> ZonePrices:
    """Paths given directly: one world price, both zones equal."""
    p = np.asarray(paths, dtype=float)
    return ZonePrices(material, p, p, source)


def baseline(material: str, paths: ArrayLike, source: str) -> ZonePrices:
    """The no-event baseline (the calibrated process): both zones at the same price."""
    return from_array(material, paths, f"{source} (no event)")


def engine_material(material: str, materials: list[str]) -> int:
    """Row of ``material`` (or the engine material it follows) in an engine result."""
    name = material if material in materials else DISRUPTION_MATERIAL.get(material, material)
    if name not in materials:
        raise ZoneError(f"material {material!r} is not modelled by the disruption engine ({materials})")
    return materials.index(name)


def _check_horizon(base: ZonePrices, months: int, what: str) -> None:
    if months < base.shape[1]:
        raise ZoneError(f"{what}: {months} months of engine paths; the price paths need {base.shape[1]}")


def from_shock(base: ZonePrices, shock: ShockResult) -> ZonePrices:
    """One engine scenario on every baseline path: outside and restricting-zone indices of the material."""
    i = engine_material(base.material, shock.materials)
    months = base.shape[1]
    _check_horizon(base, shock.price_outside.shape[1], f"scenario {shock.scenario.name}")
    out = np.asarray(shock.price_outside[i, :months], dtype=float)[None, :]
    res = np.asarray(shock.price_restrictor[i, :months], dtype=float)[None, :]
    restrictors = shock.restrictors.get(shock.materials[i], [])
    zp = base.scaled(out, res, source=f"{base.source} x engine scenario {shock.scenario.name}")
    return replace(zp, restrictor_iso3="+".join(restrictors) or "CHN")


def from_monte_carlo(base: ZonePrices, mc: MonteCarloResult) -> ZonePrices:
    """Monte Carlo scenario ``s`` on baseline path ``s`` (outside zone only: the result has no restrictor
    paths, so referencing the China price raises)."""
    if mc.price_index_outside is None:
        raise ZoneError("Monte Carlo result has no price paths; run it with keep_paths=True")
    i = engine_material(base.material, mc.materials)
    idx = np.asarray(mc.price_index_outside[:, i, :], dtype=float)
    if idx.shape[0] != base.shape[0]:
        raise ZoneError(f"Monte Carlo: {idx.shape[0]} scenarios for {base.shape[0]} baseline paths")
    _check_horizon(base, idx.shape[1], "Monte Carlo")
    out = base.outside * idx[:, : base.shape[1]]
    return ZonePrices(base.material, out, None, f"{base.source} x disruption Monte Carlo")
