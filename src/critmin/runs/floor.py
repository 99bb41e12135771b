"""The floor / mechanism question: one request, one run (CLI ``critmin floor``, API, dashboard).

:func:`run` fits the calibrated price model, simulates the no-event baseline, moves it through the
disruption engine when asked (Monte Carlo, a scenario, or China's retaliation against the group), applies
China's dumping when asked, and evaluates the registered mechanism on the referenced zone's price with the
volume schedule. Modelling lives in :mod:`critmin.pricing`; this module only composes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from critmin.options import options
from critmin.parameters import ParameterSet
from critmin.pricing.history import PriceHistory
from critmin.pricing.mechanisms import MECHANISMS, Mechanism, MechanismResult, evaluate, worked_example
from critmin.pricing.price_paths import PP_PARAMETERS, PricePathModel, fit_history, material_history, simulate
from critmin.pricing.zones import REFERENCES, ZonePrices, baseline
from critmin.provenance import RunMetadata
from critmin.serialize import plain

KG_PER_T = 1000.0
PathsFrom = Literal["model", "disruption", "scenario", "retaliation"]
DOD_MP_WORKED_USD_PER_KG = (63.0, 123.0)
_F = options().floor


class FloorRequest(BaseModel):
    """A mechanism to cost on simulated price paths (prices in USD per kg, volumes in t per year)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    material: str = Field(min_length=1)
    mechanism: str = "floor"
    strike_usd_per_kg: float = Field(gt=0)
    volume_t: float | None = Field(default=None, ge=0, description="flat covered volume, t/yr")
    volume_schedule: list[float] | None = Field(default=None, description="t/yr, year by year")
    volume_path: str | None = Field(default=None, description="'dod-mp' or a CSV file year,tonnes")
    volume_project: str | None = Field(default=None, description="pipeline project id: its capacity ramp")
    member_output_t: float = Field(default=0.0, ge=0)
    years: int = Field(default=_F.years.default, ge=_F.years.min, le=_F.years.max)
    paths: int = Field(default=_F.paths.default, ge=_F.paths.min, le=_F.paths.max)
    seed: int = 2026
    share: float | None = Field(default=None, ge=0, le=1)
    series: str | None = None
    paths_from: PathsFrom = "model"
    scenario: str | None = None
    group: str = Field(default_factory=lambda: options().alliance_group, description="joining group")
    reference: str | None = None
    reset_months: int | None = Field(default=None, ge=1)
    lag_months: int | None = Field(default=None, ge=0)
    dumping_depth: float = Field(default=0.0, ge=0, lt=1)
    dumping_start_month: int = Field(default=0, ge=0)
    dumping_months: int = Field(default=0, ge=0)
    projects: bool = True
    stage: str | None = None

    @field_validator("mechanism")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in MECHANISMS:
            raise ValueError(f"mechanism {v!r}; expected one of {', '.join(MECHANISMS)}")
        return v

    @field_validator("reference")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        if v is not None and v not in REFERENCES:
            raise ValueError(f"reference {v!r}; expected one of {', '.join(REFERENCES)}")
        return v

    @model_validator(mode="after")
    def _one_volume(self) -> FloorRequest:
        vols = (self.volume_t, self.volume_schedule, self.volume_path, self.volume_project)
        if sum(x is not None for x in vols) != 1:
            raise ValueError("give exactly one of volume_t, volume_schedule, volume_path or volume_project")
        if self.paths_from == "scenario" and not self.scenario:
            raise ValueError("paths_from 'scenario' needs a scenario (bundled name or file)")
        return self


