"""Price paths: the calibrated no-event baseline, a mean-reverting log price (docs/methods/price-paths.md).

Monthly model for ``x = ln P`` (USD/t), exact Ornstein-Uhlenbeck step::

    x[t+1] = mu + (x[t] - mu) * exp(-kappa / 12) + sigma * sqrt((1 - exp(-kappa / 6)) / (2 kappa)) * e

with ``e ~ N(0, 1)``. Export restrictions are not part of this process: they are events run through the
disruption engine, whose two zones (outside price up, restricting country's price down) move these paths
(:mod:`critmin.pricing.zones`).

Fitting: monthly series (Pink Sheet, user) by OLS of ``x[t+1]`` on ``x[t]`` over the last ``pp_fit_months``
months; annual USGS series (a handful of years) take the pooled Pink Sheet mean-reversion speed and the
volatility of annual log changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from critmin.parameters import ParameterSet
from critmin.pricing.history import (
    PINKSHEET_MATERIALS,
    PriceHistory,
    PriceSeriesError,
    pinksheet_history,
    pinksheet_monthly,
    usgs_annual,
)

DT = 1.0 / 12.0
PP_PARAMETERS = ["pp_mean_reversion_default", "pp_fit_months", "ndpr_nd_share"]


@dataclass(frozen=True)
class PricePathModel:
    """Fitted parameters (per year) and the documentation of the fit."""

    material: str
    mu: float
    kappa: float
    sigma: float
    x0: float
    fit: dict[str, Any] = field(default_factory=dict)

    @property
    def long_run_price(self) -> float:
        """exp(mu): the long-run median price, USD/t."""
        return float(np.exp(self.mu))


def ou_from_ar1(b: float, a: float, resid_sd: float, dt: float) -> tuple[float, float, float]:
    """(kappa, mu, sigma) of the OU process whose exact discretisation is ``x' = a + b x + e``."""
    kappa = -np.log(b) / dt
    mu = a / (1.0 - b)
    sigma = resid_sd * np.sqrt(2.0 * kappa / (1.0 - b * b))
    return float(kappa), float(mu), float(sigma)


def fit_monthly_ou(values: pd.Series) -> dict[str, float]:
    """OLS fit of the monthly AR(1) in log prices; returns kappa, mu, sigma, b and n (``b`` outside (0, 1)
    means no mean reversion was detected: kappa is NaN)."""
    x = np.log(values.to_numpy(float))
    x0, x1 = x[:-1], x[1:]
    if np.ptp(x0) == 0.0:  # a flat series: no regression possible, no volatility
        return {
            "kappa": float("nan"),
            "mu": float(x.mean()),
            "sigma": 0.0,
            "b": float("nan"),
            "n": float(len(x)),
        }
    b, a = np.polyfit(x0, x1, 1)
    resid = x1 - (a + b * x0)
    sd = float(np.std(resid, ddof=2)) if len(x1) > 2 else float("nan")
    if 0.0 < b < 1.0:
        kappa, mu, sigma = ou_from_ar1(float(b), float(a), sd, DT)
    else:
        kappa, mu, sigma = float("nan"), float(x.mean()), float(np.std(np.diff(x), ddof=1) / np.sqrt(DT))
    return {"kappa": kappa, "mu": mu, "sigma": sigma, "b": float(b), "n": float(len(x))}


@cache
def pooled_kappa(fit_months: int = 240) -> float:
    """Median mean-reversion speed (per year) of the Pink Sheet metals over their last ``fit_months``."""
    frame = pinksheet_monthly()
    kappas = []
    for material in sorted({m for m, _ in PINKSHEET_MATERIALS.values()}):
        s = pinksheet_history(material, frame).values.iloc[-fit_months:]
        k = fit_monthly_ou(s)["kappa"]
        if np.isfinite(k):
            kappas.append(k)
    return float(np.median(kappas))


