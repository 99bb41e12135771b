"""One scenario through the kernel: :func:`simulate` -> :class:`ShockResult` (JSON of `critmin shock`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from critmin.disruption.compile import CompiledScenario, compile_scenario
from critmin.disruption.events import Scenario, load_scenario
from critmin.disruption.inputs import InputError, MarketInputs, build_inputs
from critmin.disruption.kernel import KERNEL_PARAMETERS, LOSS_PARTS, KernelOutput, propagate
from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata

MARKET_PARAMETER_NAMES: tuple[str, ...] = (
    *KERNEL_PARAMETERS,
    "restrictor_export_share",
    "value_at_risk_multiple",
    "value_at_risk_usd_per_t",
)


LOSS_NOTE = (
    "loss = importers' welfare loss outside the restrictor = extra cost on what they still buy + surplus "
    "lost on demand priced out + value added lost on demand left unmet; producers' windfall is shown apart"
)


def run_metadata(inp: MarketInputs, atlas: Any) -> RunMetadata:
    """Metadata naming the data editions and the market parameters in force."""
    ps = inp.parameters
    used = {
        k: v
        for k, v in ps.used().items()
        if k.split("[")[0] in MARKET_PARAMETER_NAMES
        or k.startswith(("end_use_share_", "value_at_risk", "restriction_"))
    }
    editions = dict(getattr(atlas, "editions", {}) or {})
    basis = {
        m: {"allocation": a, "export": e, **inp.trade_info.get(m, {})}
        for m, a, e in zip(inp.materials, inp.alloc_basis, inp.export_basis, strict=True)
    }
    meta = RunMetadata(
        parameters={**used, "data_years": inp.data_years, "input_basis": basis}, parameter_digest=ps.digest()
    )
    if editions:
        meta = meta.model_copy(update={"data_editions": editions})
    return meta


@dataclass(frozen=True)
class ShockResult:
    """Paths and losses of one scenario (arrays ``[material, month]``, materials as in ``materials``)."""

    scenario: Scenario
    materials: list[str]
    market_stage: list[str]
    price_outside: np.ndarray
    price_restrictor: np.ndarray
    shortfall_t: np.ndarray
    demand_destroyed_t: np.ndarray
    consumption_outside_t: np.ndarray
    restricted_t: np.ndarray  # withheld exports, tonnes per month
    released_t: np.ndarray
    loss_usd: np.ndarray  # [material] importers' welfare loss (a) + (b) + (c), NaN when unpriced
    loss_parts_usd: dict[str, np.ndarray]  # part -> [material]: extra_cost, priced_out, unmet_value, windfall
    loss_parts_usd_t: dict[str, np.ndarray]  # part name -> [material, month]
    restrictor_producer_loss_usd: np.ndarray  # [material]
    price_usd_per_t: np.ndarray  # [material] reference price p0 (NaN = unpriced)
    inventory_t: np.ndarray  # [material, month] commercial stock outside the restrictor at month end
    stock_release_t: np.ndarray  # [material, month]
    stock_purchase_t: np.ndarray  # [material, month]
    loss_per_tonne_usd: np.ndarray
    sectors: list[str]
    sector_share: np.ndarray  # [material, sector]
    members: list[str]
    member_shortfall_t: np.ndarray  # [material, member] over the horizon
    restrictors: dict[str, list[str]]
    named: list[str]
    metadata: RunMetadata

    def row(self, material: str) -> int:
        """Index of ``material`` in the result arrays."""
        return self.materials.index(material)

    def summary(self) -> list[dict[str, Any]]:
        """One record per named material (table output of ``critmin shock``)."""
        out = []
        for m in self.named:
            i = self.row(m)
            out.append(
                {
                    "material": m,
                    "stage": self.market_stage[i],
                    "restrictor": "+".join(self.restrictors.get(m, [])) or "-",
                    "max_price_outside": float(self.price_outside[i].max()),
                    "min_price_restrictor": float(self.price_restrictor[i].min()),
                    "restricted_t": float(self.restricted_t[i].sum()),
                    "shortfall_t": float(self.shortfall_t[i].sum()),
                    "demand_destroyed_t": float(self.demand_destroyed_t[i].sum()),
                    "loss_usd": float(self.loss_usd[i]),
                    **{k: float(v[i]) for k, v in self.loss_parts_usd.items()},
                    "restrictor_producer_loss_usd": float(self.restrictor_producer_loss_usd[i]),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result: per named material the price paths, shortfall by month, losses."""
        mats: dict[str, Any] = {}
        for m in self.named:
            i = self.row(m)
            by_member = {
                k: float(v) for k, v in zip(self.members, self.member_shortfall_t[i], strict=True) if v > 0
            }
            short_total = float(self.shortfall_t[i].sum())
            short_sector = {
                sec: short_total * float(self.sector_share[i, j])
                for j, sec in enumerate(self.sectors)
                if self.sector_share[i, j] > 0
            }
            by_sector = {
                s: float(self.loss_usd[i] * self.sector_share[i, j])
                for j, s in enumerate(self.sectors)
                if self.sector_share[i, j] > 0
            }
            mats[m] = {
                "stage": self.market_stage[i],
                "restrictor": self.restrictors.get(m, []),
                "price_index": {
                    "outside": self.price_outside[i].tolist(),
                    "restrictor": self.price_restrictor[i].tolist(),
                },
                "shortfall_t": self.shortfall_t[i].tolist(),
                "restricted_t": self.restricted_t[i].tolist(),
                "demand_destroyed_t": self.demand_destroyed_t[i].tolist(),
                "consumption_outside_t": self.consumption_outside_t[i].tolist(),
                "released_t": self.released_t[i].tolist(),
                "loss_usd": float(self.loss_usd[i]),
                "loss_includes": LOSS_NOTE,
                "loss_parts_usd": {k: float(v[i]) for k, v in self.loss_parts_usd.items()},
                "loss_parts_usd_by_month": {k: v[i].tolist() for k, v in self.loss_parts_usd_t.items()},
                "restrictor_producer_loss_usd": float(self.restrictor_producer_loss_usd[i]),
                "price_usd_per_t": float(self.price_usd_per_t[i]),
                "commercial_stock_t": self.inventory_t[i].tolist(),
                "stock_release_t": self.stock_release_t[i].tolist(),
                "stock_purchase_t": self.stock_purchase_t[i].tolist(),
                "loss_per_tonne_usd": float(self.loss_per_tonne_usd[i]),
                "loss_by_sector_usd": by_sector,
                "shortfall_by_sector_t": short_sector,
                "shortfall_by_member_t": by_member,
                "member_allocation": "apparent consumption (BACI tonnes) else GDP share; see input_basis",
            }
        return {
            "scenario": self.scenario.name,
            "horizon_months": self.scenario.horizon_months,
            "materials": mats,
            "total_loss_usd": float(np.nansum(self.loss_usd)),
            "loss_includes": LOSS_NOTE,
            "parameters": self.metadata.parameters,
            "parameter_digest": self.metadata.parameter_digest,
            "data_editions": self.metadata.data_editions,
            "critmin_version": self.metadata.critmin_version,
        }


