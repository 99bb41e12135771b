"""From the atlas and the parameter table to the arrays the kernel needs (labels aligned explicitly).

* Market stage of a material: ``refine`` where the atlas has it, else ``mine`` (the atlas ``magnet`` stage
  is not modelled). Shares are taken from the latest year with primary rows of each stage.
* A stage missing from the atlas is not filled: an event on it is rejected with a clear error, and a
  material with only one stage is modelled on that stage alone.
* Member demand allocation (labelled ``import-share``): we have no per-country consumption tonnages, so a
  member's share of the outside zone's demand is its share of world import value of the material in the
  atlas ``trade`` table (BACI, latest year; shared HS codes count for each of their materials). Materials
  without trade rows are not allocated to members (their shortfall stays with the zone).
* End-use sectors: the ``end_use_share_<sector>`` rows of ``market.csv`` (IEA 2024 for six materials);
  other materials have one sector ``all_uses``.
* Economic loss per tonne of shortfall: ``value_at_risk_usd_per_t`` where the table gives one, else the
  latest atlas price (USD/t) times ``value_at_risk_multiple`` (per sector, falling back to the material).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from critmin.atlas.prices import latest_reference_prices
from critmin.disruption.kernel import KernelParams
from critmin.parameters import ParameterError, ParameterSet

MODELLED_STAGES: tuple[str, ...] = ("mine", "refine")
ALLIANCE_GROUP = "ministerial-2026"
NON_COUNTRY = {"OTH", "WLD"}


class InputError(ValueError):
    """The atlas or the parameters cannot feed the model (names the material, stage and field)."""


@dataclass(frozen=True)
class MarketInputs:
    """Everything the kernel and the scenario compilers read, aligned on ``materials``."""

    materials: list[str]
    market_stage: list[str]
    stages: dict[str, list[str]]  # material -> modelled stages present in the atlas
    shares: dict[tuple[str, str], pd.Series]  # (material, stage) -> production share by iso3 (sums to ~1)
    years: dict[tuple[str, str], int]
    export_share: np.ndarray  # [M] share of a restrictor's output that it exports
    leakage: np.ndarray  # [M]
    kernel: KernelParams
    members: list[str]
    member_alloc: np.ndarray  # [M, K] member share of world demand (import-share allocation)
    sectors: list[str]
    sector_share: np.ndarray  # [M, J]
    price_usd_per_t: np.ndarray  # [M] (NaN when the atlas has no price)
    groups: dict[str, frozenset[str]]
    parameters: ParameterSet
    trade_import_share: dict[str, pd.Series]  # material -> importer share of world imports

    def index(self, material: str) -> int:
        """Position of ``material``; unknown slugs raise :class:`InputError`."""
        try:
            return self.materials.index(material)
        except ValueError:
            raise InputError(
                f"unknown material {material!r}; expected one of the atlas slugs, e.g. "
                f"{', '.join(self.materials[:8])}"
            ) from None

    def resolve(self, code: str) -> list[str]:
        """ISO3 code or group name -> list of ISO3 codes."""
        if code in self.groups:
            return sorted(self.groups[code])
        if len(code) == 3 and code.isupper():
            return [code]
        raise InputError(f"{code!r} is neither an ISO3 code nor a group name; groups: {sorted(self.groups)}")


class _Lookup:
    """Fast ``ParameterSet.get`` semantics (material, then ``default``; overrides first) over a dict."""

    def __init__(self, ps: ParameterSet) -> None:
        t = ps.table
        self.values = {
            (str(n), str(m)): float(v) for n, m, v in zip(t["name"], t["material"], t["value"], strict=True)
        }
        self.over = {(str(n), str(m)): float(v) for (n, m), v in ps.overrides.items()}

    def get(self, name: str, material: str) -> float:
        for key in ((name, material), (name, "default")):
            if key in self.over:
                return self.over[key]
        for key in ((name, material), (name, "default")):
            if key in self.values:
                return self.values[key]
        raise ParameterError(f"no parameter {name!r} for material {material!r} or 'default'")


def _param(ps: _Lookup, name: str, material: str) -> float:
    try:
        return ps.get(name, material)
    except ParameterError as err:
        raise InputError(f"market parameters: {err}") from None


def _param_or_nan(ps: _Lookup, name: str, material: str) -> float:
    try:
        return ps.get(name, material)
    except ParameterError:
        return float("nan")


def _stage_tables(production: pd.DataFrame) -> dict[tuple[str, str], tuple[pd.Series, int]]:
    """Latest-year production shares of every (material, modelled stage), primary rows, in one pass.

    Same rows as ``SupplyChain.stage_series`` (primary source, NaN tonnes dropped, ``OTH`` kept); ``WLD``
    and non-positive rows are left out of the shares.
    """
    p = production[production["primary"].astype(bool) & production["stage"].isin(MODELLED_STAGES)]
    p = p.dropna(subset=["tonnes"])
    p = p[(p["tonnes"] > 0) & (p["iso3"] != "WLD")]
    agg = p.groupby(["material", "stage", "year", "iso3"], sort=True)["tonnes"].sum()
    out: dict[tuple[str, str], tuple[pd.Series, int]] = {}
    for key, grp in agg.groupby(level=["material", "stage"], sort=True):
        mat, st = (str(k) for k in key)  # type: ignore[union-attr]
        year = int(grp.index.get_level_values("year").max())
        s = grp.xs(year, level="year").droplevel(["material", "stage"])
        share = (s / s.sum()).astype("float64")
        share.attrs["sum_t"] = float(s.sum())
        out[(str(mat), str(st))] = (share, year)
    return out


def _world_outputs(world_totals: pd.DataFrame) -> dict[tuple[str, str, int], float]:
    wt = world_totals.dropna(subset=["tonnes"])
    return {
        (str(m), str(st), int(y)): float(t)
        for m, st, y, t in zip(wt["material"], wt["stage"], wt["year"], wt["tonnes"], strict=True)
    }


def _import_shares(trade: pd.DataFrame, materials: Sequence[str]) -> dict[str, pd.Series]:
    if trade is None or not len(trade):
        return {}
    tr = trade[["year", "importer", "material", "value_usd"]].copy()
    tr["material"] = tr["material"].astype(str).str.split("|")
    tr = tr.explode("material")
    tr = tr[tr["material"].isin(list(materials))]
    out: dict[str, pd.Series] = {}
    for mat, grp in tr.groupby("material"):
        latest = grp[grp["year"] == grp["year"].max()]
        by = latest.groupby("importer")["value_usd"].sum()
        total = float(by.sum())
        if total > 0:
            out[str(mat)] = (by / total).astype("float64")
    return out


def _sector_table(ps: ParameterSet, materials: Sequence[str]) -> tuple[list[str], np.ndarray]:
    t = ps.table
    rows = t[t["name"].astype(str).str.startswith("end_use_share_")]
    sectors = sorted({str(n)[len("end_use_share_") :] for n in rows["name"]} | {"all_uses"})
    share = np.zeros((len(materials), len(sectors)))
    for i, m in enumerate(materials):
        mine = rows[rows["material"] == m]
        if not len(mine):
            share[i, sectors.index("all_uses")] = 1.0
            continue
        for name, value in zip(mine["name"].astype(str), mine["value"].astype(float), strict=True):
            share[i, sectors.index(name[len("end_use_share_") :])] = value
        total = share[i].sum()
        if not 0.98 <= total <= 1.02:
            raise InputError(f"market.csv: end_use_share_* rows for {m!r} sum to {total:.3f}; expected 1")
        share[i] /= total
    return sectors, share


def _loss_per_tonne(ps: _Lookup, material: str, price: float, sectors: list[str], share: np.ndarray) -> float:
    direct = _param_or_nan(ps, "value_at_risk_usd_per_t", material)
    if np.isfinite(direct):
        return direct
    total = 0.0
    for j, sec in enumerate(sectors):
        if share[j] == 0:
            continue
        mult = _param_or_nan(ps, f"value_at_risk_multiple_{sec}", material)
        if not np.isfinite(mult):
            mult = _param(ps, "value_at_risk_multiple", material)
        total += share[j] * mult * price
    return total


def build_inputs(
    atlas: Any, params: ParameterSet | None = None, materials: Sequence[str] | None = None
) -> MarketInputs:
    """Align the atlas and the parameters on the modelled materials (those with a mine or refine stage)."""
    ps = params if params is not None else ParameterSet()
    candidates = (
        list(materials) if materials is not None else sorted(set(atlas.production["material"].astype(str)))
    )
    mats: list[str] = []
    stages: dict[str, list[str]] = {}
    shares: dict[tuple[str, str], pd.Series] = {}
    years: dict[tuple[str, str], int] = {}
    world: list[float] = []
    tables = _stage_tables(atlas.production)
    totals = _world_outputs(atlas.world_totals)
    for m in candidates:
        got = {st: tables[(m, st)] for st in MODELLED_STAGES if (m, st) in tables}
        if not got:
            if materials is not None:
                raise InputError(f"material {m!r}: no mine or refine production with tonnes in the atlas")
            continue
        mats.append(m)
        stages[m] = [s for s in MODELLED_STAGES if s in got]
        for st, (sh, yr) in got.items():
            shares[(m, st)] = sh
            years[(m, st)] = yr
        mstage = stages[m][-1]
        year = years[(m, mstage)]
        # the published world total where there is one, else the sum of the country rows (shares' base)
        world.append(totals.get((m, mstage, year), float(got[mstage][0].attrs.get("sum_t", np.nan))))
    market_stage = [stages[m][-1] for m in mats]
    sectors, sector_share = _sector_table(ps, mats)
    prices = latest_reference_prices(atlas.prices)
    price = np.array([prices.get(m, np.nan) for m in mats])

    look = _Lookup(ps)

    def col(name: str) -> np.ndarray:
        return np.array([_param(look, name, m) for m in mats], dtype=np.float64)

    loss = np.array(
        [_loss_per_tonne(look, m, price[i], sectors, sector_share[i]) for i, m in enumerate(mats)]
    )
    kp = KernelParams(
        world_t=np.array(world, dtype=np.float64),
        ed_sr=col("price_elasticity_demand_short_run"),
        ed_lr=col("price_elasticity_demand_long_run"),
        es_sr=col("price_elasticity_supply_short_run"),
        es_lr=col("price_elasticity_supply_long_run"),
        es_restrictor=col("restrictor_supply_elasticity"),
        adjust_months=col("elasticity_adjustment_months"),
        spare_share=col("spare_capacity_share"),
        spare_restart_months=col("spare_capacity_restart_months"),
        spare_ramp_months=col("spare_capacity_ramp_months"),
        inventory_days=col("commercial_inventory_days"),
        inventory_draw=col("inventory_max_draw_share"),
        storage_sigma=col("storage_release_elasticity"),
        precaution=col("precautionary_demand_share"),
        cap=col("price_cap_index"),
        floor=col("price_floor_index"),
        loss_per_t=loss,
        price_usd_per_t=price,
    )
    groups = dict(atlas.groups)
    members = sorted(groups.get(ALLIANCE_GROUP, frozenset()))
    imp = _import_shares(atlas.trade, mats)
    alloc = np.zeros((len(mats), len(members)))
    for i, m in enumerate(mats):
        if m in imp:
            alloc[i] = imp[m].reindex(members).fillna(0.0).to_numpy()
    return MarketInputs(
        materials=mats,
        market_stage=market_stage,
        stages=stages,
        shares=shares,
        years=years,
        export_share=col("restrictor_export_share"),
        leakage=col("leakage_share"),
        kernel=kp,
        members=members,
        member_alloc=alloc,
        sectors=sectors,
        sector_share=sector_share,
        price_usd_per_t=price,
        groups=groups,
        parameters=ps,
        trade_import_share=imp,
    )
