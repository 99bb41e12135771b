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
    audit.append(session, who.label, "reserve.create", f"reserve:{reserve.id}", {"name": name})
    return reserve


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
    reserve = _locked(session, reserve_id)
    new, entry = apply(state_of(reserve), op)
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
