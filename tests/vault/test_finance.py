"""The Vault's finance model: a hand-worked two-year case, the cash identity on random ledgers, the
break-even fee, the debt schedule and the participants' positions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.vault import Acquire, OpenReserve, Participant, RegisterParticipant, ReserveTerms, Subscribe, run
from critmin.vault.finance import (
    Book,
    FinanceTerms,
    cash_flows,
    debt_schedule,
    evaluate_finance,
    finance_terms,
)
from critmin.vault.finance_inputs import book_from_state
from critmin.vault.positions import positions

HAND = FinanceTerms(
    loan_usd=100.0,
    equity_usd=10.0,
    term_years=2,
    interest_rate=0.10,
    grace_years=1,
    storage_rate=0.0,
    insurance_rate=0.0,
    entry_fee_rate=0.0,
    carry_fee_rate=0.05,
    draw_share=0.5,
    unreplenished_share=0.0,
)
HAND_BOOK = Book(["gallium"], np.array([110.0]), np.array([100.0]))


def _flat(n: int, years: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    return np.ones((n, years, m)), np.zeros((n, years, m), dtype=bool)


def test_hand_worked_two_year_reserve() -> None:
    """Year 0: 100 + 10 - 110 = 0. Year 1: fee 5, interest 10 -> cash -5, service missed. Year 2: fee 5 +
    repurchase 100 + uncommitted 10 sold at market = 115 in; interest 10 + principal 100 out -> cash 0."""
    price, dis = _flat(1, 2, 1)
    cf = cash_flows(HAND_BOOK, HAND, price, dis)
    assert cf.cash[0].tolist() == pytest.approx([0.0, -5.0, 0.0])
    assert cf.inflows[0].tolist() == pytest.approx([110.0, 5.0, 115.0])
    assert cf.outflows[0].tolist() == pytest.approx([110.0, 10.0, 110.0])
    assert cf.missed[0].tolist() == [True, False]
    assert cf.equity[0, 0] == pytest.approx(10.0) and cf.equity[0, -1] == pytest.approx(0.0)
    res = evaluate_finance(HAND_BOOK, HAND, price, dis)
    assert res.break_even_carry_fee_rate == pytest.approx(0.05, abs=1e-9)  # final equity = 200 f - 10
    assert res.p_debt_service_missed == 1.0


def test_annuity_repays_the_loan_and_grace_years_pay_interest_only() -> None:
    t = finance_terms()
    interest, principal = debt_schedule(t)
    assert principal.sum() == pytest.approx(t.loan_usd)
    assert np.all(principal[: t.grace_years] == 0)
    assert interest[0] == pytest.approx(t.interest_rate * t.loan_usd)
    level = interest[t.grace_years :] + principal[t.grace_years :]
    assert np.allclose(level, level[0])


@st.composite
def ledgers(draw: st.DrawFn) -> list:
    d = date(2026, 1, 1)
    ops: list = [
        OpenReserve(
            key="open",
            on=d,
            terms=ReserveTerms(capital_usd=1e9, carry_rate_per_year=0.06, default_trigger_multiple=1.5),
        ),
        RegisterParticipant(key="m", on=d, participant=Participant(id="maker", kind="manufacturer")),
    ]
    for k, mat in enumerate(
        draw(
            st.lists(st.sampled_from(["gallium", "cobalt", "tungsten"]), min_size=1, max_size=3, unique=True)
        )
    ):
        t = draw(st.floats(1.0, 500.0))
        p = draw(st.floats(1e3, 1e6))
        ops.append(Acquire(key=f"a{k}", on=d, material=mat, tonnes=t, price_usd_per_t=p))
        q = draw(st.floats(0.1, 1.0)) * t
        ops.append(
            Subscribe(
                key=f"s{k}",
                on=d,
                subscription_id=f"s{k}",
                participant_id="maker",
                material=mat,
                quantity_t=q,
                preset_price_usd_per_t=p * draw(st.floats(0.5, 1.0)),
                upfront_fee_usd=draw(st.floats(0.0, 1e5)),
            )
        )
    return ops


@settings(max_examples=40, deadline=None)
@given(ops=ledgers(), seed=st.integers(0, 2**16), years=st.integers(2, 15))
def test_cash_identity_holds_every_year_on_random_ledgers(ops: list, seed: int, years: int) -> None:
    state, _ = run(ops)
    book = book_from_state(state)
    rng = np.random.default_rng(seed)
    terms = replace(
        finance_terms(),
        term_years=years,
        grace_years=min(3, years - 1),
        loan_usd=0.8 * book.purchase_usd.sum(),
        equity_usd=0.3 * book.purchase_usd.sum(),
    )
    m = len(book.materials)
    price = np.exp(rng.normal(0.0, 0.3, (20, years, m)))
    dis = rng.random((20, years, m)) < 0.2
    cf = cash_flows(book, terms, price, dis)
    assert np.allclose(np.diff(cf.cash, axis=1), cf.inflows[:, 1:] - cf.outflows[:, 1:])
    assert np.allclose(cf.cash[:, 0], cf.inflows[:, 0] - cf.outflows[:, 0])
    assert np.all(cf.inflows >= 0) and np.all(cf.outflows >= 0)
    assert cf.debt[-1] == pytest.approx(0.0, abs=1e-3)


def test_break_even_fee_zeroes_expected_final_equity() -> None:
    rng = np.random.default_rng(7)
    book = Book(["a", "b"], np.array([6e9, 4e9]), np.array([5e9, 3e9]))
    terms = finance_terms()
    price = np.exp(np.cumsum(rng.normal(-0.045, 0.3, (500, terms.term_years, 2)), axis=1))
    dis = rng.random((500, terms.term_years, 2)) < 0.1
    fee = evaluate_finance(book, terms, price, dis).break_even_carry_fee_rate
    at_fee = cash_flows(book, replace(terms, carry_fee_rate=fee), price, dis)
    assert abs(at_fee.equity[:, -1].mean()) < 1e-3 * book.purchase_usd.sum()
    higher = cash_flows(book, replace(terms, carry_fee_rate=fee + 0.01), price, dis)
    assert higher.equity[:, -1].mean() > 0  # a higher fee leaves equity


def test_positions_show_only_the_participants_own_rows() -> None:
    d = date(2026, 1, 1)
    terms = ReserveTerms(capital_usd=1e9, carry_rate_per_year=0.06, default_trigger_multiple=1.5)
    ops = [
        OpenReserve(key="o", on=d, terms=terms),
        RegisterParticipant(key="r1", on=d, participant=Participant(id="gm", kind="manufacturer")),
        RegisterParticipant(key="r2", on=d, participant=Participant(id="boeing", kind="manufacturer")),
        Acquire(key="a", on=d, material="gallium", tonnes=100, price_usd_per_t=500_000),
        Subscribe(
            key="s1",
            on=d,
            subscription_id="s1",
            participant_id="gm",
            material="gallium",
            quantity_t=30,
            preset_price_usd_per_t=520_000,
            upfront_fee_usd=1e5,
        ),
        Subscribe(
            key="s2",
            on=d,
            subscription_id="s2",
            participant_id="boeing",
            material="gallium",
            quantity_t=50,
            preset_price_usd_per_t=520_000,
            upfront_fee_usd=2e5,
        ),
    ]
    state, _ = run(ops)
    mine = positions(state, "gm")
    assert mine["participant_id"].tolist() == ["gm"]
    assert mine["repurchase_exposure_usd"].iloc[0] == pytest.approx(30 * 520_000)
    assert mine["draw_rights_t"].iloc[0] == pytest.approx(30)
    assert len(positions(state)) == 2