def _releases_array(
    inp: MarketInputs, horizon: int, releases: np.ndarray | Mapping[str, Sequence[float]] | None
) -> np.ndarray | None:
    if releases is None:
        return None
    M = len(inp.materials)
    if isinstance(releases, np.ndarray):
        arr = np.asarray(releases, dtype=np.float64)
        if arr.shape != (M, horizon):
            raise InputError(f"releases: shape {arr.shape}, expected (materials={M}, months={horizon})")
    else:
        arr = np.zeros((M, horizon))
        for mat, seq in releases.items():
            v = np.asarray(list(seq), dtype=np.float64)
            if v.shape != (horizon,):
                raise InputError(f"releases[{mat!r}]: {v.size} months, expected {horizon}")
            arr[inp.index(mat)] = v
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise InputError("releases: expected finite tonnes >= 0")
    return arr[None]


def _member_split(inp: MarketInputs, comp: CompiledScenario, short_total: np.ndarray) -> np.ndarray:
    alloc = inp.member_alloc.copy()
    for m, tgt in comp.targets.items():
        if tgt is None:
            continue
        i = inp.index(m)
        mask = np.array([k in tgt for k in inp.members])
        alloc[i] = np.where(mask, alloc[i], 0.0)
        total = alloc[i].sum()
        alloc[i] = alloc[i] / total if total > 0 else alloc[i]
    return short_total[:, None] * alloc


def simulate(
    atlas: Any,
    scenario: Scenario | str | Path,
    params: ParameterSet | None = None,
    releases: np.ndarray | Mapping[str, Sequence[float]] | None = None,
) -> ShockResult:
    """Run one scenario on the atlas. ``releases``: stockpile releases offered, tonnes per month
    (``[material, month]`` aligned on the result's materials, or ``{material: [t per month]}``)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    ps = params if params is not None else ParameterSet()
    if sc.parameters:
        ps = ps.with_overrides(sc.overrides())
    inp = build_inputs(atlas, ps, as_of=sc.start)
    comp = compile_scenario(inp, sc)
    rel = _releases_array(inp, sc.horizon_months, releases)
    out: KernelOutput = propagate(
        inp.kernel, comp.a, comp.c, comp.withheld, comp.extra_gap, rel, keep_paths=True
    )
    assert out.price_outside is not None and out.price_restrictor is not None
    assert out.shortfall_t is not None and out.demand_destroyed_t is not None
    assert out.consumption_outside_t is not None and out.released_t is not None
    assert out.inventory_t is not None and out.stock_release_t is not None
    assert out.stock_purchase_t is not None
    q_month = inp.kernel.world_t[:, None] / 12.0
    parts_t = {}
    for k in LOSS_PARTS:
        path = getattr(out, f"{k}_t")
        assert path is not None
        parts_t[k] = path[0]
    return ShockResult(
        scenario=sc,
        materials=inp.materials,
        market_stage=inp.market_stage,
        price_outside=out.price_outside[0],
        price_restrictor=out.price_restrictor[0],
        shortfall_t=out.shortfall_t[0],
        demand_destroyed_t=out.demand_destroyed_t[0],
        consumption_outside_t=out.consumption_outside_t[0],
        restricted_t=comp.restricted * q_month,
        released_t=out.released_t[0],
        loss_usd=out.loss_usd[0],
        loss_parts_usd={k: getattr(out, k)[0] for k in LOSS_PARTS},
        loss_parts_usd_t=parts_t,
        restrictor_producer_loss_usd=out.restrictor_producer_loss_usd[0],
        price_usd_per_t=inp.price_usd_per_t,
        inventory_t=out.inventory_t[0],
        stock_release_t=out.stock_release_t[0],
        stock_purchase_t=out.stock_purchase_t[0],
        loss_per_tonne_usd=inp.kernel.loss_per_t,
        sectors=inp.sectors,
        sector_share=inp.sector_share,
        members=inp.members,
        member_shortfall_t=_member_split(inp, comp, out.shortfall_total_t[0]),
        restrictors=comp.restrictors,
        named=comp.named,
        metadata=run_metadata(inp, atlas),
    )
