"""Calibration of the parameters no source fixes to observed episode points (``docs/methods/calibration.md``).

Observed points (:data:`POINTS`) come from ``critmin/data/raw/episodes/calibration_episodes.md`` (sources
there per line); only episodes that began before 2024 are used. The free parameters (:data:`FREE`) each
have a documented plausible range; :func:`fit` minimises the sum of squared log ratios model / observed
with ``scipy.optimize.least_squares`` inside those ranges. :func:`evaluate` runs the episodes with any
parameter set; :func:`report_table` renders the table that ``critmin calibrate --report`` writes into the
methods page.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from critmin.disruption.compile import compile_scenario
from critmin.disruption.events import bundled_scenario
from critmin.disruption.inputs import MarketInputs, build_inputs
from critmin.disruption.kernel import KernelParams, propagate
from critmin.parameters import ParameterSet

BAND = 1.35  # target: every observed point within this factor
REPORT_BEGIN = "<!-- calibration-table:begin (critmin calibrate --report) -->"
REPORT_END = "<!-- calibration-table:end -->"


@dataclass(frozen=True)
class ObservedPoint:
    """One observed price multiple of an episode (month 0 = the scenario's first month)."""

    episode: str  # bundled scenario name
    material: str
    zone: str  # "outside" or "restrictor"
    month: int
    label: str  # calendar month
    observed: float
    basis: str  # how the multiple follows from the quoted prices


POINTS: tuple[ObservedPoint, ...] = (
    ObservedPoint(
        "gallium-2023", "gallium", "restrictor", 0, "2023-08", 0.91, "China domestic -9% in Aug 2023 (SMM)"
    ),
    ObservedPoint(
        "gallium-2023",
        "gallium",
        "restrictor",
        1,
        "2023-09",
        1.10,
        "China domestic ~2,000 CNY/kg late Sept 2023 / (1,655 / 0.91) (SMM)",
    ),
    ObservedPoint(
        "gallium-2023",
        "gallium",
        "outside",
        2,
        "2023-10",
        1.65,
        "Rotterdam 400-450 USD/kg (Oct 2023) / 250-265 (30 Jun 2023), midpoints (Fastmarkets, Argus)",
    ),
    ObservedPoint(
        "gallium-2023",
        "gallium",
        "outside",
        4,
        "2023-12",
        2.14,
        "Rotterdam 500-600 USD/kg (15 Dec 2023) / 250-265 (30 Jun 2023), midpoints (Fastmarkets, Argus)",
    ),
    ObservedPoint(
        "germanium-2023",
        "germanium",
        "outside",
        14,
        "2024-10",
        2.6,
        "germanium ~2,600 USD/kg (Oct 2024) / ~1,000 (early 2023) (Fastmarkets as reported in the press)",
    ),
    ObservedPoint(
        "rare-earths-2010",
        "magnet-rare-earths",
        "outside",
        6,
        "2010-07",
        2.0,
        "Nd and Dy metal ~2x from Jan to mid-2010 (Japan Metal Bulletin)",
    ),
    ObservedPoint(
        "rare-earths-2010",
        "rare-earths",
        "outside",
        6,
        "2010-07",
        4.13,
        "La oxide 3.7x and Ce oxide 4.6x from Jan to mid-2010, geometric mean (Japan Metal Bulletin)",
    ),
)

# points the model cannot meet honestly on the bundled data, with the reason (printed in the report)
NOT_MET: dict[tuple[str, str, int], str] = {}

# free parameter -> (kernel field, plausible low, plausible high); documented on the methods page
FREE: dict[tuple[str, str], tuple[str, float, float]] = {
    ("restrictor_supply_elasticity", "default"): ("es_restrictor", 0.3, 3.0),
    ("inventory_max_draw_share", "default"): ("inventory_draw", 0.05, 0.5),
    ("storage_release_elasticity", "default"): ("storage_sigma", 0.5, 10.0),
    ("commercial_inventory_days", "gallium"): ("inventory_days", 30.0, 365.0),
}


@dataclass(frozen=True)
class PointResult:
    """An observed point next to the model's multiple."""

    point: ObservedPoint
    model: float

    @property
    def ratio(self) -> float:
        """``model / observed``."""
        return self.model / self.point.observed


@dataclass(frozen=True)
class Calibration:
    """Model against every observed point for one parameter set."""

    points: list[PointResult]
    values: dict[tuple[str, str], float]  # free parameter values used

    @property
    def error(self) -> float:
        """Sum of squared log ratios (the fit's objective)."""
        return float(sum(np.log(r.ratio) ** 2 for r in self.points))

    @property
    def worst_factor(self) -> float:
        """Largest factor between model and observed, ``max(ratio, 1 / ratio)``."""
        return float(max(max(r.ratio, 1.0 / r.ratio) for r in self.points))


@dataclass(frozen=True)
class _Episode:
    inputs: MarketInputs
    a: np.ndarray
    c: np.ndarray
    withheld: np.ndarray
    extra_gap: np.ndarray


def _episodes(atlas: Any, params: ParameterSet) -> dict[str, _Episode]:
    """Inputs and compiled arrays of every episode, restricted to its named materials (built once)."""
    out: dict[str, _Episode] = {}
    for name in sorted({p.episode for p in POINTS}):
        sc = bundled_scenario(name)
        ps = params.with_overrides(sc.overrides()) if sc.parameters else params
        mats = sorted({e.material for e in sc.events})
        inp = build_inputs(atlas, ps, materials=mats, as_of=sc.start)
        comp = compile_scenario(inp, sc)
        out[name] = _Episode(inp, comp.a, comp.c, comp.withheld, comp.extra_gap)
    return out


def _with_values(inp: MarketInputs, values: Mapping[tuple[str, str], float]) -> KernelParams:
    """The episode's kernel parameters with the free ones set (a ``default`` value reaches only the
    materials without a row of their own, as in :class:`ParameterSet`)."""
    table = inp.parameters.table
    own = set(zip(table["name"].astype(str), table["material"].astype(str), strict=True))
    kp = inp.kernel
    fields: dict[str, np.ndarray] = {}
    for (name, mat), v in values.items():
        field = FREE[(name, mat)][0]
        arr = fields.get(field, getattr(kp, field).copy())
        for i, m in enumerate(inp.materials):
            if m == mat or (mat == "default" and (name, m) not in own and (name, m) not in FREE):
                arr[i] = v
        fields[field] = arr
    return dataclasses.replace(kp, **fields)


def _run(episodes: Mapping[str, _Episode], values: Mapping[tuple[str, str], float]) -> list[PointResult]:
    results = []
    cache: dict[str, Any] = {}
    for pt in POINTS:
        ep = episodes[pt.episode]
        if pt.episode not in cache:
            kp = _with_values(ep.inputs, values)
            cache[pt.episode] = propagate(kp, ep.a, ep.c, ep.withheld, ep.extra_gap, keep_paths=True)
        out = cache[pt.episode]
        path = out.price_outside if pt.zone == "outside" else out.price_restrictor
        assert path is not None
        i = ep.inputs.index(pt.material)
        results.append(PointResult(pt, float(path[0, i, pt.month])))
    return results


def current_values(params: ParameterSet | None = None) -> dict[tuple[str, str], float]:
    """The free parameters' values in a parameter set (default: the bundled table)."""
    ps = params if params is not None else ParameterSet()
    return {k: float(ps.get(*k)) for k in FREE}


def evaluate(atlas: Any, params: ParameterSet | None = None) -> Calibration:
    """Run every episode with ``params`` and compare with the observed points."""
    ps = params if params is not None else ParameterSet()
    values = current_values(ps)
    return Calibration(_run(_episodes(atlas, ps), values), values)


def fit(atlas: Any, params: ParameterSet | None = None) -> Calibration:
    """Least-squares fit of the free parameters in log ratio, each bounded to its plausible range."""
    ps = params if params is not None else ParameterSet()
    episodes = _episodes(atlas, ps)
    keys = list(FREE)
    lo = np.array([FREE[k][1] for k in keys])
    hi = np.array([FREE[k][2] for k in keys])
    x0 = np.clip(np.array([current_values(ps)[k] for k in keys]), lo, hi)

    def residuals(x: np.ndarray) -> np.ndarray:
        res = _run(episodes, dict(zip(keys, x.tolist(), strict=True)))
        return np.array([np.log(r.ratio) for r in res])

    # several starts (the current values, the middle of the box, a fixed spread): the best local optimum
    starts = [
        x0,
        0.5 * (lo + hi),
        *(lo + (hi - lo) * u for u in np.random.default_rng(0).random((3, len(keys)))),
    ]
    best = None
    for start in starts:
        sol = least_squares(residuals, start, bounds=(lo, hi), x_scale=hi - lo, diff_step=1e-4)
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    values = dict(zip(keys, (float(v) for v in best.x), strict=True))
    return Calibration(_run(episodes, values), values)


def report_table(cal: Calibration) -> str:
    """Markdown table: episode, month, observed, model, ratio (the block ``--report`` writes)."""
    lines = [
        "| episode | material, zone | month | observed | model | ratio | within 1.35x |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in cal.points:
        p = r.point
        ok = "yes" if 1.0 / BAND <= r.ratio <= BAND else "**no**"
        lines.append(
            f"| {p.episode} | {p.material}, {p.zone} | {p.month} ({p.label}) | {p.observed:.2f} | "
            f"{r.model:.3f} | {r.ratio:.3f} | {ok} |"
        )
    free = ", ".join(
        f"`{n}`{'' if m == 'default' else f'[{m}]'} = {v:.4g}" for (n, m), v in cal.values.items()
    )
    lines += [
        "",
        f"{len(cal.points)} observed points, {len(cal.values)} free parameters ({free}); "
        f"worst factor {cal.worst_factor:.3f}, sum of squared log ratios {cal.error:.4f}.",
    ]
    for r in cal.points:
        p = r.point
        reason = NOT_MET.get((p.episode, p.material, p.month))
        if reason and not 1.0 / BAND <= r.ratio <= BAND:
            lines.append(f"Not met: {p.episode} {p.material} month {p.month}: {reason}.")
    return "\n".join(lines)


def write_report(text: str, page: str) -> str:
    """``page`` with the block between the report markers replaced by ``text``."""
    if REPORT_BEGIN not in page or REPORT_END not in page:
        raise ValueError(f"calibration page: markers {REPORT_BEGIN!r} and {REPORT_END!r} not found")
    head, rest = page.split(REPORT_BEGIN, 1)
    _, tail = rest.split(REPORT_END, 1)
    return f"{head}{REPORT_BEGIN}\n{text}\n{REPORT_END}{tail}"
