"""The Vault's finances over the loan term: a yearly cash-flow model across Monte Carlo scenarios.

The reserve borrows the EXIM loan and raises private equity in year 0, buys its holdings, and is carried by
its subscribers (manufacturers who commit to buy set quantities back at preset prices). Per scenario ``s``
and year ``y = 1..N`` (see ``docs/methods/vault-finance.md``)::

    inflows  = carry_fee * open committed value                 subscribers' carrying fee
             + unreplenished draws * market price               draws not returned in kind are paid for
             + [y = N] (open commitments bought back at preset prices + uncommitted stock sold at market)
    outflows = interest_rate * debt_{y-1} + principal_y         debt service (grace, then annuity)
             + (storage + insurance) * stock value at market
    cash_y   = cash_{y-1} + inflows - outflows                  (the cash identity, tested every year)
    equity_y = cash_y + stock value at market - debt_y         (y < N; at N all stock is sold or bought back)

Year 0: the purchases are paid with the private equity first, then the loan (drawn only as needed):
``cash_0 = equity called + loan drawn - purchases + entry fees``. Debt service is *missed* in a year
when the cash before paying it does not cover it. The break-even carrying fee is the fee rate at which the
expected equity at the loan's end is zero (solved with ``scipy.optimize.brentq``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from critmin.parameters import ParameterSet

FINANCE_PARAMETERS = [
    "vault_exim_loan_usd",
    "vault_private_capital_usd",
    "vault_loan_term_years",
    "vault_exim_interest_rate",
    "vault_loan_grace_years",
    "vault_storage_cost_rate",
    "vault_insurance_rate",
    "vault_entry_fee_rate",
    "vault_carry_fee_margin",
    "vault_draw_share",
    "vault_unreplenished_share",
]


@dataclass(frozen=True)
class FinanceTerms:
    """Loan, equity and fee terms (USD, shares per year); :func:`finance_terms` reads them from vault.csv."""

    loan_usd: float
    equity_usd: float
    term_years: int
    interest_rate: float
    grace_years: int
    storage_rate: float
    insurance_rate: float
    entry_fee_rate: float
    carry_fee_rate: float
    draw_share: float
    unreplenished_share: float

    def __post_init__(self) -> None:
        if self.term_years < 1 or not 0 <= self.grace_years < self.term_years:
            raise ValueError(
                f"finance terms: term_years {self.term_years}, grace_years {self.grace_years}; expected "
                "term >= 1 and 0 <= grace < term"
            )
        for name in ("loan_usd", "equity_usd", "interest_rate", "storage_rate", "insurance_rate"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(
                    f"finance terms: {name} {getattr(self, name)!r}; expected a finite value >= 0"
                )


def finance_terms(params: ParameterSet | None = None, carry_fee_rate: float | None = None) -> FinanceTerms:
    """Terms from the parameter table; the default carrying fee is the loan rate plus storage, insurance
    and ``vault_carry_fee_margin`` (the fee "tied to the loan interest plus storage")."""
    p = params or ParameterSet()
    rate = p.get("vault_exim_interest_rate")
    storage, insurance = p.get("vault_storage_cost_rate"), p.get("vault_insurance_rate")
    fee = (
        rate + storage + insurance + p.get("vault_carry_fee_margin")
        if carry_fee_rate is None
        else carry_fee_rate
    )
    return FinanceTerms(
        loan_usd=p.get("vault_exim_loan_usd"),
        equity_usd=p.get("vault_private_capital_usd"),
        term_years=int(p.get("vault_loan_term_years")),
        interest_rate=rate,
        grace_years=int(p.get("vault_loan_grace_years")),
        storage_rate=storage,
        insurance_rate=insurance,
        entry_fee_rate=p.get("vault_entry_fee_rate"),
        carry_fee_rate=fee,
        draw_share=p.get("vault_draw_share"),
        unreplenished_share=p.get("vault_unreplenished_share"),
    )


@dataclass(frozen=True)
class Book:
    """What the reserve holds and who has committed to it, per material (USD at purchase prices)."""

    materials: list[str]
    purchase_usd: np.ndarray  # [M] spent in year 0 on the holdings
    committed_usd: np.ndarray  # [M] repurchase commitments at preset prices (<= holdings' value)

    def __post_init__(self) -> None:
        m = len(self.materials)
        for name in ("purchase_usd", "committed_usd"):
            v = getattr(self, name)
            if v.shape != (m,) or not np.all(np.isfinite(v)) or np.any(v < 0):
                raise ValueError(f"book: {name} must be {m} finite values >= 0")
        if np.any(self.committed_usd > self.purchase_usd * (1 + 1e-9)):
            raise ValueError("book: committed value exceeds the holdings' value for some material")


def drawdown(book: Book, terms: FinanceTerms) -> tuple[float, float]:
    """``(equity called, loan drawn)``: purchases are paid with the private equity first, then the loan."""
    need = float(book.purchase_usd.sum())
    if need > terms.loan_usd + terms.equity_usd * (1 + 1e-9):
        raise ValueError(
            f"book: purchases of {need:,.0f} USD exceed the loan plus equity "
            f"({terms.loan_usd + terms.equity_usd:,.0f} USD)"
        )
    equity = min(terms.equity_usd, need)
    return equity, min(terms.loan_usd, need - equity)


def debt_schedule(terms: FinanceTerms, drawn: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(interest, principal)`` per year 1..N on ``drawn`` (default: the whole loan): interest only during
    the grace years, then a level annuity."""
    n, g, r = terms.term_years, terms.grace_years, terms.interest_rate
    debt = terms.loan_usd if drawn is None else drawn
    k = n - g
    payment = debt / k if r == 0 else debt * r / (1.0 - (1.0 + r) ** -k)
    interest, principal = np.zeros(n), np.zeros(n)
    for y in range(n):
        interest[y] = r * debt
        principal[y] = 0.0 if y < g else min(debt, payment - interest[y])
        debt -= principal[y]
    return interest, principal