@dataclass(frozen=True)
class FloorResult:
    """The evaluated mechanism, the paths it was evaluated on and the run's metadata."""

    request: FloorRequest
    result: MechanismResult
    zones: ZonePrices
    model: PricePathModel
    history: PriceHistory  # the price history the model was fitted to
    summary: dict[str, Any]
    metadata: RunMetadata

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the summary and the metadata."""
        out: dict[str, Any] = plain(self.summary | {"metadata": self.metadata.model_dump(mode="json")})
        return out


def project_volume(project_id: str, start_year: int, years: int, params: ParameterSet) -> tuple[float, ...]:
    """A pipeline project's output year by year from ``start_year`` (its capacity on the planning ramp;
    first year = the stated first production year, else earliest start + lead time)."""
    from critmin.planning.pipeline import build_pipeline
    from critmin.pricing.volumes import project_ramp

    df = build_pipeline(params=params).projects.set_index("project_id")
    if project_id not in df.index:
        raise ValueError(f"volume_project: {project_id!r} is not a pipeline project id")
    r = {str(k): v for k, v in df.loc[project_id].to_dict().items()}
    if not r["included"]:
        raise ValueError(
            f"volume_project: {project_id!r} is excluded from the pipeline: {r['exclusion_reason']}"
        )
    first = r["first_production_year"]
    first = first if pd.notna(first) else r["earliest_start"] + r["lead_time_years"]
    return project_ramp(float(r["capacity_t"]), int(first), float(r["ramp_up_years"]), start_year, years)


def start_year(model: PricePathModel) -> int:
    """First simulated year: the year after the last annual price, or the year of the month after the
    last monthly price."""
    last = str(model.fit.get("last", ""))
    if model.fit.get("frequency") == "annual":
        return int(last[:4]) + 1
    return int((pd.Timestamp(last) + pd.DateOffset(months=1)).year)


def volume_schedule(
    req: FloorRequest, first_year: int = 0, params: ParameterSet | None = None
) -> tuple[float | tuple[float, ...], str]:
    """The covered volume and a line saying where it comes from."""
    from critmin.pricing.volumes import dod_mp_volume_path, read_schedule_csv

    if req.volume_project is not None:
        sched = project_volume(req.volume_project, first_year, req.years, params or ParameterSet())
        return sched, f"pipeline project {req.volume_project} from {first_year} (planning ramp)"

    if req.volume_t is not None:
        return float(req.volume_t), f"{req.volume_t:g} t/yr flat"
    if req.volume_schedule is not None:
        return tuple(req.volume_schedule), "year-by-year schedule given in the request"
    assert req.volume_path is not None
    if req.volume_path == "dod-mp":
        df = dod_mp_volume_path()
        return tuple(df["tonnes"].astype(float)), "critmin/pricing/examples/dod_mp_ndpr_volumes.csv"
    path = Path(req.volume_path)
    df = read_schedule_csv(path.read_text(encoding="utf-8"), str(path))
    return tuple(df["tonnes"].astype(float)), str(path)


def _history(req: FloorRequest, params: ParameterSet) -> PriceHistory:
    from critmin.pricing.history import read_monthly_csv

    if req.series:
        return read_monthly_csv(Path(req.series), req.material)
    return material_history(req.material, params=params)


def start_price_usd_per_kg(material: str, params: ParameterSet | None = None) -> float:
    """The fitted model's start price (the last observed price) of a material's bundled history, USD/kg:
    the dashboard's default strike (an at-the-money mechanism)."""
    params = params or ParameterSet()
    return math.exp(fit_history(material_history(material, params=params), params).x0) / KG_PER_T


def _engine_zones(req: FloorRequest, base: ZonePrices, atlas: Any, params: ParameterSet) -> ZonePrices:
    from critmin.disruption import simulate as shock
    from critmin.disruption.events import bundled_scenario, load_scenario
    from critmin.disruption.montecarlo import run_monte_carlo
    from critmin.pricing.china import retaliation_scenario
    from critmin.pricing.zones import DISRUPTION_MATERIAL, from_monte_carlo, from_shock

    months = base.shape[1]
    if req.paths_from == "disruption":
        mc = run_monte_carlo(
            atlas, req.paths, req.seed, horizon_months=months, keep_paths=True, params=params
        )
        return from_monte_carlo(base, mc)
    if req.paths_from == "retaliation":
        if req.group not in atlas.groups:
            raise ValueError(f"group: {req.group!r}; expected one of {', '.join(sorted(atlas.groups))}")
        sc = retaliation_scenario(
            atlas.groups[req.group],
            [DISRUPTION_MATERIAL.get(req.material, req.material)],
            share=params.get("retaliation_share", req.material),
            months=int(params.get("retaliation_months", req.material)),
            horizon=months,
        )
    else:
        assert req.scenario is not None
        p = Path(req.scenario)
        sc = load_scenario(p) if p.suffix in (".yaml", ".yml", ".json") else bundled_scenario(req.scenario)
        sc = sc.model_copy(update={"horizon_months": max(months, sc.horizon_months)})
    return from_shock(base, shock(atlas, sc, params))


def _dumped(
    req: FloorRequest, zones: ZonePrices, atlas: Any, params: ParameterSet
) -> tuple[ZonePrices, dict]:
    from critmin.pricing.china import Dumping, apply_dumping, china_position, max_dumping_depth

    pos = china_position(atlas, req.material, params)
    cap = max_dumping_depth(pos["a"], pos["c"], pos["ed"], pos["es"], pos["spare"])
    d = Dumping(req.dumping_depth, req.dumping_start_month, req.dumping_months)
    info = {"depth_asked": d.depth, "depth_applied": min(d.depth, cap), "max_depth_china_can_supply": cap}
    info |= {
        "start_month": d.start_month,
        "months": d.months,
        "china_share": pos["a"],
        "atlas_year": pos["year"],
    }
    return apply_dumping(zones, d, cap), info


