"""From the atlas and the parameter table to the arrays the kernel needs (labels aligned explicitly).

* Market stage of a material: ``refine`` where the atlas has it, else ``mine`` (the atlas ``magnet`` stage
  is not modelled). Shares are taken from the latest year with primary rows of each stage.
* A stage missing from the atlas is not filled: an event on it is rejected with a clear error, and a
  material with only one stage is modelled on that stage alone.
* Country allocation of the importers' loss (:mod:`critmin.disruption.consumption`): every country's share
  of apparent consumption (production + imports - exports, BACI tonnes in content), or of world GDP where
  the material has no trade data (basis per material in ``alloc_basis``); the shares cover every country,
  so members' losses sum to the world's. ``member_alloc`` is that share for the alliance members.
* Export ratio of a restrictor (exports / output at the stage of the trade codes) replaces the default
  ``restrictor_export_share`` where the material has trade data and no material row of its own.
* As-of dating: with ``as_of="YYYY-MM"`` shares, trade, prices and GDP come from the latest year before
  the start year; where the atlas has none, the earliest year it has (flagged in ``data_years``).
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

from critmin.atlas.prices import reference_series
from critmin.disruption import consumption as cons
from critmin.disruption.kernel import KernelParams
from critmin.options import options
from critmin.parameters import ParameterError, ParameterSet

MODELLED_STAGES: tuple[str, ...] = ("mine", "refine")
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
    member_alloc: np.ndarray  # [M, K] member share of world consumption (consumption_share columns)
    sectors: list[str]
    sector_share: np.ndarray  # [M, J]
    price_usd_per_t: np.ndarray  # [M] (NaN when the atlas has no price)
    groups: dict[str, frozenset[str]]
    parameters: ParameterSet
    trade_import_share: dict[str, pd.Series]  # material -> importer share of world imports
    countries: list[str]  # every country with a consumption share
    consumption_share: np.ndarray  # [M, C] share of world consumption (rows sum to 1 or 0)
    alloc_basis: list[str]  # [M] apparent-consumption, net-import-value or gdp-share
    export_ratio: dict[tuple[str, str], pd.Series]  # (material, stage) -> exports / output by producer
    export_basis: list[str]  # [M] trade (stage, year) or parameter
    trade_info: dict[str, dict[str, Any]]  # material -> flows used (codes, year, rows estimated, gap)
    data_years: dict[str, Any]  # as-of date, years used per table, fallbacks

    def export_share_of(self, material: str, exporters: Sequence[str], stage: str) -> tuple[float, str]:
        """Exports / output of the (pooled) ``exporters`` at ``stage`` and its basis (trade or parameter)."""
        i = self.index(material)
        ratio = self.export_ratio.get((material, stage))
        if ratio is not None and self.export_basis[i].startswith("trade") and len(exporters) == 1:
            x = ratio.get(exporters[0])
            if x is not None and float(self.shares[(material, stage)].get(exporters[0], 0.0)) > 0:
                return float(x), self.export_basis[i]
        if ratio is not None and self.export_basis[i].startswith("trade"):
            sh = self.shares[(material, stage)].reindex(list(exporters)).fillna(0.0)
            r = ratio.reindex(list(exporters))
            if sh.sum() > 0 and r.notna().any():
                return float((sh * r.fillna(0.0)).sum() / sh.sum()), self.export_basis[i]
        return float(self.export_share[i]), "parameter restrictor_export_share"

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

    def specific(self, name: str, material: str) -> bool:
        """True when the table or the overrides give ``name`` for ``material`` itself (not ``default``)."""
        return (name, material) in self.over or (name, material) in self.values

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


def _pick_year(years: Sequence[int], before: int | None) -> tuple[int, bool]:
    """Latest year ``< before`` (all years when ``before`` is None); else the earliest, flagged True."""
    ok = [y for y in years if before is None or y < before]
    return (max(ok), False) if ok else (min(years), True)


def _stage_tables(
    production: pd.DataFrame, before: int | None = None
) -> dict[tuple[str, str], tuple[pd.Series, int]]:
    """Production shares of every (material, modelled stage) in the latest year before ``before``
    (:func:`_pick_year`), primary rows, in one pass; ``attrs['sum_t']`` and ``attrs['tonnes']`` keep the
    tonnes. Same rows as ``SupplyChain.stage_series`` (primary source, NaN tonnes dropped, ``OTH`` kept);
    ``WLD`` and non-positive rows are left out of the shares.
    """
    p = production[production["primary"].astype(bool) & production["stage"].isin(MODELLED_STAGES)]
    p = p.dropna(subset=["tonnes"])
    p = p[(p["tonnes"] > 0) & (p["iso3"] != "WLD")]
    agg = p.groupby(["material", "stage", "year", "iso3"], sort=True)["tonnes"].sum()
    out: dict[tuple[str, str], tuple[pd.Series, int]] = {}
    for key, grp in agg.groupby(level=["material", "stage"], sort=True):
        mat, st = (str(k) for k in key)  # type: ignore[union-attr]
        year, fallback = _pick_year(sorted({int(y) for y in grp.index.get_level_values("year")}), before)
        s = grp.xs(year, level="year").droplevel(["material", "stage"])
        share = (s / s.sum()).astype("float64")
        share.attrs["sum_t"] = float(s.sum())
        share.attrs["tonnes"] = s.astype("float64")
        share.attrs["fallback"] = fallback
        out[(str(mat), str(st))] = (share, year)
    return out


def _world_outputs(world_totals: pd.DataFrame) -> dict[tuple[str, str, int], float]:
    wt = world_totals.dropna(subset=["tonnes"])
    return {
        (str(m), str(st), int(y)): float(t)
        for m, st, y, t in zip(wt["material"], wt["stage"], wt["year"], wt["tonnes"], strict=True)
    }


def _import_shares(
    trade: pd.DataFrame, materials: Sequence[str], before: int | None = None
) -> dict[str, pd.Series]:
    if trade is None or not len(trade):
        return {}
    if before is not None and (trade["year"] < before).any():
        trade = trade[trade["year"] < before]
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


def start_year(as_of: str | None) -> int | None:
    """``"YYYY-MM"`` -> YYYY (data are taken from years before it); None stays None."""
    if as_of is None:
        return None
    text = str(as_of).strip()
    ok = len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit()
    if not ok or not 1 <= int(text[5:]) <= 12:
        raise InputError(f"start: value {as_of!r}; expected a month 'YYYY-MM'")
    return int(text[:4])


def _prices_before(prices: pd.DataFrame, before: int | None) -> tuple[dict[str, float], dict[str, int]]:
    """Reference price (USD/t) of each material in the latest year before ``before`` (else its earliest)."""
    ref = reference_series(prices)
    out: dict[str, float] = {}
    yrs: dict[str, int] = {}
    for m, rows in ref.groupby("material", sort=True):
        year, _ = _pick_year(sorted(int(y) for y in rows["year"]), before)
        out[str(m)] = float(rows.loc[rows["year"] == year, "usd_per_t"].iloc[0])
        yrs[str(m)] = year
    return out, yrs


def _trade_keys(look: _Lookup, mats: list[str]) -> tuple[tuple[float, ...], tuple[bool, ...]]:
    """Per material: its trade content factor (NaN = none) and whether it has its own export-share row."""
    factors = tuple(
        _param(look, "trade_content_factor", m) if look.specific("trade_content_factor", m) else float("nan")
        for m in mats
    )
    return factors, tuple(look.specific("restrictor_export_share", m) for m in mats)


def _member_columns(share: np.ndarray, countries: list[str], members: list[str]) -> np.ndarray:
    """``[M, members]``: the members' columns of the country shares (0 for a member with none)."""
    pos = {c: j for j, c in enumerate(countries)}
    out = np.zeros((share.shape[0], len(members)))
    for k, mem in enumerate(members):
        if mem in pos:
            out[:, k] = share[:, pos[mem]]
    return out


