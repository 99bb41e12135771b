"""Job kinds wired to the library: each validates its parameters at submission and calls the library.

``simulate`` (critmin.disruption.simulate), ``montecarlo`` (run_monte_carlo; on the Dask scheduler named by
``CRITMIN_DASK_SCHEDULER`` when set), ``stockpile`` (critmin.vault.sizing: Monte Carlo + two-stage LP),
``price`` (critmin.pricing.reference_price.assess) and ``plan`` (critmin.planning.plan.run_plan).
The API adds no modelling: results are the library's own records and metadata.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from critmin.api.jobs import JobKind, ProgressFn
from critmin.planning.plan import PlanRequest
from critmin.pricing.transactions import Transaction
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
    """Simulate one scenario on the bundled atlas."""
    from critmin.disruption import parse_scenario, simulate

    assert isinstance(params, SimulateParams)
    progress(0.1, "simulating")
    result: dict[str, Any] = simulate(_atlas(), parse_scenario(params.scenario, "params.scenario")).to_dict()
    return result


class MonteCarloParams(BaseModel):
    """Random restriction scenarios over every modelled material."""

    model_config = ConfigDict(extra="forbid")
    n_scenarios: int = Field(1000, ge=1, le=1_000_000)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    horizon_months: int = Field(24, ge=1, le=120)
    chunk_size: int = Field(10_000, ge=10, le=100_000)


def run_montecarlo(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Monte Carlo on the local backend, or on the Dask scheduler of ``CRITMIN_DASK_SCHEDULER``."""
    from critmin.disruption.montecarlo import run_monte_carlo

    assert isinstance(params, MonteCarloParams)
    scheduler = os.environ.get(DASK_ENV) or None
    result = run_monte_carlo(
        _atlas(),
        params.n_scenarios,
        params.seed,
        params.horizon_months,
        backend="dask" if scheduler else "local",
        scheduler=scheduler,
        chunk_size=params.chunk_size,
        progress=_counts(progress, "scenarios"),
    )
    return {
        "backend": "dask" if scheduler else "local",
        "summary": result.summary.to_dict(orient="records"),
        "member_summary": result.member_summary.to_dict(orient="records"),
        "metadata": result.metadata.model_dump(),
    }


class StockpileParams(BaseModel):
    """Reserve sizing: budget (default: the Vault's loan + private capital), scenarios, optional CVaR."""

    model_config = ConfigDict(extra="forbid")
    budget_usd: float | None = Field(None, ge=0, le=1e13)
    n_scenarios: int = Field(500, ge=1, le=100_000)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    horizon_months: int = Field(12, ge=1, le=60)
    cvar_alpha: float | None = Field(None, gt=0, lt=1)
    cvar_weight: float | None = Field(None, ge=0, le=1)


def run_stockpile(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Monte Carlo inputs, then the two-stage stockpile LP (HiGHS)."""
    from critmin.optimize.stockpile import CVaRSpec, StockpileConfig
    from critmin.vault.sizing import default_budget, size_reserve, sizing_inputs

    assert isinstance(params, StockpileParams)
    cvar = None
    if params.cvar_alpha is not None or params.cvar_weight is not None:
        if params.cvar_alpha is None or params.cvar_weight is None:
            raise ValueError("cvar_alpha and cvar_weight go together")
        cvar = CVaRSpec(alpha=params.cvar_alpha, weight=params.cvar_weight)
    budget = params.budget_usd if params.budget_usd is not None else default_budget()
    report = _counts(lambda f, m: progress(0.8 * f, m), "scenarios")
    data = sizing_inputs(_atlas(), params.n_scenarios, params.seed, params.horizon_months, progress=report)
    progress(0.85, "solving the stockpile LP")
    result: dict[str, Any] = size_reserve(data, StockpileConfig(budget_usd=budget, cvar=cvar)).as_dict()
    return result


class PriceParams(BaseModel):
    """Reported deals (the fields of `critmin price assess`) and the assessment date and window."""

    model_config = ConfigDict(extra="forbid")
    transactions: list[Transaction] = Field(min_length=1, max_length=100_000)
    as_of: date
    window_days: int = Field(30, ge=1, le=3650)


def run_price(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Reference-price assessment (publication rules applied by the library)."""
    from critmin.pricing.reference_price import assess

    assert isinstance(params, PriceParams)
    late = [t for t in params.transactions if t.date > params.as_of]
    if late:
        raise ValueError(f"transaction dated {late[0].date} is after as_of {params.as_of}")
    progress(0.1, "assessing")
    result = assess(params.transactions, as_of=params.as_of, window_days=params.window_days)
    return {
        "prices": result.prices.to_dict(orient="records"),
        "deals": result.deals.to_dict(orient="records"),
        "metadata": result.metadata.model_dump(),
    }


def run_plan_job(params: BaseModel, progress: ProgressFn) -> dict[str, Any]:
    """Capacity-expansion plan for one material and stage (MILP)."""
    from critmin.planning.plan import run_plan

    assert isinstance(params, PlanRequest)
    progress(0.1, "solving the expansion plan")
    result: dict[str, Any] = run_plan(params).to_dict()
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
        from critmin.pricing.reference_price import assess

        assert isinstance(params, SubmittedPriceParams)
        progress(0.1, "reading submitted deals")
        txs = [t for t in submitted_transactions(store) if t.date <= params.as_of]
        if not txs:
            raise ValueError(f"no submitted transactions dated on or before {params.as_of}")
        result = assess(txs, as_of=params.as_of, window_days=params.window_days)
        return {
            "prices": result.prices.to_dict(orient="records"),
            "deals": result.deals.to_dict(orient="records"),
            "metadata": result.metadata.model_dump(),
        }

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
        JobKind("stockpile", StockpileParams, run_stockpile, "reserve sizing: two-stage LP over scenarios"),
        JobKind("price", PriceParams, run_price, "reference-price assessment from reported deals"),
        JobKind("plan", PlanRequest, run_plan_job, "capacity-expansion plan (MILP)"),
        JobKind("stake", StakeRequest, run_stake_job, "a member's stake in joining (critmin.runs.stake)"),
    ]
    if store is not None:
        kinds.append(submitted_price_kind(store))
    return {k.name: k for k in kinds}
