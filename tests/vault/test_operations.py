"""Reserve operating rules: hand-worked transitions, error messages, terms from the parameter table."""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources
from io import StringIO

import pandas as pd
import pytest

from critmin.parameters import ParameterSet
from critmin.vault import (
    OPERATION_ADAPTER,
    Acquire,
    AdvanceClock,
    BuyBack,
    DeclareDisruption,
    DrawStock,
    EmergencyAllocate,
    IdempotencyConflict,
    ObservePrice,
    OpenReserve,
    Participant,
    RegisterParticipant,
    Replenish,
    ReserveState,
    ReserveTerms,
    SettleCarry,
    SetTrigger,
    Subscribe,
    VaultRuleError,
    apply,
    default_terms,
    replay,
    run,
)
from critmin.vault.operations import LedgerEntry

D0 = date(2026, 3, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def _opened(rate: float = 0.0365) -> tuple[ReserveState, list[LedgerEntry]]:
    terms = ReserveTerms(capital_usd=1_000_000.0, carry_rate_per_year=rate, default_trigger_multiple=1.5)
    return run(
        [
            OpenReserve(key="open", on=D0, terms=terms),
            RegisterParticipant(key="r1", on=D0, participant=Participant(id="gm", kind="manufacturer")),
            RegisterParticipant(key="r2", on=D0, participant=Participant(id="boeing", kind="manufacturer")),
            RegisterParticipant(key="r3", on=D0, participant=Participant(id="traxys", kind="trader")),
        ]
    )


def test_subscription_fee_and_carry_accrual_by_hand() -> None:
    state, _ = _opened()
    state, e = apply(
        state,
        Subscribe(
            key="s1",
            on=D0,
            subscription_id="gm-ga",
            participant_id="gm",
            material="gallium",
            quantity_t=10.0,
            preset_price_usd_per_t=1000.0,
            upfront_fee_usd=500.0,
        ),
    )
    assert state.cash_usd == 1_000_500.0 and state.fees_collected_usd == 500.0
    # 10 t x 1000 USD/t x 3.65 %/yr = 365 USD a year = 1 USD a day
    state, e = apply(state, AdvanceClock(key="adv", on=day(30)))
    assert state.carry_owed_usd["gm"] == pytest.approx(30.0)
    assert e.effects["carry_accrued_usd"] == {"gm-ga": pytest.approx(30.0)}
    state, _ = apply(state, SettleCarry(key="pay", on=day(30), participant_id="gm", amount_usd=20.0))
    assert state.carry_owed_usd["gm"] == pytest.approx(10.0)
    assert state.cash_usd == pytest.approx(1_000_520.0)
    with pytest.raises(VaultRuleError, match=r"'settle_carry' \(key 'pay2'\), field amount_usd: 11.0"):
        apply(state, SettleCarry(key="pay2", on=day(30), participant_id="gm", amount_usd=11.0))


def _stocked() -> ReserveState:
    state, _ = _opened()
    ops = [
        Subscribe(
            key="s1",
            on=D0,
            subscription_id="gm-ga",
            participant_id="gm",
            material="gallium",
            quantity_t=30.0,
            preset_price_usd_per_t=1000.0,
            upfront_fee_usd=0.0,
        ),
        Subscribe(
            key="s2",
            on=D0,
            subscription_id="bo-ga",
            participant_id="boeing",
            material="gallium",
            quantity_t=10.0,
            preset_price_usd_per_t=1200.0,
            upfront_fee_usd=0.0,
        ),
        Acquire(
            key="a1", on=D0, material="gallium", tonnes=40.0, price_usd_per_t=900.0, supplier_id="traxys"
        ),
    ]
    state, _ = run(ops, state)
    return state


def test_acquisition_spends_cash_and_is_limited_by_it() -> None:
    state = _stocked()
    assert state.stock("gallium") == 40.0
    assert state.cash_usd == pytest.approx(1_000_000.0 - 36_000.0)
    with pytest.raises(VaultRuleError, match=r"field tonnes: 2000.0; expected a purchase within the cash"):
        apply(state, Acquire(key="a2", on=D0, material="gallium", tonnes=2000.0, price_usd_per_t=900.0))
    with pytest.raises(VaultRuleError, match="supplier_id: 'gm'; expected a registered trader"):
        apply(
            state,
            Acquire(key="a3", on=D0, material="gallium", tonnes=1.0, price_usd_per_t=9.0, supplier_id="gm"),
        )


def test_draw_replenished_on_time_is_not_flagged_and_late_one_is() -> None:
    state = _stocked()
    state, _ = apply(
        state, DrawStock(key="d1", on=day(1), draw_id="d1", subscription_id="gm-ga", tonnes=5, due=day(10))
    )
    state, _ = apply(
        state, DrawStock(key="d2", on=day(1), draw_id="d2", subscription_id="bo-ga", tonnes=4, due=day(10))
    )
    assert state.stock("gallium") == pytest.approx(31.0)
    state, _ = apply(state, Replenish(key="p1", on=day(10), draw_id="d1", tonnes=5))
    state, e = apply(state, AdvanceClock(key="adv", on=day(11)))
    assert e.effects["draws_flagged_overdue"] == ["d2"]
    assert [d.id for d in state.overdue_draws()] == ["d2"]
    assert not state.draws["d1"].overdue
    state, e = apply(state, Replenish(key="p2", on=day(12), draw_id="d2", tonnes=4))
    assert e.effects["late"] is True
    assert state.stock("gallium") == pytest.approx(40.0)
    assert state.draws["d2"].overdue  # the flag stays as a record


def test_draw_limits_name_the_field_and_value() -> None:
    state = _stocked()
    with pytest.raises(VaultRuleError, match=r"field tonnes: 31.0; expected at most 30.0 t"):
        apply(
            state, DrawStock(key="d", on=day(1), draw_id="d", subscription_id="gm-ga", tonnes=31, due=day(9))
        )
    with pytest.raises(VaultRuleError, match=r"field due: '2026-03-02'; expected a date after 2026-03-02"):
        apply(
            state, DrawStock(key="d", on=day(1), draw_id="d", subscription_id="gm-ga", tonnes=1, due=day(1))
        )
    with pytest.raises(VaultRuleError, match=r"field subscription_id: 'nope'"):
        apply(state, DrawStock(key="d", on=day(1), draw_id="d", subscription_id="nope", tonnes=1, due=day(9)))


def test_buy_back_at_preset_price() -> None:
    state = _stocked()
    cash = state.cash_usd
    state, e = apply(state, BuyBack(key="b1", on=day(5), subscription_id="bo-ga", tonnes=10))
    assert e.effects["paid_usd"] == pytest.approx(12_000.0)
    assert state.cash_usd == pytest.approx(cash + 12_000.0)
    assert state.stock("gallium") == pytest.approx(30.0)
    assert state.subscriptions["bo-ga"].open_t == 0.0
    assert state.cost_of_stock_usd["gallium"] == pytest.approx(36_000.0 * 30 / 40)
    with pytest.raises(VaultRuleError, match=r"field tonnes: 1.0; expected at most 0.0 t"):
        apply(state, BuyBack(key="b2", on=day(5), subscription_id="bo-ga", tonnes=1))


def test_release_trigger_by_price_and_by_declaration() -> None:
    state = _stocked()
    state, e = apply(state, SetTrigger(key="t", on=D0, material="gallium", baseline_usd_per_t=100.0))
    assert state.triggers["gallium"].multiple == 1.5 and e.effects["release_active"] is False
    state, e = apply(state, ObservePrice(key="o1", on=D0, material="gallium", reference_usd_per_t=150.0))
    assert e.effects["release_active"] is False  # 150 is not above 1.5 x 100
    with pytest.raises(VaultRuleError, match="expected a material whose release trigger is active"):
        apply(
            state,
            EmergencyAllocate(
                key="al", on=day(1), allocation_id="x", material="gallium", tonnes=1, due=day(9)
            ),
        )
    state, e = apply(state, ObservePrice(key="o2", on=D0, material="gallium", reference_usd_per_t=150.01))
    assert e.effects["release_active"] is True
    state, e = apply(state, ObservePrice(key="o3", on=D0, material="gallium", reference_usd_per_t=120.0))
    assert e.effects["release_active"] is False
    state, e = apply(state, DeclareDisruption(key="dec", on=D0, material="gallium"))
    assert e.effects["release_active"] is True
    with pytest.raises(VaultRuleError, match="a material with a trigger set"):
        apply(state, DeclareDisruption(key="dec2", on=D0, material="cobalt"))


def test_emergency_allocation_is_pro_rata_to_subscriptions() -> None:
    state = _stocked()
    state, _ = run(
        [
            SetTrigger(key="t", on=D0, material="gallium", baseline_usd_per_t=100.0),
            DeclareDisruption(key="dec", on=D0, material="gallium"),
        ],
        state,
    )
    state, e = apply(
        state,
        EmergencyAllocate(
            key="al", on=day(2), allocation_id="em1", material="gallium", tonnes=8, due=day(92)
        ),
    )
    # subscriptions 30 t and 10 t -> 6 t and 2 t
    assert e.effects["allocated_t"] == {"gm": pytest.approx(6.0), "boeing": pytest.approx(2.0)}
    assert state.draws["em1:gm-ga"].emergency and state.draws["em1:gm-ga"].due == day(92)
    assert state.stock("gallium") == pytest.approx(32.0)
    with pytest.raises(VaultRuleError, match=r"at most the 32.0 t of gallium in inventory"):
        apply(
            state,
            EmergencyAllocate(
                key="al2", on=day(2), allocation_id="em2", material="gallium", tonnes=33, due=day(92)
            ),
        )


def test_idempotency_and_clock() -> None:
    state = _stocked()
    op = Acquire(key="a9", on=day(3), material="gallium", tonnes=1.0, price_usd_per_t=10.0)
    once, e1 = apply(state, op)
    twice, e2 = apply(once, op)
    assert twice is once and e2.duplicate and not e1.duplicate
    with pytest.raises(IdempotencyConflict, match="key 'a9' was already used for a different operation"):
        apply(once, Acquire(key="a9", on=day(3), material="gallium", tonnes=2.0, price_usd_per_t=10.0))
    with pytest.raises(VaultRuleError, match="field on: '2026-03-02'; expected a date on or after"):
        apply(once, AdvanceClock(key="back", on=day(1)))


def test_operations_require_an_open_reserve_and_state_is_not_mutated() -> None:
    with pytest.raises(VaultRuleError, match="expected an 'open' operation first"):
        apply(ReserveState(), AdvanceClock(key="x", on=D0))
    state = _stocked()
    before = state.model_dump()
    apply(state, BuyBack(key="b", on=day(5), subscription_id="gm-ga", tonnes=3))
    assert state.model_dump() == before


def test_ledger_round_trips_through_json_and_replays() -> None:
    _, prelude = _opened()
    extra = [
        Subscribe(
            key="s1",
            on=D0,
            subscription_id="gm-ga",
            participant_id="gm",
            material="gallium",
            quantity_t=30.0,
            preset_price_usd_per_t=1000.0,
            upfront_fee_usd=10.0,
        ),
        Acquire(key="a1", on=D0, material="gallium", tonnes=40.0, price_usd_per_t=900.0),
        DrawStock(key="d1", on=day(1), draw_id="d1", subscription_id="gm-ga", tonnes=5, due=day(10)),
        AdvanceClock(key="adv", on=day(20)),
    ]
    state, ledger = run([*(e.operation for e in prelude), *extra])
    assert state.draws["d1"].overdue
    parsed = [LedgerEntry.model_validate_json(e.model_dump_json()) for e in ledger]
    assert parsed == ledger
    assert replay(parsed) == state
    tampered = [*parsed[:-1], parsed[-1].model_copy(update={"state_digest": "0" * 16})]
    with pytest.raises(VaultRuleError, match="replayed state digest"):
        replay(tampered)


def test_unknown_field_in_operation_is_rejected() -> None:
    with pytest.raises(ValueError, match="tonnez"):
        OPERATION_ADAPTER.validate_python(
            {
                "op": "acquire",
                "key": "k",
                "on": "2026-03-01",
                "material": "gallium",
                "tonnez": 1,
                "price_usd_per_t": 1,
            }
        )


def _vault_only() -> ParameterSet:
    text = resources.files("critmin.data").joinpath("parameters/vault.csv").read_text(encoding="utf-8")
    return ParameterSet(table=pd.read_csv(StringIO(text), dtype={"material": str}))


def test_default_terms_from_parameter_table() -> None:
    p = _vault_only()
    terms = default_terms(p)
    assert terms.capital_usd == pytest.approx(11.67e9)
    blended = (10e9 * 0.05 + 1.67e9 * 0.08) / 11.67e9
    assert terms.carry_rate_per_year == pytest.approx(blended + 0.01)
    assert terms.default_trigger_multiple == 1.5
    override = default_terms(p.with_overrides({("vault_storage_cost_rate", "default"): 0.0}))
    assert override.carry_rate_per_year == pytest.approx(blended)


def test_rule_days_match_the_compiled_market_parameter_table() -> None:
    raw = resources.files("critmin.data").joinpath("raw/parameters/market_parameters.csv").read_text("utf-8")
    table = pd.read_csv(StringIO(raw))
    iea = table[
        (table["mineral"] == "oil (benchmark)") & (table["parameter"] == "strategic_stock_obligation")
    ]
    japan = table[
        (table["mineral"] == "Japan (34 rare metals)") & (table["parameter"] == "strategic_stockpile_target")
    ]
    p = _vault_only()
    assert float(iea["value"].iloc[0]) == p.get("vault_rule_iea_days")
    assert float(japan["value"].iloc[0]) == p.get("vault_rule_japan_days")