def breakevens(material: str, params: ParameterSet | None = None) -> pd.DataFrame:
    """Break-even prices of the bundled pipeline projects producing ``material`` (may be empty)."""
    from critmin.planning.pipeline import build_pipeline, load_bundled_projects
    from critmin.pricing.supply_response import PROJECT_SCOPE, project_breakevens

    params = params or ParameterSet()
    atlas_material, stage, raw_material = PROJECT_SCOPE.get(material, (material, "refine", None))
    cand = build_pipeline(params=params).candidates(atlas_material, stage)
    ids = None
    if raw_material is not None:
        raw = load_bundled_projects()
        ids = set(raw.loc[raw["material"] == raw_material, "project_id"])
    return project_breakevens(material, cand, params=params, project_ids=ids)


def _incidence(req: FloorRequest, summary: dict[str, Any], atlas: Any, params: ParameterSet) -> Any:
    """Mean PV of the levy collected and of the price uplift on member output, split among the group."""
    from critmin.pricing.stake_report import levy_incidence, member_shares
    from critmin.pricing.zones import DISRUPTION_MATERIAL

    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    if req.group not in atlas.groups:
        raise ValueError(f"group: {req.group!r}; expected one of {', '.join(sorted(atlas.groups))}")
    collected = summary["levy_revenue_pv_usd"]["mean"]
    uplift = summary["consumer_cost_pv_usd"]["mean"] - collected
    material = DISRUPTION_MATERIAL.get(req.material, req.material)
    imports, output = member_shares(atlas, atlas.groups[req.group], material)
    inc = levy_incidence(collected, uplift, imports, output, imports)
    return inc[inc.abs().sum(axis=1) > 0].reset_index()


def run(
    request: FloorRequest,
    *,
    atlas: Any = None,
    params: ParameterSet | None = None,
    progress: Callable[[str], None] | None = None,
) -> FloorResult:
    """Cost the requested mechanism on the requested price paths (see the module docstring)."""
    params = params or ParameterSet()
    say = progress or (lambda _msg: None)
    say("fitting the price model")
    history = _history(request, params)
    model = fit_history(history, params)
    months = 12 * request.years
    say(f"simulating {request.paths:,} baseline paths")
    raw = simulate(model, n_paths=request.paths, months=months, seed=request.seed)
    zones = baseline(request.material, raw, str(model.fit.get("source")))
    needs_atlas = request.paths_from != "model" or request.dumping_depth > 0
    if needs_atlas and atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    if request.paths_from != "model":
        say(f"running the disruption engine ({request.paths_from})")
        zones = _engine_zones(request, zones, atlas, params)
    dumping = None
    if request.dumping_depth > 0 and request.dumping_months > 0:
        zones, dumping = _dumped(request, zones, atlas, params)
    volume, volume_source = volume_schedule(request, start_year(model), params)
    mech = Mechanism(
        request.mechanism,
        request.strike_usd_per_kg * KG_PER_T,
        volume,
        upside_share=request.share,
        member_output_t_per_year=request.member_output_t,
        reference=request.reference,
        reset_months=request.reset_months,
        lag_months=request.lag_months,
        stage=request.stage,
    )
    say(f"evaluating {request.mechanism}")
    table = breakevens(request.material, params) if request.projects else None
    table = table if table is not None and len(table) else None
    res = evaluate(mech, zones, material=request.material, params=params, projects=table)
    summary = dict(res.summary)
    summary |= {
        "strike_usd_per_kg": request.strike_usd_per_kg,
        "start_price_usd_per_kg": math.exp(model.x0) / KG_PER_T,
        "paths_from": request.paths_from,
        "price_paths": zones.source,
        "volume_source": volume_source,
        "worked_example": worked_example(mech, [p * KG_PER_T for p in DOD_MP_WORKED_USD_PER_KG], params),
        "price_model": {
            "kappa": model.kappa,
            "sigma": model.sigma,
            "long_run_usd_per_kg": model.long_run_price / KG_PER_T,
            **model.fit,
        },
    }
    if dumping is not None:
        summary["dumping"] = dumping
    if res.flows.levy_per_t is not None:  # a levy: who pays and who receives, member by member
        summary["levy_incidence_pv_usd"] = _incidence(request, summary, atlas, params)
    used = list(PP_PARAMETERS)
    if request.paths_from == "retaliation":
        used += ["retaliation_share", "retaliation_months"]
    if dumping is not None:
        used += ["china_spare_capacity_share", "restrictor_export_share"]
    run_params = {"seed": request.seed, "paths_from": request.paths_from, "scenario": request.scenario}
    meta = res.metadata.model_copy(
        update={"parameters": res.metadata.parameters | params.used(used) | run_params}
    )
    return FloorResult(request, res, zones, model, history, summary, meta)
