"""The reserve-finance question: do the subscribers' fees carry the Vault's loan?

:func:`run` builds the book (from reserve operations, or from the sizing plan) and runs the yearly
cash-flow model over the loan term (:mod:`critmin.vault.finance`) on seeded scenarios: cash and equity
by year with P5/P50/P95, the probability that debt service is missed and the break-even carrying fee
(CLI ``critmin vault finance``, the ``vault_finance`` job, the reserve page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from critmin.options import options
from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata
from critmin.vault.finance import FINANCE_PARAMETERS, Book, FinanceResult
from critmin.vault.state import ReserveState

_R = options().reserve


class ReserveFinanceRequest(BaseModel):
    """Scenarios of the finance model; the book from ``operations`` (reserve operations, as ``critmin vault
    run`` reads them) or else from the optimised sizing plan (``sizing_scenarios``, ``budget_usd``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    n_scenarios: int = Field(default=2_000, ge=1, le=100_000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    carry_fee_rate: float | None = Field(default=None, ge=-1, le=1, description="share a year")
    operations: list[dict[str, Any]] | None = Field(default=None, max_length=100_000)
    holdings_usd: dict[str, float] | None = Field(
        default=None, description="material -> USD held at purchase prices (e.g. a sizing plan's spend)"
    )
    budget_usd: float | None = Field(default=None, ge=0, le=1e13)
    sizing_scenarios: int = Field(default=200, ge=_R.scenarios.min, le=_R.scenarios.max)


@dataclass(frozen=True)
class ReserveFinanceResult:
    """The finance model's outcome with the book it financed."""

    request: ReserveFinanceRequest
    book: Book
    finance: FinanceResult
    metadata: RunMetadata

    @property
    def headline(self) -> str:
        return self.finance.headline(self.book, self.request.n_scenarios)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result (one serialisation for CLI, API and dashboard)."""
        f = self.finance
        return {
            "question": "reserve_finance",
            "request": self.request.model_dump(exclude={"operations"}),
            "headline": self.headline,
            "p_debt_service_missed": f.p_debt_service_missed,
            "expected_final_equity_usd": f.expected_final_equity_usd,
            "carry_fee_rate": f.carry_fee_rate,
            "break_even_carry_fee_rate": f.break_even_carry_fee_rate,
            "loan_drawn_usd": f.loan_drawn_usd,
            "equity_called_usd": f.equity_called_usd,
            "terms": vars(f.terms),
            "book": {
                "materials": self.book.materials,
                "purchase_usd": self.book.purchase_usd.tolist(),
                "committed_usd": self.book.committed_usd.tolist(),
            },
            "by_year": f.by_year.to_dict(orient="records"),
            "data_editions": self.metadata.data_editions,
            "parameters": self.metadata.parameters,
            "parameter_digest": self.metadata.parameter_digest,
        }


def state_from_operations(operations: list[dict[str, Any]]) -> ReserveState:
    """Apply reserve operations in order (errors name the operation's position and field)."""
    from pydantic import ValidationError

    from critmin.vault import OPERATION_ADAPTER, VaultRuleError, apply

    state = ReserveState()
    for k, raw in enumerate(operations):
        try:
            state, _ = apply(state, OPERATION_ADAPTER.validate_python(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ValueError(
                f"operations[{k}], field {'.'.join(map(str, err['loc']))}: {err['msg']}"
            ) from exc
        except VaultRuleError as exc:
            raise ValueError(f"operations[{k}]: {exc}") from exc
    return state


def sized_book(atlas: Any, budget_usd: float | None, scenarios: int, seed: int, params: ParameterSet) -> Book:
    """The book of the optimised 12-month sizing plan (vault_committed_share committed)."""
    from critmin.runs.reserve import ReserveSizingRequest
    from critmin.runs.reserve import run as size
    from critmin.vault.finance_inputs import book_from_holdings

    plan = size(
        ReserveSizingRequest(budget_usd=budget_usd, n_scenarios=scenarios, seed=seed),
        atlas=atlas,
        params=params,
    )
    if plan.status != "Optimal":
        raise ValueError(f"sizing the book failed: {plan.status}")
    spent = plan.materials.set_index("material")["cost_usd"]
    return book_from_holdings({str(m): float(v) for m, v in spent.items() if v > 0}, params)


def run(
    request: ReserveFinanceRequest, *, atlas: Any = None, params: ParameterSet | None = None
) -> ReserveFinanceResult:
    """Build the book and run the finance model (see the module docstring)."""
    from critmin.vault.finance_inputs import book_from_holdings, book_from_state, run_finance

    ps = params or ParameterSet()
    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    if request.operations is not None:
        book = book_from_state(state_from_operations(request.operations))
    elif request.holdings_usd is not None:
        book = book_from_holdings({m: v for m, v in request.holdings_usd.items() if v > 0}, ps)
    else:
        book = sized_book(atlas, request.budget_usd, request.sizing_scenarios, request.seed, ps)
    if not book.materials:
        raise ValueError("the book holds nothing: no stock to finance")
    result = run_finance(atlas, book, request.n_scenarios, request.seed, ps, request.carry_fee_rate)
    meta = RunMetadata(
        parameters={**ps.used(FINANCE_PARAMETERS), **request.model_dump(exclude={"operations"})},
        parameter_digest=ps.digest(),
    )
    return ReserveFinanceResult(request, book, result, meta)