def fit_history(history: PriceHistory, params: ParameterSet | None = None) -> PricePathModel:
    """Fit the model to one price history (monthly: OLS AR(1); annual: pooled kappa + annual changes)."""
    params = params or ParameterSet()
    window = int(params.get("pp_fit_months", history.material))
    v = history.values.dropna()
    if history.frequency == "monthly":
        v = v.iloc[-window:]
    if len(v) < 3 or (v <= 0).any():
        raise PriceSeriesError(
            f"{history.source} {history.material}: need >= 3 positive prices, got {len(v)}"
        )
    x = np.log(v.to_numpy(float))
    k_default = params.get("pp_mean_reversion_default", history.material)
    fit: dict[str, Any] = {"source": history.source, "series": history.series, "frequency": history.frequency}
    fit |= {"n": len(v), "first": str(v.index[0]), "last": str(v.index[-1])}
    if history.frequency == "monthly":
        est = fit_monthly_ou(v)
        kappa = est["kappa"]
        fit |= {"method": "OLS AR(1) on monthly log prices", "ar1_b": est["b"]}
        if not np.isfinite(kappa):
            kappa = k_default if k_default > 0 else pooled_kappa(window)
            fit["method"] += f"; no mean reversion detected (b = {est['b']:.4f}), pooled kappa used"
        mu, sigma = est["mu"], est["sigma"]
    else:
        kappa = k_default if k_default > 0 else pooled_kappa(window)
        d = np.diff(x)
        if len(d) < 2:
            raise PriceSeriesError(f"{history.source} {history.material}: need >= 3 annual prices")
        # stationary OU: Var(x[t+1y] - x[t]) = sigma^2 (1 - exp(-kappa)) / kappa
        sigma = float(np.std(d, ddof=1) * np.sqrt(kappa / (1.0 - np.exp(-kappa))))
        mu = float(x.mean())
        fit |= {
            "method": "annual: mu = mean log price, pooled Pink Sheet kappa, sigma from annual log changes"
        }
        fit["confidence"] = "low" if len(v) < 10 else "medium"
    return PricePathModel(
        material=history.material,
        mu=mu,
        kappa=float(kappa),
        sigma=sigma,
        x0=float(x[-1]),
        fit=fit,
    )


def material_history(
    material: str, *, params: ParameterSet | None = None, prices: pd.DataFrame | None = None
) -> PriceHistory:
    """The best bundled history of ``material``: Pink Sheet monthly when it covers it, else USGS annual
    (NdPr oxide: its USGS-derived annual series)."""
    if material in {m for m, _ in PINKSHEET_MATERIALS.values()}:
        return pinksheet_history(material)
    if material == "ndpr-oxide":
        from critmin.pricing.history import ndpr_oxide_annual

        return ndpr_oxide_annual(prices, params)
    return usgs_annual(material, prices)


def fit_material(
    material: str, *, params: ParameterSet | None = None, prices: pd.DataFrame | None = None
) -> PricePathModel:
    """Fit to the best bundled history (:func:`material_history`)."""
    return fit_history(material_history(material, params=params, prices=prices), params)


def simulate(
    model: PricePathModel,
    *,
    n_paths: int,
    months: int,
    seed: int | None = None,
    start_price: float | None = None,
) -> NDArray[np.float64]:
    """No-event baseline price paths ``[path, month]`` in USD/t (month 1 is the first simulated month)."""
    if n_paths < 1 or months < 1:
        raise ValueError(f"n_paths={n_paths}, months={months}; expected positive integers")
    rng = np.random.default_rng(seed)
    k, s = model.kappa, model.sigma
    phi = np.exp(-k * DT)
    sd = s * np.sqrt((1.0 - np.exp(-2.0 * k * DT)) / (2.0 * k))
    x = np.full(n_paths, np.log(start_price) if start_price else model.x0)
    out = np.empty((n_paths, months))
    for t in range(months):
        x = model.mu + (x - model.mu) * phi + sd * rng.standard_normal(n_paths)
        out[:, t] = x
    return np.exp(out)


def paths_from_price_index(index: ArrayLike, base_usd_per_t: float) -> NDArray[np.float64]:
    """Paths ``[scenario, month]`` from a disruption price index (1 = baseline) and a baseline price."""
    idx = np.asarray(index, dtype=float)
    if idx.ndim != 2 or not np.isfinite(idx).all() or (idx <= 0).any():
        raise ValueError(f"price index: shape {idx.shape}; expected [scenario, month] of positive numbers")
    return idx * float(base_usd_per_t)
