"""Inputs of the stockpile LP: configuration, scenario data and holders, validated and aligned by label.

See :mod:`critmin.optimize.stockpile` for the model and ``docs/methods/stockpile.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    import xarray as xr

DIMS = ("scenario", "material", "month")
DAYS_PER_YEAR = 365.0


class StockpileInputError(ValueError):
    """Inputs that cannot enter the model (missing labels, NaN, negative or mis-shaped values)."""


class CVaRSpec(BaseModel):
    """Risk term: ``weight * CVaR_alpha(loss)`` replaces ``weight`` of the expected loss."""

    model_config = ConfigDict(frozen=True)

    alpha: float = Field(gt=0.0, lt=1.0, description="confidence level, e.g. 0.95")
    weight: float = Field(ge=0.0, le=1.0, description="0 = risk-neutral, 1 = pure CVaR")

    @classmethod
    def parse(cls, text: str) -> CVaRSpec:
        """``"0.95:0.5"`` -> alpha 0.95, weight 0.5 (the CLI's ``--cvar ALPHA:WEIGHT``)."""
        parts = text.split(":")
        if len(parts) != 2:
            raise ValueError(f"--cvar {text!r}: expected ALPHA:WEIGHT, e.g. 0.95:0.5")
        try:
            alpha, weight = float(parts[0]), float(parts[1])
        except ValueError as exc:
            raise ValueError(f"--cvar {text!r}: ALPHA and WEIGHT must be numbers, e.g. 0.95:0.5") from exc
        return cls(alpha=alpha, weight=weight)


class StockpileConfig(BaseModel):
    """Run settings: budget (USD) and the optional CVaR term."""

    model_config = ConfigDict(frozen=True)

    budget_usd: float = Field(ge=0.0)
    cvar: CVaRSpec | None = None

    @model_validator(mode="after")
    def _finite(self) -> StockpileConfig:
        if not np.isfinite(self.budget_usd):
            raise ValueError(f"budget_usd must be finite, got {self.budget_usd}")
        return self


@dataclass(frozen=True)
class StockpileInputs:
    """Everything the LP needs, labelled.

    ``shortfall_t`` has dims ``(scenario, material, month)``; the Series are indexed by material
    (``probability`` by scenario; ``None`` = equally likely). ``carry_rate_per_year`` is the annual
    carrying cost as a share of the value held. ``days_basis_t_per_year`` (optional) is the annual tonnage
    that days of cover refer to (alliance consumption); materials without it get no days of cover.
    """

    shortfall_t: xr.DataArray
    loss_per_tonne_usd: pd.Series
    price_usd_per_t: pd.Series
    max_holding_t: pd.Series
    carry_rate_per_year: pd.Series
    probability: pd.Series | None = None
    days_basis_t_per_year: pd.Series | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def materials(self) -> list[str]:
        return [str(m) for m in self.shortfall_t.coords["material"].values]

    @property
    def horizon_years(self) -> float:
        return self.shortfall_t.sizes["month"] / 12.0


@dataclass(frozen=True)
class Holders:
    """Optional first stage per holder (e.g. members or manufacturers that hold their own stock).

    ``share`` (index holder, columns material) is the share of each material's shortfall a holder must
    cover from its own stock (shares of a material sum to at most 1; a holder cannot release to another).
    ``budget_usd`` (optional, indexed by holder) caps each holder's purchases on top of the total budget.
    """

    share: pd.DataFrame
    budget_usd: pd.Series | None = None


def validate_holders(holders: Holders, materials: pd.Index) -> tuple[pd.DataFrame, pd.Series | None]:
    """Shares aligned to ``materials`` (checked: a value for each, 0..1, sums <= 1) and aligned budgets."""
    share = holders.share.astype(float).copy()
    share.index = pd.Index([str(h) for h in share.index], name="holder")
    if share.empty or share.index.has_duplicates:
        raise StockpileInputError(f"holders.share: expected distinct holders, got {list(share.index)}")
    unknown = [str(c) for c in share.columns if c not in materials]
    if unknown:
        raise StockpileInputError(
            f"holders.share: unknown materials {unknown}; expected some of {list(materials)}"
        )
    share = share.reindex(columns=materials)
    missing = [str(m) for m in materials if share[m].isna().any()]
    if missing:
        raise StockpileInputError(
            f"holders.share: no value for materials {missing} (0 if a holder does not cover one)"
        )
    values = share.to_numpy()
    if (values < 0).any() or (values > 1).any():
        raise StockpileInputError("holders.share: values must lie in [0, 1]")
    sums = share.sum(axis=0)
    over = sums[sums > 1 + 1e-9]
    if len(over):
        raise StockpileInputError(
            f"holders.share[{over.index[0]}] sums to {over.iloc[0]}; expected at most 1"
        )
    budget = None
    if holders.budget_usd is not None:
        budget = align(holders.budget_usd, share.index, "holders.budget_usd")
        if (budget < 0).any():
            raise StockpileInputError("holders.budget_usd: expected values >= 0")
    return share, budget


def shortfall_array(values: np.ndarray, materials: list[str], scenarios: int | None = None) -> xr.DataArray:
    """Label a ``[scenario, material, month]`` array (months numbered from 1)."""
    import xarray as xr

    arr = np.asarray(values, dtype=float)
    if arr.ndim != 3:
        raise StockpileInputError(f"shortfall must be [scenario, material, month], got shape {arr.shape}")
    n_s, n_m, n_t = arr.shape
    if n_m != len(materials):
        raise StockpileInputError(f"shortfall has {n_m} materials but {len(materials)} names were given")
    return xr.DataArray(
        arr,
        dims=DIMS,
        coords={"scenario": np.arange(n_s), "material": list(materials), "month": np.arange(1, n_t + 1)},
        name="shortfall_t",
    )


def align(series: pd.Series, index: pd.Index, name: str) -> pd.Series:
    """``series`` reindexed to ``index``; raises naming the labels left without a value."""
    out = series.astype(float).reindex(index)
    missing = [str(k) for k in out.index[out.isna()]]
    if missing:
        raise StockpileInputError(
            f"{name}: no value for {missing} (expected a number for every {index.name})"
        )
    return out


def validate_inputs(inputs: StockpileInputs) -> dict[str, pd.Series]:
    """Aligned, checked parameters by name (material-indexed, plus ``probability`` by scenario)."""
    d = inputs.shortfall_t
    if tuple(d.dims) != DIMS:
        raise StockpileInputError(f"shortfall_t dims {tuple(d.dims)}; expected {DIMS}")
    values = d.values
    if not np.isfinite(values).all():
        bad = np.argwhere(~np.isfinite(values))[0]
        raise StockpileInputError(f"shortfall_t has a non-finite value at index {tuple(int(i) for i in bad)}")
    if (values < 0).any():
        bad = np.argwhere(values < 0)[0]
        raise StockpileInputError(
            f"shortfall_t is negative ({values[tuple(bad)]}) at index {tuple(int(i) for i in bad)}"
        )
    materials = pd.Index(inputs.materials, name="material")
    if materials.has_duplicates:
        raise StockpileInputError(f"duplicate materials in shortfall_t: {materials[materials.duplicated()]}")
    out = {
        "loss_per_tonne_usd": align(inputs.loss_per_tonne_usd, materials, "loss_per_tonne_usd"),
        "price_usd_per_t": align(inputs.price_usd_per_t, materials, "price_usd_per_t"),
        "max_holding_t": align(inputs.max_holding_t, materials, "max_holding_t"),
        "carry_rate_per_year": align(inputs.carry_rate_per_year, materials, "carry_rate_per_year"),
    }
    for name, s in out.items():
        if (s < 0).any():
            m = s.index[s < 0][0]
            raise StockpileInputError(f"{name}[{m}] = {s[m]}; expected a value >= 0")
    if (out["price_usd_per_t"] <= 0).any():
        m = out["price_usd_per_t"].index[out["price_usd_per_t"] <= 0][0]
        raise StockpileInputError(f"price_usd_per_t[{m}] = {out['price_usd_per_t'][m]}; expected > 0")
    scen = pd.Index(d.coords["scenario"].values, name="scenario")
    if inputs.probability is None:
        prob = pd.Series(1.0 / len(scen), index=scen)
    else:
        prob = align(inputs.probability, scen, "probability")
        if (prob < 0).any() or not np.isclose(prob.sum(), 1.0, atol=1e-9):
            raise StockpileInputError(f"probability must be >= 0 and sum to 1, sums to {prob.sum()}")
    out["probability"] = prob
    return out