@dataclass(frozen=True)
class CashFlows:
    """Yearly cash flows ``[scenario, year]`` (year 0 first) and the derived outcomes."""

    inflows: np.ndarray
    outflows: np.ndarray
    cash: np.ndarray
    equity: np.ndarray
    debt: np.ndarray  # [year] outstanding after each year's repayment
    missed: np.ndarray  # [scenario, year] bool: cash before debt service did not cover it


def cash_flows(book: Book, terms: FinanceTerms, price_index: np.ndarray, disrupted: np.ndarray) -> CashFlows:
    """The cash-flow model of the module docstring. ``price_index`` ``[S, N, M]`` is the market price of
    the holdings relative to purchase; ``disrupted`` ``[S, N, M]`` (bool) marks years subscribers draw."""
    s_n, n, m = price_index.shape
    if n != terms.term_years or m != len(book.materials) or disrupted.shape != price_index.shape:
        raise ValueError(
            f"cash_flows: price_index {price_index.shape} and disrupted {disrupted.shape}; expected "
            f"[scenarios, {terms.term_years} years, {len(book.materials)} materials]"
        )
    if not np.all(np.isfinite(price_index)) or np.any(price_index <= 0):
        raise ValueError("cash_flows: price_index must be finite and > 0")
    equity_in, drawn = drawdown(book, terms)
    interest, principal = debt_schedule(terms, drawn)
    debt = np.maximum(drawn - np.cumsum(principal), 0.0)
    debt[np.abs(debt) < 1e-6 * max(drawn, 1.0)] = 0.0  # the annuity repays to rounding
    committed, uncommitted = book.committed_usd, book.purchase_usd - book.committed_usd
    # share of each commitment still open after each year: a draw not replenished is paid at market
    taken = disrupted * (terms.draw_share * terms.unreplenished_share)  # [S, N, M]
    open_after = np.cumprod(1.0 - taken, axis=1)
    open_before = np.concatenate([np.ones((s_n, 1, m)), open_after[:, :-1, :]], axis=1)
    held = price_index * (uncommitted + committed * open_after)  # stock left at market value
    paid_draws = (taken * open_before * committed * price_index).sum(axis=2)
    carry_fee = terms.carry_fee_rate * (committed * open_before).sum(axis=2)
    inflows = np.zeros((s_n, n + 1))
    outflows = np.zeros((s_n, n + 1))
    inflows[:, 0] = drawn + equity_in + terms.entry_fee_rate * committed.sum()
    outflows[:, 0] = book.purchase_usd.sum()
    inflows[:, 1:] = carry_fee + paid_draws
    repurchase = (committed * open_after[:, -1, :]).sum(axis=1)  # at preset prices
    inflows[:, -1] += repurchase + (uncommitted * price_index[:, -1, :]).sum(axis=1)
    upkeep = (terms.storage_rate + terms.insurance_rate) * held.sum(axis=2)
    service = interest + principal
    outflows[:, 1:] = service[None, :] + upkeep
    cash = np.cumsum(inflows - outflows, axis=1)
    due = service[None, :] > 0
    missed = due & (cash[:, 1:] + service[None, :] < service[None, :] - 1e-6)  # cash before it < service
    equity = cash.copy()
    equity[:, 0] += book.purchase_usd.sum() - drawn
    equity[:, 1:-1] += held[:, :-1, :].sum(axis=2) - debt[None, :-1]
    equity[:, -1] -= debt[-1]  # at the end the stock has been bought back or sold
    return CashFlows(inflows, outflows, cash, equity, np.concatenate([[drawn], debt]), missed)


