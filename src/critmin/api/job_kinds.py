"""Job kinds wired to the runs layer: each validates its parameters at submission and calls a run.

``simulate`` (critmin.runs.shock), ``montecarlo`` (critmin.runs.risk; on the Dask scheduler named by
``CRITMIN_DASK_SCHEDULER`` when set), ``stockpile`` (critmin.runs.reserve: Monte Carlo + horizon LP),
``price`` (critmin.runs.price), ``plan`` (critmin.runs.plan) and ``stake`` (critmin.runs.stake).
The API adds no modelling: results are the runs' own ``to_dict()`` with their metadata.
"""

from __future__ import annotations

import os
import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from critmin.api.jobs import JobKind, ProgressFn
from critmin.options import options
from critmin.planning.plan import PlanRequest
from critmin.pricing.transactions import Transaction
from critmin.runs.floor import FloorRequest
from critmin.runs.price import PriceRequest
from critmin.runs.reserve import ReserveSizingRequest
from critmin.runs.reserve_finance import ReserveFinanceRequest
from critmin.runs.stake import StakeRequest
from critmin.store import Store

DASK_ENV = "CRITMIN_DASK_SCHEDULER"


def _atlas() -> Any:
    from critmin.atlas import load_atlas

    return load_atlas()


def _counts(progress: ProgressFn, what: str) -> Any:
    def report(done: int, total: int) -> None:
        progress(done / total if total else 1.0, f"{done:,}/{total:,} {what}")

    return report


class SimulateParams(BaseModel):
    """One scenario (the mapping `critmin shock` reads from YAML: name, horizon_months, events)."""

    model_config = ConfigDict(extra="forbid")
    scenario: dict[str, Any]

    @field_validator("scenario")
    @classmethod
    def _valid(cls, v: dict[str, Any]) -> dict[str, Any]:
        from critmin.disruption import parse_scenario

        parse_scenario(v, "params.scenario")
        return v


