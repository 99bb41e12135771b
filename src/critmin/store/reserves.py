"""Reserves persisted with their ledger: the vault library's pure transitions applied under a lock.

``operate`` reads the reserve row ``FOR UPDATE`` on PostgreSQL (on SQLite every write transaction is
``BEGIN IMMEDIATE``, so writers are serialized), applies :func:`critmin.vault.apply` to the stored state,
and writes the new state, the library's ledger entry and an audit entry in the same transaction. A
repeated idempotency key returns the original entry and changes nothing; concurrent operations therefore
never overdraw the inventory (the library refuses a draw above the stock it sees, and it sees the latest).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from critmin.store import audit
from critmin.store.bounds import bad_text, limit, numbers_beyond
from critmin.store.members import Principal
from critmin.store.models import Reserve, ReserveLedgerEntry
from critmin.vault import LedgerEntry, Operation, ReserveState, apply


@dataclass(frozen=True)
class OperationResult:
    """The state after an operation, its ledger entry, and whether it replayed an earlier key."""

    state: ReserveState
    entry: LedgerEntry
    replayed: bool


def state_of(reserve: Reserve) -> ReserveState:
    """The stored state of a reserve."""
    return ReserveState.model_validate_json(reserve.state)


def create_reserve(session: Session, who: Principal, name: str) -> Reserve:
    """A new reserve in the library's unopened state (the ``open`` operation sets its terms)."""
    reserve = Reserve(name=name, state=ReserveState().model_dump_json(), version=0)
    session.add(reserve)
    session.flush()
    audit.append(
        session,
        who.label,
        "reserve.create",
        f"reserve:{reserve.id}",
        {"name": name},
        rows=[f"reserve:{reserve.id}"],
    )
    return reserve


class OperationRefused(ValueError):
    """An operation whose values the store cannot hold (too long, not finite, beyond plausible bounds)."""


KEY_LENGTH = 200  # reserve_ledger.key


def _check_bounds(op: Operation) -> None:
    if len(op.key) > KEY_LENGTH:
        raise OperationRefused(f"key: {len(op.key)} characters; at most {KEY_LENGTH}")
    values = op.model_dump(mode="json")
    beyond = numbers_beyond(values, limit("service_max_money_usd"))
    if beyond is not None:
        raise OperationRefused(
            f"{beyond}: not finite or beyond the plausible bound {limit('service_max_money_usd'):g} "
            "(service_max_money_usd)"
        )
    for where, text in _strings(values):
        if reason := bad_text(text):
            raise OperationRefused(f"{where}: {reason}")


def _strings(obj: object, path: str = "") -> list[tuple[str, str]]:
    if isinstance(obj, str):
        return [(path or "(value)", obj)]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _strings(v, f"{path}.{k}" if path else str(k))]
    if isinstance(obj, list):
        return [s for i, v in enumerate(obj) for s in _strings(v, f"{path}.{i}")]
    return []


def _locked(session: Session, reserve_id: int) -> Reserve:
    stmt = select(Reserve).where(Reserve.id == reserve_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    reserve = session.execute(stmt).scalar_one_or_none()
    if reserve is None:
        raise LookupError(f"reserve {reserve_id} not found")
    return reserve


def operate(session: Session, who: Principal, reserve_id: int, op: Operation) -> OperationResult:
    """Apply one operation under the reserve's lock; raises the library's ``VaultRuleError`` on refusal."""
    if who.member_id is None:
        raise PermissionError("reserve operations need an authenticated operator")
    _check_bounds(op)
    reserve = _locked(session, reserve_id)
    new, entry = apply(state_of(reserve), op)
    beyond = numbers_beyond(new.model_dump(mode="json"), limit("service_max_money_usd"))
    if beyond is not None:
        raise OperationRefused(
            f"operation {op.key!r} would take the reserve's {beyond} beyond finite, plausible values "
            f"(service_max_money_usd); nothing was applied"
        )
    if entry.duplicate:
        first = session.execute(
            select(ReserveLedgerEntry).where(
                ReserveLedgerEntry.reserve_id == reserve_id, ReserveLedgerEntry.key == op.key
            )
        ).scalar_one()
        return OperationResult(new, LedgerEntry.model_validate_json(first.entry), replayed=True)
    reserve.state = new.model_dump_json()
    reserve.version += 1
    session.add(
        ReserveLedgerEntry(
            reserve_id=reserve_id,
            sequence=entry.sequence,
            key=entry.key,
            op=op.op,
            entry=entry.model_dump_json(),
            actor_id=who.member_id,
        )
    )
    session.flush()
    audit.append(
        session,
        who.label,
        f"reserve.{op.op}",
        f"reserve:{reserve_id}",
        {"key": op.key, "sequence": entry.sequence, "state_digest": entry.state_digest},
        rows=[f"reserve:{reserve_id}", f"ledger:{reserve_id}:{entry.sequence}"],
    )
    return OperationResult(new, entry, replayed=False)


def ledger(session: Session, reserve_id: int) -> list[LedgerEntry]:
    """The reserve's ledger in order."""
    rows = session.execute(
        select(ReserveLedgerEntry)
        .where(ReserveLedgerEntry.reserve_id == reserve_id)
        .order_by(ReserveLedgerEntry.sequence)
    ).scalars()
    return [LedgerEntry.model_validate_json(r.entry) for r in rows]
