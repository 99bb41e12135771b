"""The reserve's operating rules as pure, validated state transitions.

Each operation is a frozen pydantic model with an idempotency ``key`` and a date ``on``.
``apply(state, op)`` returns ``(new_state, LedgerEntry)`` and never mutates ``state``:

- the clock only moves forward; moving it accrues carrying cost on every open subscription and flags
  draws that were not replenished by their due date;
- a repeated key with the same operation returns the state unchanged (entry marked ``duplicate``); the
  same key with a different operation is an :class:`IdempotencyConflict`;
- an operation that breaks a rule raises :class:`VaultRuleError` naming the operation, field, value and
  what was expected; nothing is changed (inventory and cash never go negative).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from critmin.vault.state import (
    TOL,
    Draw,
    Frozen,
    Participant,
    ReleaseTrigger,
    ReserveState,
    ReserveTerms,
    Subscription,
)

DAYS_PER_YEAR = 365.0


class VaultRuleError(ValueError):
    """An operation that the rules forbid in the current state (the state is left unchanged)."""


class IdempotencyConflict(VaultRuleError):
    """An idempotency key reused for a different operation."""


class _Op(Frozen):
    op: str
    key: str = Field(min_length=1, description="idempotency key: the same key is applied at most once")
    on: date


class OpenReserve(_Op):
    op: Literal["open"] = "open"
    terms: ReserveTerms


class RegisterParticipant(_Op):
    op: Literal["register"] = "register"
    participant: Participant


class Subscribe(_Op):
    op: Literal["subscribe"] = "subscribe"
    subscription_id: str = Field(min_length=1)
    participant_id: str
    material: str = Field(min_length=1)
    quantity_t: float = Field(gt=0, allow_inf_nan=False)
    preset_price_usd_per_t: float = Field(gt=0, allow_inf_nan=False)
    upfront_fee_usd: float = Field(ge=0, allow_inf_nan=False)


class Acquire(_Op):
    op: Literal["acquire"] = "acquire"
    material: str = Field(min_length=1)
    tonnes: float = Field(gt=0, allow_inf_nan=False)
    price_usd_per_t: float = Field(gt=0, allow_inf_nan=False)
    supplier_id: str | None = None


class DrawStock(_Op):
    op: Literal["draw"] = "draw"
    draw_id: str = Field(min_length=1)
    subscription_id: str
    tonnes: float = Field(gt=0, allow_inf_nan=False)
    due: date


class Replenish(_Op):
    op: Literal["replenish"] = "replenish"
    draw_id: str
    tonnes: float = Field(gt=0, allow_inf_nan=False)


class BuyBack(_Op):
    op: Literal["buy_back"] = "buy_back"
    subscription_id: str
    tonnes: float = Field(gt=0, allow_inf_nan=False)


class SettleCarry(_Op):
    op: Literal["settle_carry"] = "settle_carry"
    participant_id: str
    amount_usd: float = Field(gt=0, allow_inf_nan=False)


class SetTrigger(_Op):
    op: Literal["set_trigger"] = "set_trigger"
    material: str = Field(min_length=1)
    baseline_usd_per_t: float = Field(gt=0, allow_inf_nan=False)
    multiple: float | None = Field(default=None, gt=1, allow_inf_nan=False)


class ObservePrice(_Op):
    op: Literal["observe_price"] = "observe_price"
    material: str
    reference_usd_per_t: float = Field(gt=0, allow_inf_nan=False)


class DeclareDisruption(_Op):
    op: Literal["declare"] = "declare"
    material: str
    declared: bool = True


class EmergencyAllocate(_Op):
    op: Literal["allocate"] = "allocate"
    allocation_id: str = Field(min_length=1)
    material: str
    tonnes: float = Field(gt=0, allow_inf_nan=False)
    due: date


class AdvanceClock(_Op):
    op: Literal["advance"] = "advance"


Operation = Annotated[
    OpenReserve
    | RegisterParticipant
    | Subscribe
    | Acquire
    | DrawStock
    | Replenish
    | BuyBack
    | SettleCarry
    | SetTrigger
    | ObservePrice
    | DeclareDisruption
    | EmergencyAllocate
    | AdvanceClock,
    Field(discriminator="op"),
]
OPERATION_ADAPTER: TypeAdapter[Operation] = TypeAdapter(Operation)


class LedgerEntry(Frozen):
    """What one ``apply`` did: the operation, its effects and the digest of the state after it."""

    sequence: int
    key: str
    on: date
    operation: Operation
    effects: dict[str, Any] = Field(default_factory=dict)
    duplicate: bool = False
    state_digest: str


def operation_digest(op: _Op) -> str:
    text = json.dumps(op.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fail(op: _Op, field: str, value: object, expected: str) -> VaultRuleError:
    return VaultRuleError(
        f"operation {op.op!r} (key {op.key!r}), field {field}: {value!r}; expected {expected}"
    )


def _advance(state: ReserveState, on: date) -> tuple[ReserveState, dict[str, Any]]:
    """Move the clock to ``on``: accrue carrying cost, flag draws past due with stock outstanding."""
    if on <= state.as_of or state.terms is None:
        return state, {}
    rate = state.terms.carry_rate_per_year
    subs = dict(state.subscriptions)
    owed = dict(state.carry_owed_usd)
    accrued: dict[str, float] = {}
    for sid, sub in state.subscriptions.items():
        days = (on - sub.carry_accrued_to).days
        if days <= 0:
            continue
        amount = sub.open_t * sub.preset_price_usd_per_t * rate * days / DAYS_PER_YEAR
        owed[sub.participant_id] = owed.get(sub.participant_id, 0.0) + amount
        accrued[sid] = amount
        subs[sid] = sub.model_copy(update={"carry_accrued_to": on})
    draws = dict(state.draws)
    flagged = []
    for did, d in state.draws.items():
        if not d.overdue and d.outstanding_t > TOL and d.due < on:
            draws[did] = d.model_copy(update={"overdue": True})
            flagged.append(did)
    new = state.model_copy(
        update={"as_of": on, "subscriptions": subs, "carry_owed_usd": owed, "draws": draws}
    )
    effects: dict[str, Any] = {}
    if accrued:
        effects["carry_accrued_usd"] = accrued
    if flagged:
        effects["draws_flagged_overdue"] = sorted(flagged)
    return new, effects


def _with(d: dict[str, Any], k: str, v: Any) -> dict[str, Any]:
    out = dict(d)
    out[k] = v
    return out


def _require_open(state: ReserveState, op: _Op) -> ReserveTerms:
    if not state.opened or state.terms is None:
        raise _fail(op, "op", op.op, "an 'open' operation first")
    return state.terms


def _subscription(state: ReserveState, op: _Op, sid: str) -> Subscription:
    sub = state.subscriptions.get(sid)
    if sub is None:
        raise _fail(op, "subscription_id", sid, f"one of {sorted(state.subscriptions)}")
    return sub


def _take_stock(state: ReserveState, op: _Op, material: str, tonnes: float) -> dict[str, float]:
    have = state.stock(material)
    if tonnes > have + TOL:
        raise _fail(op, "tonnes", tonnes, f"at most the {have} t of {material} in inventory")
    return _with(state.inventory_t, material, max(0.0, have - tonnes))


Result = tuple[ReserveState, dict[str, Any]]


def _open(state: ReserveState, op: OpenReserve) -> Result:
    if state.opened:
        raise _fail(op, "op", "open", "a reserve that is not open yet")
    upd = {"opened": True, "terms": op.terms, "cash_usd": op.terms.capital_usd, "as_of": op.on}
    return state.model_copy(update=upd), {"cash_usd": op.terms.capital_usd}


def _register(state: ReserveState, op: RegisterParticipant) -> Result:
    p = op.participant
    if p.id in state.participants:
        raise _fail(op, "participant.id", p.id, "an id not registered yet")
    return state.model_copy(update={"participants": _with(state.participants, p.id, p)}), {}


def _subscribe(state: ReserveState, op: Subscribe) -> Result:
    part = state.participants.get(op.participant_id)
    if part is None or part.kind != "manufacturer":
        raise _fail(op, "participant_id", op.participant_id, "a registered manufacturer")
    if op.subscription_id in state.subscriptions:
        raise _fail(op, "subscription_id", op.subscription_id, "a new subscription id")
    sub = Subscription(
        id=op.subscription_id,
        participant_id=op.participant_id,
        material=op.material,
        quantity_t=op.quantity_t,
        preset_price_usd_per_t=op.preset_price_usd_per_t,
        upfront_fee_usd=op.upfront_fee_usd,
        carry_accrued_to=op.on,
    )
    upd = {
        "subscriptions": _with(state.subscriptions, sub.id, sub),
        "cash_usd": state.cash_usd + op.upfront_fee_usd,
        "fees_collected_usd": state.fees_collected_usd + op.upfront_fee_usd,
    }
    return state.model_copy(update=upd), {"fee_usd": op.upfront_fee_usd}


def _acquire(state: ReserveState, op: Acquire) -> Result:
    cost = op.tonnes * op.price_usd_per_t
    if cost > state.cash_usd + TOL:
        expected = f"a purchase within the cash available ({state.cash_usd:.2f} USD)"
        raise _fail(op, "tonnes", op.tonnes, expected)
    if op.supplier_id is not None:
        sup = state.participants.get(op.supplier_id)
        if sup is None or sup.kind != "trader":
            raise _fail(op, "supplier_id", op.supplier_id, "a registered trader")
    upd = {
        "cash_usd": max(0.0, state.cash_usd - cost),
        "inventory_t": _with(state.inventory_t, op.material, state.stock(op.material) + op.tonnes),
        "cost_of_stock_usd": _with(
            state.cost_of_stock_usd, op.material, state.cost_of_stock_usd.get(op.material, 0.0) + cost
        ),
    }
    return state.model_copy(update=upd), {"tonnes": op.tonnes, "cost_usd": cost}


def _open_room(state: ReserveState, op: DrawStock | BuyBack) -> Subscription:
    sub = _subscription(state, op, op.subscription_id)
    room = sub.open_t - state.outstanding_draws_t(sub.id)
    if op.tonnes > room + TOL:
        raise _fail(op, "tonnes", op.tonnes, f"at most {room} t (subscribed, not bought back, not drawn)")
    return sub


def _draw(state: ReserveState, op: DrawStock) -> Result:
    sub = _open_room(state, op)
    if op.due <= op.on:
        raise _fail(op, "due", op.due.isoformat(), f"a date after {op.on.isoformat()}")
    if op.draw_id in state.draws:
        raise _fail(op, "draw_id", op.draw_id, "a new draw id")
    inv = _take_stock(state, op, sub.material, op.tonnes)
    draw = Draw(
        id=op.draw_id,
        subscription_id=sub.id,
        participant_id=sub.participant_id,
        material=sub.material,
        tonnes=op.tonnes,
        drawn_on=op.on,
        due=op.due,
    )
    upd = {"inventory_t": inv, "draws": _with(state.draws, draw.id, draw)}
    return state.model_copy(update=upd), {"tonnes": op.tonnes, "due": op.due.isoformat()}


def _replenish(state: ReserveState, op: Replenish) -> Result:
    d = state.draws.get(op.draw_id)
    if d is None:
        raise _fail(op, "draw_id", op.draw_id, f"one of {sorted(state.draws)}")
    if op.tonnes > d.outstanding_t + TOL:
        raise _fail(op, "tonnes", op.tonnes, f"at most the {d.outstanding_t} t outstanding")
    tonnes = min(op.tonnes, d.outstanding_t)
    new_draw = d.model_copy(update={"replenished_t": d.replenished_t + tonnes})
    upd = {
        "inventory_t": _with(state.inventory_t, d.material, state.stock(d.material) + tonnes),
        "draws": _with(state.draws, d.id, new_draw),
    }
    return state.model_copy(update=upd), {"tonnes": tonnes, "late": op.on > d.due}


def _buy_back(state: ReserveState, op: BuyBack) -> Result:
    sub = _open_room(state, op)
    inv = _take_stock(state, op, sub.material, op.tonnes)
    have = state.stock(sub.material)
    basis = state.cost_of_stock_usd.get(sub.material, 0.0)
    new_basis = basis * (1.0 - min(1.0, op.tonnes / have)) if have > 0 else 0.0
    paid = op.tonnes * sub.preset_price_usd_per_t
    new_sub = sub.model_copy(update={"bought_back_t": min(sub.quantity_t, sub.bought_back_t + op.tonnes)})
    upd = {
        "inventory_t": inv,
        "cash_usd": state.cash_usd + paid,
        "cost_of_stock_usd": _with(state.cost_of_stock_usd, sub.material, new_basis),
        "subscriptions": _with(state.subscriptions, sub.id, new_sub),
    }
    return state.model_copy(update=upd), {"tonnes": op.tonnes, "paid_usd": paid}


def _settle(state: ReserveState, op: SettleCarry) -> Result:
    owed = state.carry_owed_usd.get(op.participant_id, 0.0)
    if op.amount_usd > owed + TOL:
        raise _fail(op, "amount_usd", op.amount_usd, f"at most the {owed:.2f} USD owed")
    upd = {
        "carry_owed_usd": _with(state.carry_owed_usd, op.participant_id, max(0.0, owed - op.amount_usd)),
        "cash_usd": state.cash_usd + op.amount_usd,
    }
    return state.model_copy(update=upd), {"amount_usd": op.amount_usd}


def _set_trigger(state: ReserveState, op: SetTrigger) -> Result:
    terms = _require_open(state, op)
    old = state.triggers.get(op.material)
    trig = ReleaseTrigger(
        material=op.material,
        baseline_usd_per_t=op.baseline_usd_per_t,
        multiple=op.multiple if op.multiple is not None else terms.default_trigger_multiple,
        reference_usd_per_t=None if old is None else old.reference_usd_per_t,
        declared_disruption=False if old is None else old.declared_disruption,
    )
    return state.model_copy(update={"triggers": _with(state.triggers, op.material, trig)}), {
        "release_active": trig.active
    }


def _observe(state: ReserveState, op: ObservePrice | DeclareDisruption) -> Result:
    old = state.triggers.get(op.material)
    if old is None:
        raise _fail(op, "material", op.material, f"a material with a trigger set ({sorted(state.triggers)})")
    if isinstance(op, ObservePrice):
        trig = old.model_copy(update={"reference_usd_per_t": op.reference_usd_per_t})
    else:
        trig = old.model_copy(update={"declared_disruption": op.declared})
    return state.model_copy(update={"triggers": _with(state.triggers, op.material, trig)}), {
        "release_active": trig.active
    }


def _transition(state: ReserveState, op: _Op) -> Result:
    """The rule for each operation (the clock has already been advanced to ``op.on``)."""
    if isinstance(op, OpenReserve):
        return _open(state, op)
    _require_open(state, op)
    rule = _RULES.get(type(op))
    if rule is None:
        raise _fail(op, "op", type(op).__name__, "a known operation")
    return rule(state, op)


def _allocate(state: ReserveState, op: EmergencyAllocate) -> Result:
    """Emergency release pro rata to open subscriptions; each share is a draw due back by ``op.due``."""
    if not state.release_active(op.material):
        raise _fail(op, "material", op.material, "a material whose release trigger is active")
    if op.due <= op.on:
        raise _fail(op, "due", op.due.isoformat(), f"a date after {op.on.isoformat()}")
    subs = sorted(
        (s for s in state.subscriptions.values() if s.material == op.material and s.open_t > TOL),
        key=lambda s: s.id,
    )
    if not subs:
        raise _fail(op, "material", op.material, "a material with open subscriptions")
    inv = _take_stock(state, op, op.material, op.tonnes)
    total = sum(s.open_t for s in subs)
    draws = dict(state.draws)
    shares: dict[str, float] = {}
    for s in subs:
        did = f"{op.allocation_id}:{s.id}"
        if did in draws:
            raise _fail(op, "allocation_id", op.allocation_id, "a new allocation id")
        tonnes = op.tonnes * s.open_t / total
        shares[s.participant_id] = shares.get(s.participant_id, 0.0) + tonnes
        if tonnes > 0:
            draws[did] = Draw(
                id=did,
                subscription_id=s.id,
                participant_id=s.participant_id,
                material=op.material,
                tonnes=tonnes,
                drawn_on=op.on,
                due=op.due,
                emergency=True,
            )
    return state.model_copy(update={"inventory_t": inv, "draws": draws}), {"allocated_t": shares}


#: operation type -> its rule (``open`` is handled before the reserve is required to be open)
_RULES: dict[type, Callable[[ReserveState, Any], Result]] = {
    AdvanceClock: lambda state, op: (state, {}),
    RegisterParticipant: _register,
    Subscribe: _subscribe,
    Acquire: _acquire,
    DrawStock: _draw,
    Replenish: _replenish,
    BuyBack: _buy_back,
    SettleCarry: _settle,
    SetTrigger: _set_trigger,
    ObservePrice: _observe,
    DeclareDisruption: _observe,
    EmergencyAllocate: lambda state, op: _allocate(state, op),
}


def apply(state: ReserveState, op: Operation) -> tuple[ReserveState, LedgerEntry]:
    """Apply one operation: ``(new state, ledger entry)``; ``state`` itself is never changed."""
    digest = operation_digest(op)
    seen = state.applied.get(op.key)
    if seen is not None:
        if seen != digest:
            raise IdempotencyConflict(
                f"operation {op.op!r}: key {op.key!r} was already used for a different operation"
            )
        entry = LedgerEntry(
            sequence=state.sequence,
            key=op.key,
            on=op.on,
            operation=op,
            duplicate=True,
            state_digest=state.digest(),
        )
        return state, entry
    if state.opened and op.on < state.as_of:
        raise _fail(
            op, "on", op.on.isoformat(), f"a date on or after the reserve's clock {state.as_of.isoformat()}"
        )
    advanced, clock_effects = _advance(state, op.on)
    new, effects = _transition(advanced, op)
    new = new.model_copy(update={"applied": _with(new.applied, op.key, digest), "sequence": new.sequence + 1})
    entry = LedgerEntry(
        sequence=new.sequence,
        key=op.key,
        on=op.on,
        operation=op,
        effects={**clock_effects, **effects},
        state_digest=new.digest(),
    )
    return new, entry