def run_simulate(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Simulate one scenario on the bundled atlas (a mapping only: the API reads no server files)."""
    from critmin.runs.shock import ShockRequest, run

    assert isinstance(params, SimulateParams)
    progress(0.1, "simulating")
    return run(ShockRequest(scenario=params.scenario), atlas=_atlas()).to_dict()


_RISK = options().risk


class MonteCarloParams(BaseModel):
    """Random restriction scenarios over every modelled material (defaults and bounds: critmin.options)."""

    model_config = ConfigDict(extra="forbid")
    n_scenarios: int = Field(_RISK.scenarios.default, ge=_RISK.scenarios.min, le=_RISK.scenarios.max)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    horizon_months: int = Field(
        _RISK.horizon_months.default, ge=_RISK.horizon_months.min, le=_RISK.horizon_months.max
    )
    chunk_size: int = Field(_RISK.chunk_size.default, ge=_RISK.chunk_size.min, le=_RISK.chunk_size.max)


def run_montecarlo(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Monte Carlo on the local backend, or on the Dask scheduler of ``CRITMIN_DASK_SCHEDULER``."""
    from critmin.runs.risk import RiskRequest, run

    assert isinstance(params, MonteCarloParams)
    scheduler = os.environ.get(DASK_ENV) or None
    req = RiskRequest(**params.model_dump(), backend="dask" if scheduler else "local", scheduler=scheduler)
    return run(req, atlas=_atlas(), progress=_counts(progress, "scenarios")).to_dict()


def run_stockpile(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Reserve sizing over the horizon (critmin.runs.reserve: Monte Carlo, then the LP on HiGHS)."""
    from critmin.runs.reserve import run

    assert isinstance(params, ReserveSizingRequest)
    report = _counts(lambda f, m: progress(0.8 * f, m), "scenarios")
    return run(params, atlas=_atlas(), progress=report).to_dict()


def run_reserve_finance(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Do the fees carry the Vault's loan? (critmin.runs.reserve_finance)."""
    from critmin.runs.reserve_finance import run

    assert isinstance(params, ReserveFinanceRequest)
    progress(0.1, "running the finance model")
    return run(params, atlas=_atlas()).to_dict()


class FloorParams(FloorRequest):
    """A mechanism costed on price paths; the service reads no server files (bundled inputs only)."""

    @model_validator(mode="after")
    def _no_files(self) -> FloorParams:
        if self.series is not None:
            raise ValueError("series: the service takes no file; use the bundled price history")
        if self.volume_path not in (None, "dod-mp"):
            raise ValueError("volume_path: expected 'dod-mp' (or give volume_t or volume_schedule)")
        if self.scenario is not None and not re.fullmatch(r"[a-z0-9-]+", self.scenario):
            raise ValueError(f"scenario {self.scenario!r}: expected a bundled scenario name")
        return self


def run_floor(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """A floor, CfD, levy or other registered mechanism (critmin.runs.floor)."""
    from critmin.runs.floor import run

    assert isinstance(params, FloorParams)
    return run(params, atlas=_atlas(), progress=lambda msg: progress(0.5, msg)).to_dict()


def run_price(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Reference-price assessment (publication rules applied by the library)."""
    from critmin.runs.price import run

    assert isinstance(params, PriceRequest)
    progress(0.1, "assessing")
    return run(params).to_dict()


def run_plan_job(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Capacity-expansion plan for one material and stage (MILP)."""
    from critmin.runs.plan import run

    assert isinstance(params, PlanRequest)
    progress(0.1, "solving the expansion plan")
    result: dict[str, Any] = run(params, atlas=_atlas()).to_dict()
    return result


class SubmittedPriceParams(BaseModel):
    """Assessment date and window for reference prices from the deals members submitted."""

    model_config = ConfigDict(extra="forbid")
    as_of: date
    window_days: int = Field(30, ge=1, le=3650)


def submitted_transactions(store: Store) -> list[Transaction]:
    """Every row of the members' current ``transactions`` submissions as the pricing library's deals:
    the reporter is the member's country, the seller its counterparty; a missing specification or
    incoterm is ``unspecified``, a missing buyer the reporting country."""
    from sqlalchemy import select

    from critmin.store.aggregates import current_submission_ids
    from critmin.store.models import Submission, SubmissionRow

    with store.read() as s:
        ids = current_submission_ids(s)
        rows = s.execute(
            select(SubmissionRow, Submission.iso3)
            .join(Submission, Submission.id == SubmissionRow.submission_id)
            .where(Submission.id.in_(ids), Submission.kind == "transactions")
            .order_by(SubmissionRow.submission_id, SubmissionRow.row_number)
        ).all()
    return [
        Transaction(
            date=date.fromisoformat(str(r.date)),
            material=r.material,
            stage=str(r.stage),
            specification=r.specification or "unspecified",
            volume_t=r.tonnes,
            price=float(r.price or 0.0),
            currency=str(r.currency),
            incoterm=r.incoterm or "unspecified",
            buyer=r.buyer or iso3,
            seller=str(r.counterparty),
            reporter=iso3,
        )
        for r, iso3 in rows
    ]


def submitted_price_kind(store: Store) -> JobKind:
    """Reference prices assessed from the members' submitted deals (secretariat only: the library's
    output lists every deal, and withheld cells name their dominant reporter)."""

    def run(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
        from critmin.runs.price import run as assess

        assert isinstance(params, SubmittedPriceParams)
        progress(0.1, "reading submitted deals")
        txs = [t for t in submitted_transactions(store) if t.date <= params.as_of]
        if not txs:
            raise ValueError(f"no submitted transactions dated on or before {params.as_of}")
        req = PriceRequest(transactions=txs, as_of=params.as_of, window_days=params.window_days)
        return assess(req).to_dict()

    return JobKind(
        "price_submitted",
        SubmittedPriceParams,
        run,
        "reference prices from the members' submitted deals (secretariat)",
        roles=("secretariat",),
    )


def run_stake_job(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """A member's stake in joining, all members side by side (critmin.runs.stake)."""
    from critmin.runs.stake import run

    assert isinstance(params, StakeRequest)
    progress(0.1, "running China's retaliation against the group through the engine")
    return run(params, atlas=_atlas()).to_dict()


def library_job_kinds(store: Store | None = None) -> dict[str, JobKind]:
    """Every job kind the service runs (the submitted-deals price assessment needs the store)."""
    kinds = [
        JobKind("simulate", SimulateParams, run_simulate, "one disruption scenario (critmin.disruption)"),
        JobKind("montecarlo", MonteCarloParams, run_montecarlo, "Monte Carlo of restriction scenarios"),
        JobKind("stockpile", ReserveSizingRequest, run_stockpile, "reserve sizing over the horizon (LP)"),
        JobKind(
            "reserve_finance", ReserveFinanceRequest, run_reserve_finance, "the Vault's finances", once=True
        ),  # once: two tabs showing a finished sizing at the same moment queue one finance job
        JobKind("floor", FloorParams, run_floor, "a price mechanism costed on paths (critmin.runs.floor)"),
        JobKind("price", PriceRequest, run_price, "reference-price assessment from reported deals"),
        JobKind("plan", PlanRequest, run_plan_job, "capacity-expansion plan (MILP)"),
        JobKind("stake", StakeRequest, run_stake_job, "a member's stake in joining (critmin.runs.stake)"),
    ]
    if store is not None:
        kinds.append(submitted_price_kind(store))
    return {k.name: k for k in kinds}
