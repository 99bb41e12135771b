"""Property tests over random operation sequences: inventory never negative, the ledger replays to the same
state, a repeated idempotency key changes nothing, draws not replenished by their due date are flagged,
and stock is conserved (acquired = held + bought back + outstanding draws)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critmin.vault import (
    Acquire,
    AdvanceClock,
    BuyBack,
    DeclareDisruption,
    DrawStock,
    EmergencyAllocate,
    IdempotencyConflict,
    ObservePrice,
    OpenReserve,
    Operation,
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
    replay,
)
from critmin.vault.operations import LedgerEntry
from critmin.vault.state import TOL

D0 = date(2026, 1, 1)
MATERIALS = ["gallium", "cobalt"]
PEOPLE = ["gm", "boeing", "traxys"]
SUBS = ["s1", "s2", "s3", "s4", "s5", "s6"]
DRAWS = ["d1", "d2", "d3", "d4", "d5"]
ALLOCS = ["e1", "e2"]

tonnes = st.floats(0.01, 60.0, allow_nan=False)
small = st.floats(0.01, 15.0, allow_nan=False)
price = st.floats(1.0, 2000.0, allow_nan=False)


def _pick_draw(state: ReserveState, idx: int) -> tuple[str, float]:
    """The id and outstanding tonnes of an existing draw (``idx`` modulo their number), or an unknown id."""
    ids = sorted(state.draws)
    if not ids:
        return "no-such-draw", 1.0
    d = state.draws[ids[idx % len(ids)]]
    return d.id, d.outstanding_t


# each builder gets (key, on, current state) and returns an operation
_builders = st.one_of(
    st.builds(
        lambda sid, who, mat, q, p, fee: (
            lambda k, on, st_: Subscribe(
                key=k,
                on=on,
                subscription_id=sid,
                participant_id=who,
                material=mat,
                quantity_t=q,
                preset_price_usd_per_t=p,
                upfront_fee_usd=fee,
            )
        ),
        st.sampled_from(SUBS),
        st.sampled_from(PEOPLE),
        st.sampled_from(MATERIALS),
        tonnes,
        price,
        st.floats(0, 1000),
    ),
    st.builds(
        lambda mat, t, p, sup: (
            lambda k, on, st_: Acquire(
                key=k, on=on, material=mat, tonnes=t, price_usd_per_t=p, supplier_id=sup
            )
        ),
        st.sampled_from(MATERIALS),
        st.floats(0.01, 200.0),
        price,
        st.sampled_from([None, "traxys", "gm"]),
    ),
    st.builds(
        lambda did, sid, t, due: (
            lambda k, on, st_: DrawStock(
                key=k, on=on, draw_id=did, subscription_id=sid, tonnes=t, due=on + timedelta(days=due)
            )
        ),
        st.sampled_from(DRAWS),
        st.sampled_from(SUBS),
        small,
        st.integers(-1, 40),
    ),
    st.builds(
        lambda idx, share: (
            lambda k, on, st_: Replenish(
                key=k,
                on=on,
                draw_id=_pick_draw(st_, idx)[0],
                tonnes=max(0.01, share * _pick_draw(st_, idx)[1]),
            )
        ),
        st.integers(0, 20),
        st.floats(0.1, 1.2),
    ),
    st.builds(
        lambda sid, t: lambda k, on, st_: BuyBack(key=k, on=on, subscription_id=sid, tonnes=t),
        st.sampled_from(SUBS),
        tonnes,
    ),
    st.builds(
        lambda who, a: lambda k, on, st_: SettleCarry(key=k, on=on, participant_id=who, amount_usd=a),
        st.sampled_from(PEOPLE),
        st.floats(0.01, 500.0),
    ),
    st.builds(
        lambda mat, b: lambda k, on, st_: SetTrigger(key=k, on=on, material=mat, baseline_usd_per_t=b),
        st.sampled_from(MATERIALS),
        price,
    ),
    st.builds(
        lambda mat, p: lambda k, on, st_: ObservePrice(key=k, on=on, material=mat, reference_usd_per_t=p),
        st.sampled_from(MATERIALS),
        price,
    ),
    st.builds(
        lambda mat, flag: lambda k, on, st_: DeclareDisruption(key=k, on=on, material=mat, declared=flag),
        st.sampled_from(MATERIALS),
        st.booleans(),
    ),
    st.builds(
        lambda aid, mat, t, due: (
            lambda k, on, st_: EmergencyAllocate(
                key=k, on=on, allocation_id=aid, material=mat, tonnes=t, due=on + timedelta(days=due)
            )
        ),
        st.sampled_from(ALLOCS),
        st.sampled_from(MATERIALS),
        small,
        st.integers(1, 60),
    ),
    st.just(lambda k, on, st_: AdvanceClock(key=k, on=on)),
)

# a step: an operation builder, days to move the clock, and whether to resend an earlier operation instead
steps = st.lists(
    st.tuples(_builders, st.integers(0, 15), st.integers(-1, 30)),
    min_size=5,
    max_size=40,
)


def _prelude() -> list[Operation]:
    """An open reserve with participants, four subscriptions, stock of both materials and triggers set."""
    terms = ReserveTerms(capital_usd=50_000.0, carry_rate_per_year=0.07, default_trigger_multiple=1.5)
    ops: list[Operation] = [
        OpenReserve(key="open", on=D0, terms=terms),
        RegisterParticipant(key="p-gm", on=D0, participant=Participant(id="gm", kind="manufacturer")),
        RegisterParticipant(key="p-bo", on=D0, participant=Participant(id="boeing", kind="manufacturer")),
        RegisterParticipant(key="p-tx", on=D0, participant=Participant(id="traxys", kind="trader")),
    ]
    subs = [
        ("s1", "gm", "gallium", 40.0),
        ("s2", "boeing", "gallium", 20.0),
        ("s3", "gm", "cobalt", 30.0),
        ("s4", "boeing", "cobalt", 50.0),
    ]
    for sid, who, mat, q in subs:
        ops.append(
            Subscribe(
                key=f"sub-{sid}",
                on=D0,
                subscription_id=sid,
                participant_id=who,
                material=mat,
                quantity_t=q,
                preset_price_usd_per_t=100.0,
                upfront_fee_usd=50.0,
            )
        )
    for mat in MATERIALS:
        ops.append(Acquire(key=f"buy-{mat}", on=D0, material=mat, tonnes=60.0, price_usd_per_t=100.0))
        ops.append(SetTrigger(key=f"trig-{mat}", on=D0, material=mat, baseline_usd_per_t=100.0))
    return ops


def _check_invariants(state: ReserveState, flows: dict[str, float]) -> None:
    for material, held in state.inventory_t.items():
        assert held >= 0.0, f"negative inventory of {material}: {held}"
    assert state.cash_usd >= 0.0
    for owed in state.carry_owed_usd.values():
        assert owed >= -TOL
    for d in state.draws.values():
        if d.outstanding_t > TOL and d.due < state.as_of:
            assert d.overdue, f"draw {d.id} due {d.due} unreplenished at {state.as_of} is not flagged"
        if d.overdue:
            assert d.due < state.as_of
    for material in MATERIALS:
        outstanding = sum(d.outstanding_t for d in state.draws.values() if d.material == material)
        expected = flows[f"acquired:{material}"] - flows[f"bought_back:{material}"] - outstanding
        assert state.stock(material) == pytest.approx(expected, abs=1e-6)


def _record_flows(flows: dict[str, float], op: Operation, entry: LedgerEntry, state: ReserveState) -> None:
    if isinstance(op, Acquire):
        flows[f"acquired:{op.material}"] += op.tonnes
    if isinstance(op, BuyBack):
        flows[f"bought_back:{state.subscriptions[op.subscription_id].material}"] += op.tonnes


def _check_pro_rata(before: ReserveState, op: EmergencyAllocate, entry: LedgerEntry) -> None:
    """An emergency allocation splits the tonnes in proportion to the open subscriptions of the material."""
    open_by = defaultdict(float)
    for sub in before.subscriptions.values():
        if sub.material == op.material and sub.open_t > TOL:
            open_by[sub.participant_id] += sub.open_t
    total = sum(open_by.values())
    got = entry.effects["allocated_t"]
    assert sum(got.values()) == pytest.approx(op.tonnes)
    for who, tonnes in got.items():
        assert tonnes == pytest.approx(op.tonnes * open_by[who] / total)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_random_operation_sequences_keep_the_invariants(plan: list[tuple[Any, int, int]]) -> None:
    state = ReserveState()
    ledger: list[LedgerEntry] = []
    flows: dict[str, float] = defaultdict(float)
    for op in _prelude():
        state, entry = apply(state, op)
        ledger.append(entry)
        _record_flows(flows, op, entry, state)
    sent: list[Operation] = []
    on = D0
    rejected = 0
    for i, (build, gap, resend) in enumerate(plan):
        on = on + timedelta(days=gap)
        # resend >= 0 retries an operation sent before: same key, same content
        op = sent[resend] if 0 <= resend < len(sent) else build(f"k{i}", on, state)
        before = state.model_dump()
        try:
            new, entry = apply(state, op)
        except VaultRuleError:
            rejected += 1
            assert state.model_dump() == before  # a rejected operation changes nothing
            continue
        assert state.model_dump() == before  # apply never mutates its input
        if entry.duplicate:
            assert new is state
            assert op.key in state.applied
            continue
        sent.append(op)
        if isinstance(op, EmergencyAllocate):
            _check_pro_rata(state, op, entry)
        _record_flows(flows, op, entry, new)
        state = new
        ledger.append(entry)
        _check_invariants(state, flows)
    # the ledger replays to the same state
    rebuilt = replay(ledger)
    assert rebuilt == state
    assert rebuilt.digest() == state.digest()
    # every operation resent with its key changes nothing
    for entry in ledger:
        again, dup = apply(state, entry.operation)
        assert again is state and dup.duplicate
    # a key reused for different content is refused
    if sent:
        first = sent[0]
        other = AdvanceClock(key=first.key, on=state.as_of)
        if other != first:
            with pytest.raises(IdempotencyConflict):
                apply(state, other)


@settings(max_examples=60, deadline=None)
@given(
    draws=st.lists(st.tuples(st.floats(0.1, 5.0), st.integers(1, 30), st.booleans()), min_size=1, max_size=6),
    horizon=st.integers(0, 60),
)
def test_unreplenished_draws_are_flagged_exactly_when_past_due(
    draws: list[tuple[float, int, bool]], horizon: int
) -> None:
    state = ReserveState()
    ops: list[Operation] = [
        *_prelude(),
        Subscribe(
            key="s",
            on=D0,
            subscription_id="s9",
            participant_id="gm",
            material="gallium",
            quantity_t=100.0,
            preset_price_usd_per_t=10.0,
            upfront_fee_usd=0.0,
        ),
        Acquire(key="a", on=D0, material="gallium", tonnes=100.0, price_usd_per_t=10.0),
    ]
    for i, (t, due, _) in enumerate(draws):
        ops.append(
            DrawStock(
                key=f"d{i}",
                on=D0,
                draw_id=f"d{i}",
                subscription_id="s9",
                tonnes=t,
                due=D0 + timedelta(days=due),
            )
        )
    for i, (t, due, repaid) in enumerate(draws):
        if repaid:  # replenished on the due date itself: on time
            ops.append(Replenish(key=f"r{i}", on=D0 + timedelta(days=due), draw_id=f"d{i}", tonnes=t))
    ops.sort(key=lambda o: o.on)
    end = D0 + timedelta(days=horizon)
    for op in ops:
        if op.on <= end:
            state, _ = apply(state, op)
    state, _ = apply(state, AdvanceClock(key="end", on=max(end, state.as_of)))
    for i, (_, due, repaid) in enumerate(draws):
        d = state.draws[f"d{i}"]
        due_day = D0 + timedelta(days=due)
        assert d.overdue == (due_day < state.as_of and not repaid)
