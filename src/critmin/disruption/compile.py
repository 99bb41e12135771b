"""Scenario (pydantic events) -> kernel arrays for one scenario (leading axis of length 1).

Rules (see ``docs/methods/disruption.md``):

* ``export_restriction``: the exporter (ISO3 or a group, pooled) has production share ``a`` of the
  event's stage and exports ``e = a * x`` where ``x`` is its export ratio at that stage from BACI tonnes
  (:meth:`MarketInputs.export_share_of`; the parameter ``restrictor_export_share`` where the material has
  a row of its own or no trade data at that stage, named in ``export_basis``); it withholds
  ``w = share * ramp(t) * e * tau * (1 - leakage)`` where ``tau`` is the targets' share of world imports
  (1 for ``all``) and leakage through third countries applies only when some countries are not targeted.
  A mine-stage restriction removes the same share of refine feedstock: in contained content the yield
  (refine / mine output) links the stages, so the withheld fraction carries to the market stage.
* The restrictor zone of a material is that of its largest restricting exporter; other restrictions on
  the same material add to the outside zone's gap.
* ``production_outage``: the country's share of the stage times ``share`` joins the outside gap.
* ``demand_shock``: ``share`` times the scope (sector share, a country's import share, or 1) of outside
  demand joins the gap (negative for a fall in demand).
* ``initial_balance[material] = b``: a market in surplus (``b > 0``) or deficit (``b < 0``) when the
  scenario starts: ``-b`` times outside demand joins the gap in every month of the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from critmin.disruption.events import DemandShock, ExportRestriction, ProductionOutage, Scenario
from critmin.disruption.inputs import InputError, MarketInputs


@dataclass(frozen=True)
class CompiledScenario:
    """Kernel arrays for one scenario plus the labels needed to report it."""

    a: np.ndarray  # [1, M]
    c: np.ndarray  # [1, M]
    withheld: np.ndarray  # [1, M, T] primary restrictor's withheld exports (fraction of world output)
    extra_gap: np.ndarray  # [1, M, T]
    restricted: np.ndarray  # [M, T] all withheld volume, fraction of world output
    restrictors: dict[str, list[str]] = field(default_factory=dict)  # material -> ISO3 of its zone
    targets: dict[str, list[str] | None] = field(default_factory=dict)  # material -> targets (None = all)
    named: list[str] = field(default_factory=list)  # materials named by any event
    export_basis: dict[str, str] = field(default_factory=dict)  # material -> basis of the export ratio


def _ramp(ev: ExportRestriction, horizon: int) -> np.ndarray:
    r = np.zeros(horizon)
    for k, t in enumerate(ev.active(horizon)):
        r[t] = 1.0 if ev.ramp_months == 0 else min(1.0, (k + 1) / ev.ramp_months)
    return r


def _stage_shares(inp: MarketInputs, i: int, material: str, stage: str, what: str) -> pd.Series:
    if stage not in inp.stages[material]:
        raise InputError(
            f"{what}: material {material!r} has no {stage!r} stage in the atlas (stages: "
            f"{', '.join(inp.stages[material])}); a missing stage is not modelled"
        )
    return inp.shares[(material, stage)]


def _resolve(inp: MarketInputs, code: str, what: str, field: str) -> list[str]:
    try:
        return inp.resolve(code)
    except InputError as err:
        raise InputError(f"{what}, field {field}: value {code!r}; {err}") from None


def _other_events(inp: MarketInputs, sc: Scenario, c: np.ndarray, extra: np.ndarray) -> None:
    """Pass 2: outages, demand shocks and the initial balance join the outside gap ``extra`` in place."""
    T = extra.shape[2]
    for k, ev in enumerate(sc.events):
        what = f"scenario {sc.name!r} event {k} ({ev.type})"
        i = inp.index(ev.material)
        active = np.zeros(T)
        active[ev.active(T)] = 1.0
        if isinstance(ev, ProductionOutage):
            sh = _stage_shares(inp, i, ev.material, ev.stage, what + ", field stage")
            lost = float(sh.reindex(_resolve(inp, ev.country, what, "country")).fillna(0.0).sum())
            if lost <= 0:
                raise InputError(
                    f"{what}, field country: value {ev.country!r}; no {ev.stage} production of "
                    f"{ev.material} in the atlas"
                )
            extra[0, i] += ev.share * lost * active
        elif isinstance(ev, DemandShock):
            if ev.sector is not None:
                if ev.sector not in inp.sectors:
                    raise InputError(
                        f"{what}, field sector: value {ev.sector!r}; expected one of {inp.sectors}"
                    )
                scope = float(inp.sector_share[i, inp.sectors.index(ev.sector)])
            elif ev.country is not None:
                imp = inp.trade_import_share.get(ev.material)
                if imp is None:
                    raise InputError(
                        f"{what}, field country: no trade rows for {ev.material!r} to size "
                        f"{ev.country}'s demand"
                    )
                scope = float(imp.reindex(_resolve(inp, ev.country, what, "country")).fillna(0.0).sum())
            else:
                scope = 1.0
            extra[0, i] += ev.share * scope * (1.0 - c[0, i]) * active
    for mat, bal in sc.initial_balance.items():
        try:
            i = inp.index(mat)
        except InputError as err:
            raise InputError(f"scenario {sc.name!r}, field initial_balance: {err}") from None
        extra[0, i] -= bal * (1.0 - c[0, i])


def compile_scenario(inp: MarketInputs, sc: Scenario) -> CompiledScenario:
    """Arrays for :func:`critmin.disruption.kernel.propagate`; errors name the event index and field."""
    M, T = len(inp.materials), sc.horizon_months
    a = np.zeros((1, M))
    c = np.zeros((1, M))
    withheld = np.zeros((1, M, T))
    extra = np.zeros((1, M, T))
    restricted = np.zeros((M, T))
    restrictors: dict[str, list[str]] = {}
    targets: dict[str, list[str] | None] = {}
    named: list[str] = []
    export_basis: dict[str, str] = {}
    # pass 1: export restrictions (the largest exporter of a material defines its restrictor zone)
    per_material: dict[int, list[tuple[float, float, np.ndarray, list[str], list[str] | None]]] = {}
    for k, ev in enumerate(sc.events):
        what = f"scenario {sc.name!r} event {k} ({ev.type})"
        try:
            i = inp.index(ev.material)
        except InputError as err:
            raise InputError(f"{what}, field material: {err}") from None
        if ev.material not in named:
            named.append(ev.material)
        if not isinstance(ev, ExportRestriction):
            continue
        sh = _stage_shares(inp, i, ev.material, ev.stage, what + ", field stage")
        exporters = _resolve(inp, ev.exporter, what, "exporter")
        a_ev = float(sh.reindex(exporters).fillna(0.0).sum())
        if a_ev <= 0:
            raise InputError(
                f"{what}, field exporter: value {ev.exporter!r}; no {ev.stage} production of "
                f"{ev.material} in the atlas (producers: {', '.join(sh.index[:8])})"
            )
        ratio, ex_basis = inp.export_share_of(ev.material, exporters, ev.stage)
        e_ev = a_ev * ratio
        export_basis.setdefault(ev.material, ex_basis)
        if ev.targets == "all":
            tau, lam, tgt = 1.0, 0.0, None
        else:
            tgt = sorted(
                {
                    x
                    for code in ([ev.targets] if isinstance(ev.targets, str) else ev.targets)
                    for x in _resolve(inp, code, what, "targets")
                }
                - set(exporters)
            )
            imp = inp.trade_import_share.get(ev.material)
            if imp is None:
                raise InputError(
                    f"{what}, field targets: no trade rows for {ev.material!r} in the atlas, so the "
                    "targets' share of imports is unknown; use targets: all"
                )
            rest = imp.drop(labels=[x for x in exporters if x in imp.index])
            tau = float(rest.reindex(tgt).fillna(0.0).sum() / rest.sum()) if rest.sum() > 0 else 0.0
            lam = float(inp.leakage[i])
        w = ev.share * _ramp(ev, T) * e_ev * tau * (1.0 - lam)
        per_material.setdefault(i, []).append((a_ev, e_ev, w, exporters, tgt))
    for i, evs in per_material.items():
        m = inp.materials[i]
        main = max(range(len(evs)), key=lambda j: evs[j][0])
        a_m, e_m, _, exp_m, tgt_m = evs[main]
        a[0, i], c[0, i] = a_m, a_m - e_m
        w_main = np.zeros(T)
        for j, (_a, e_j, w_j, exp_j, _t) in enumerate(evs):
            if j == main or exp_j == exp_m:
                w_main = w_main + w_j
            else:
                extra[0, i] += np.minimum(w_j, e_j)
                restricted[i] += np.minimum(w_j, e_j)
        w_main = np.minimum(w_main, e_m)
        withheld[0, i] = w_main
        restricted[i] += w_main
        restrictors[m] = exp_m
        targets[m] = tgt_m
    _other_events(inp, sc, c, extra)
    return CompiledScenario(a, c, withheld, extra, restricted, restrictors, targets, named, export_basis)
