"""Generic capacity classes: capacity that can be built where no named project exists.

A class (greenfield ``mine``, separation or refining plant ``refine``, ``recycle`` plant feeding the refine
stage) has, per material, a unit size, capex per t/yr, opex, a lead-time distribution (permitting and
construction, triangular ``low/mode/high``; ramp-up), a success probability and a know-how constraint
(at most ``max_starts_per_year`` units started a year outside China, and ``foak_extra_years`` added to the
first unit). Every figure is a row of ``data/parameters/planning.csv`` (``class_<class>_<field>``,
overridable with ``--set``) or is derived from the bundled pipeline and the atlas reference price:

* capex per t/yr: an override ``class_<class>_capex_usd_per_tpa[material]``; else the median over the
  pipeline's projects of the material and stage that state capex and capacity; else the stage's median
  capital intensity (capex per t/yr / reference price, over the materials that have both) times the
  material's reference price; recycling = refine x ``class_recycle_capex_factor``;
* unit size: the median stated capacity of the pipeline's projects of the material and stage, else
  ``class_<class>_unit_share_of_world`` x baseline world output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from critmin.parameters import ParameterError, ParameterSet

#: class name -> atlas stage whose supply it adds to
CLASS_STAGE = {"mine": "mine", "refine": "refine", "recycle": "refine"}
CLASS_NAMES = {
    "mine": "greenfield mine",
    "refine": "separation / refining plant",
    "recycle": "recycling plant",
}
LEAD_FIELDS = ("permit_years", "build_years")


@dataclass(frozen=True)
class CapacityClass:
    """One generic class for one (material, stage), every figure with how it was obtained."""

    name: str
    material: str
    stage: str
    unit_capacity_t: float
    capex_usd_per_tpa: float
    opex_usd_per_t: float
    permit_years: tuple[float, float, float]
    build_years: tuple[float, float, float]
    ramp_up_years: float
    success_probability: float
    max_starts_per_year: int
    foak_extra_years: float
    max_units: int | None
    basis: dict[str, str]

    @property
    def available(self) -> bool:
        """True when the class can be costed (a finite capex and a positive unit size)."""
        return bool(np.isfinite(self.capex_usd_per_tpa) and self.unit_capacity_t > 0)

    def describe(self) -> dict[str, object]:
        """One flat record for tables (and the JSON of ``critmin plan classes``)."""
        return {
            "class": self.name,
            "description": CLASS_NAMES[self.name],
            "material": self.material,
            "stage": self.stage,
            "unit_capacity_t": self.unit_capacity_t,
            "capex_usd_per_tpa": self.capex_usd_per_tpa,
            "opex_usd_per_t": self.opex_usd_per_t,
            "permit_years": "/".join(f"{v:g}" for v in self.permit_years),
            "build_years": "/".join(f"{v:g}" for v in self.build_years),
            "ramp_up_years": self.ramp_up_years,
            "success_probability": self.success_probability,
            "max_starts_per_year": self.max_starts_per_year,
            "foak_extra_years": self.foak_extra_years,
            "max_units": self.max_units,
            "capex_basis": self.basis["capex"],
            "unit_basis": self.basis["unit"],
        }


def _optional(params: ParameterSet, name: str, material: str) -> float | None:
    """An override or table value for exactly ``(name, material)`` or its default; None if absent."""
    try:
        return params.get(name, material)
    except ParameterError:
        return None


def stated_projects(projects: pd.DataFrame, stage_col: str = "stage") -> pd.DataFrame:
    """Included pipeline rows that state both capex and capacity (with capex per t/yr)."""
    p = projects[projects["included"]]
    cap = p["capacity_t"].to_numpy(dtype=float)
    capex = p["capex_usd"].to_numpy(dtype=float)
    ok = np.isfinite(cap) & np.isfinite(capex) & (cap > 0) & ~p["defaults_used"].str.contains("capex_usd")
    out = p[ok].copy()
    out["capex_per_tpa"] = out["capex_usd"] / out["capacity_t"]
    return out


def capital_intensity(projects: pd.DataFrame, prices: dict[str, float], stage: str) -> tuple[float, str]:
    """Median over materials of (median capex per t/yr / reference price) at ``stage``, and its basis."""
    stated = stated_projects(projects)
    stated = stated[stated["stage"] == stage]
    ratios = {}
    for mat, grp in stated.groupby("material"):
        price = prices.get(str(mat))
        if price and np.isfinite(price) and price > 0:
            ratios[str(mat)] = float(np.median(grp["capex_per_tpa"])) / price
    if not ratios:
        return np.nan, f"no pipeline project at stage {stage} states capex, capacity and a priced material"
    value = float(np.median(list(ratios.values())))
    parts = ", ".join(f"{m} {r:.2f}" for m, r in sorted(ratios.items()))
    return value, f"capital intensity {value:.2f} x reference price (median over {parts})"


def _capex(
    cls: str,
    material: str,
    stage: str,
    projects: pd.DataFrame,
    prices: dict[str, float],
    params: ParameterSet,
) -> tuple[float, str]:
    override = _optional(params, f"class_{cls}_capex_usd_per_tpa", material)
    if override is not None:
        return override, f"class_{cls}_capex_usd_per_tpa[{material}] (override)"
    if cls == "recycle":
        base, how = _capex("refine", material, stage, projects, prices, params)
        factor = params.get("class_recycle_capex_factor", material)
        return base * factor, f"{factor:g} x refine ({how})"
    stated = stated_projects(projects)
    peers = stated[(stated["material"] == material) & (stated["stage"] == stage)]
    if len(peers):
        ids = ", ".join(sorted(peers["project_id"]))
        return float(np.median(peers["capex_per_tpa"])), f"derived: median over pipeline projects {ids}"
    k, how = capital_intensity(projects, prices, stage)
    price = prices.get(material, np.nan)
    if not np.isfinite(k):
        return np.nan, how
    if not np.isfinite(price):
        return np.nan, f"no reference price for {material} to scale the {stage} capital intensity"
    return k * price, f"derived: {how}; reference price {price:,.0f} USD/t"


def _unit(
    cls: str, material: str, stage: str, projects: pd.DataFrame, world_t: float, params: ParameterSet
) -> tuple[float, str]:
    p = projects[projects["included"] & (projects["material"] == material) & (projects["stage"] == stage)]
    cap = p["capacity_t"].to_numpy(dtype=float)
    cap = cap[np.isfinite(cap) & (cap > 0)]
    if cls != "recycle" and len(cap):
        return float(np.median(cap)), f"median stated capacity of {len(cap)} pipeline project(s)"
    share = params.get(f"class_{cls}_unit_share_of_world", material)
    return share * world_t, f"class_{cls}_unit_share_of_world {share:g} x baseline {world_t:,.0f} t"


def capacity_classes(
    material: str,
    stage: str,
    projects: pd.DataFrame,
    world_t: float,
    prices: dict[str, float],
    params: ParameterSet,
) -> list[CapacityClass]:
    """The generic classes that add supply at (material, stage), costed or marked unavailable."""
    out = []
    for cls, st in CLASS_STAGE.items():
        if st != stage:
            continue
        capex, capex_how = _capex(cls, material, stage, projects, prices, params)
        unit, unit_how = _unit(cls, material, stage, projects, world_t, params)
        price = prices.get(material, np.nan)
        opex_share = params.get(f"class_{cls}_opex_share_of_price", material)
        opex = opex_share * price if np.isfinite(price) else 0.0

        def tri(field: str, c: str = cls) -> tuple[float, float, float]:
            lo, mo, hi = (params.get(f"class_{c}_{field}_{k}", material) for k in ("low", "mode", "high"))
            if not lo <= mo <= hi:
                raise ValueError(
                    f"class_{c}_{field}_low/mode/high[{material}] = {lo:g}/{mo:g}/{hi:g}; "
                    "expected low <= mode <= high"
                )
            return (lo, mo, hi)

        max_units = None
        if cls == "recycle":
            cap_share = params.get("class_recycle_max_share", material)
            max_units = int(np.floor(cap_share * world_t / unit)) if unit > 0 else 0
        p_ok = params.get(f"class_{cls}_success_probability", material)
        if not 0 < p_ok <= 1:
            raise ValueError(f"class_{cls}_success_probability[{material}] = {p_ok:g}; expected in (0, 1]")
        out.append(
            CapacityClass(
                name=cls,
                material=material,
                stage=stage,
                unit_capacity_t=unit,
                capex_usd_per_tpa=capex,
                opex_usd_per_t=opex,
                permit_years=tri("permit_years"),
                build_years=tri("build_years"),
                ramp_up_years=params.get(f"class_{cls}_ramp_up_years", material),
                success_probability=p_ok,
                max_starts_per_year=int(params.get(f"class_{cls}_max_starts_per_year", material)),
                foak_extra_years=params.get(f"class_{cls}_foak_extra_years", material),
                max_units=max_units,
                basis={"capex": capex_how, "unit": unit_how},
            )
        )
    return out