@dataclass(frozen=True)
class FinanceResult:
    """Bands by year, the probability that debt service is missed and the break-even carrying fee."""

    by_year: pd.DataFrame  # year, cash_p5/p50/p95, equity_p5/p50/p95, debt_usd, p_missed
    p_debt_service_missed: float
    expected_final_equity_usd: float
    carry_fee_rate: float
    break_even_carry_fee_rate: float
    terms: FinanceTerms
    loan_drawn_usd: float
    equity_called_usd: float

    def headline(self, book: Book, scenarios: int) -> str:
        """The result in words (CLI, API and dashboard)."""
        t = self.terms
        return (
            f"Holdings {book.purchase_usd.sum() / 1e9:.2f} bn USD, {book.committed_usd.sum() / 1e9:.2f} bn "
            f"committed by subscribers; loan drawn {self.loan_drawn_usd / 1e9:.2f} bn of "
            f"{t.loan_usd / 1e9:.2f} bn over {t.term_years} years at {t.interest_rate:.1%}. Debt service "
            f"is missed in {self.p_debt_service_missed:.0%} of {scenarios:,} scenarios; expected equity at "
            f"year {t.term_years}: {self.expected_final_equity_usd / 1e9:.2f} bn USD. Carrying fee "
            f"{self.carry_fee_rate:.2%} a year; break-even fee {self.break_even_carry_fee_rate:.2%}."
        )


def _bands(values: np.ndarray, name: str) -> dict[str, np.ndarray]:
    q = np.percentile(values, [5, 50, 95], axis=0)
    return {f"{name}_p5_usd": q[0], f"{name}_p50_usd": q[1], f"{name}_p95_usd": q[2]}


def break_even_fee(book: Book, terms: FinanceTerms, price_index: np.ndarray, disrupted: np.ndarray) -> float:
    """The carrying fee rate at which the expected equity at the loan's end is zero (brentq on [-1, 1])."""

    def final_equity(fee: float) -> float:
        t = FinanceTerms(**{**vars(terms), "carry_fee_rate": fee})
        return float(cash_flows(book, t, price_index, disrupted).equity[:, -1].mean())

    lo, hi = -1.0, 1.0
    if final_equity(lo) > 0 or final_equity(hi) < 0:
        raise ValueError("break_even_fee: no carrying fee in [-100%, 100%] a year balances the books")
    return float(brentq(final_equity, lo, hi, xtol=1e-10))


def evaluate_finance(
    book: Book, terms: FinanceTerms, price_index: np.ndarray, disrupted: np.ndarray
) -> FinanceResult:
    """Run the cash-flow model and summarise it (see :class:`FinanceResult`)."""
    cf = cash_flows(book, terms, price_index, disrupted)
    years = np.arange(terms.term_years + 1)
    frame = pd.DataFrame(
        {
            "year": years,
            **_bands(cf.cash, "cash"),
            **_bands(cf.equity, "equity"),
            "debt_usd": cf.debt,
            "p_missed": np.concatenate([[0.0], cf.missed.mean(axis=0)]),
        }
    )
    return FinanceResult(
        by_year=frame,
        p_debt_service_missed=float(cf.missed.any(axis=1).mean()),
        expected_final_equity_usd=float(cf.equity[:, -1].mean()),
        carry_fee_rate=terms.carry_fee_rate,
        break_even_carry_fee_rate=break_even_fee(book, terms, price_index, disrupted),
        terms=terms,
        loan_drawn_usd=float(cf.debt[0]),
        equity_called_usd=drawdown(book, terms)[0],
    )
