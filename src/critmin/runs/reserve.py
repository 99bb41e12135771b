"""The reserve-sizing question: what should the Vault hold over a horizon, and why that much?

:func:`run` sizes the reserve on the disruption engine's full loss over up to 180 months
(:mod:`critmin.vault.horizon`), explains the plan from the LP's duals and compares it with the IEA,
Japan and NDS-style rules on the same scenarios (CLI ``critmin vault size``, the ``stockpile`` job, the
reserve page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from critmin.options import options
from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata

_R = options().reserve


class ReserveSizingRequest(BaseModel):
    """Budget (default: the EXIM loan + private capital), Monte Carlo size, horizon and optional CVaR."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    budget_usd: float | None = Field(default=None, ge=0, le=1e13)
    n_scenarios: int = Field(default=_R.scenarios.default, ge=_R.scenarios.min, le=_R.scenarios.max)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    horizon_months: int = Field(
        default=_R.horizon_months.default, ge=_R.horizon_months.min, le=_R.horizon_months.max
    )
    cvar_alpha: float | None = Field(default=None, gt=0, lt=1)
    cvar_weight: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _cvar_pair(self) -> ReserveSizingRequest:
        if (self.cvar_alpha is None) != (self.cvar_weight is None):
            raise ValueError("cvar_alpha and cvar_weight go together")
        return self


@dataclass(frozen=True)
class ReserveSizingResult:
    """The plan with its reasons and the rules beside it."""

    request: ReserveSizingRequest
    budget_usd: float
    status: str
    headline: str
    materials: (
        pd.DataFrame
    )  # material, tonnes, cost_usd, marginal_loss_avoided_per_usd, carry_per_usd, binding
    comparison: pd.DataFrame  # plan, cost_usd, carry_usd, expected_loss_avoided_usd, net_benefit_usd, ...
    budget_dual: float
    solve_seconds: dict[str, float]
    excluded: dict[str, str]
    metadata: RunMetadata

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result (one serialisation for CLI, API and dashboard)."""
        return {
            "question": "reserve",
            "request": self.request.model_dump(),
            "budget_usd": self.budget_usd,
            "horizon_months": self.request.horizon_months,
            "scenarios": self.request.n_scenarios,
            "seed": self.request.seed,
            "headline": self.headline,
            "solve": {"status": self.status, **self.solve_seconds},
            "budget_dual": self.budget_dual,
            "materials": self.materials.to_dict(orient="records"),
            "comparison": self.comparison.to_dict(orient="records"),
            "excluded_materials": self.excluded,
            "data_editions": self.metadata.data_editions,
            "parameters": self.metadata.parameters,
            "parameter_digest": self.metadata.parameter_digest,
        }


def headline(horizon_months: int, optimised: pd.Series, why: str) -> str:
    """The plan in words: spend, loss avoided, carry and net benefit, then why that much."""
    bn = {k: float(optimised[k]) / 1e9 for k in optimised.index if k != "plan"}
    return (
        f"Over {horizon_months} months: spend {bn['cost_usd']:.2f} bn USD, expected loss avoided "
        f"{bn['expected_loss_avoided_usd']:.2f} bn USD of {bn['expected_loss_without_usd']:.2f} bn USD, "
        f"carrying cost {bn['carry_usd']:.2f} bn USD, net benefit {bn['net_benefit_usd']:.2f} bn USD. {why}"
    )


def run(
    request: ReserveSizingRequest,
    *,
    atlas: Any = None,
    params: ParameterSet | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReserveSizingResult:
    """Size the reserve (Monte Carlo -> horizon LP on HiGHS), explain it and compare it with the rules."""
    from critmin.vault.horizon import explain, horizon_problem, rule_comparison, size_over_horizon
    from critmin.vault.sizing import default_budget

    ps = params or ParameterSet()
    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    budget = default_budget(ps) if request.budget_usd is None else request.budget_usd
    cvar = None
    if request.cvar_alpha is not None and request.cvar_weight is not None:
        cvar = (request.cvar_alpha, request.cvar_weight)
    data = horizon_problem(
        atlas, request.n_scenarios, request.seed, request.horizon_months, budget, ps, cvar, progress
    )
    sol = size_over_horizon(data)
    table, why = explain(data.problem, sol)
    rules = rule_comparison(data, sol, ps)
    run_params = {**data.metadata.parameters, **request.model_dump(), "budget_usd": budget}
    return ReserveSizingResult(
        request=request,
        budget_usd=budget,
        status=sol.status,
        headline=headline(request.horizon_months, rules.iloc[0], why),
        materials=table,
        comparison=rules,
        budget_dual=sol.budget_dual,
        solve_seconds={"build_seconds": sol.build_seconds, "solve_seconds": sol.solve_seconds},
        excluded=data.excluded,
        metadata=data.metadata.model_copy(update={"parameters": run_params}),
    )