_CACHE: dict[tuple[Any, ...], dict[str, pd.Series]] = {}
_CACHE_SIZE = 16


def _cached_imports(atlas: Any, mats: list[str], before: int | None) -> dict[str, pd.Series]:
    """:func:`_import_shares`, remembered per atlas object (as ``consumption.cached_allocate``)."""
    try:
        key: tuple[Any, ...] = ("imports", atlas, before, tuple(mats))
        hash(key)
    except TypeError:
        return _import_shares(atlas.trade, mats, before)
    if key not in _CACHE:
        if len(_CACHE) >= 2 * _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _import_shares(atlas.trade, mats, before)
    return _CACHE[key]


def _materials(
    atlas: Any, materials: Sequence[str] | None, before: int | None
) -> tuple[
    list[str], dict[str, list[str]], dict[tuple[str, str], pd.Series], dict[tuple[str, str], int], list[float]
]:
    """Modelled materials, their stages, shares, years and world output at the market stage."""
    candidates = (
        list(materials) if materials is not None else sorted(set(atlas.production["material"].astype(str)))
    )
    mats: list[str] = []
    stages: dict[str, list[str]] = {}
    shares: dict[tuple[str, str], pd.Series] = {}
    years: dict[tuple[str, str], int] = {}
    world: list[float] = []
    tables = _stage_tables(atlas.production, before)
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
    return mats, stages, shares, years, world


def build_inputs(
    atlas: Any,
    params: ParameterSet | None = None,
    materials: Sequence[str] | None = None,
    *,
    as_of: str | None = None,
) -> MarketInputs:
    """Align the atlas and the parameters on the modelled materials (those with a mine or refine stage).

    ``as_of`` (``"YYYY-MM"``): take shares, trade, prices and GDP from the latest year before it.
    """
    ps = params if params is not None else ParameterSet()
    before = start_year(as_of)
    mats, stages, shares, years, world = _materials(atlas, materials, before)
    market_stage = [stages[m][-1] for m in mats]
    sectors, sector_share = _sector_table(ps, mats)
    prices, price_years = _prices_before(atlas.prices, before)
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
    members = sorted(groups.get(options().alliance_group, frozenset()))
    imp = _cached_imports(atlas, mats, before)
    al = cons.cached_allocate(atlas, *_trade_keys(look, mats), mats, market_stage, shares, before)
    alloc = _member_columns(al["consumption_share"], al["countries"], members)
    data_years = {
        "as_of": as_of,
        "production": {f"{m}/{st}": y for (m, st), y in sorted(years.items())},
        "prices": {m: price_years[m] for m in mats if m in price_years},
        "trade": sorted({v["year"] for v in al["trade_info"].values()}),
        "before_start": [f"{m}/{st}" for (m, st), sh in sorted(shares.items()) if sh.attrs.get("fallback")],
    }
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
        data_years=data_years,
        **al,
    )
