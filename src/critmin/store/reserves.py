"""Reserve inventories persisted with their ledger, under a lock so concurrent draws never overdraw.

The row is read ``FOR UPDATE`` on PostgreSQL; on SQLite every write transaction is ``BEGIN IMMEDIATE``, so
writers are serialized. Each operation carries an idempotency key: a repeated key returns the original
ledger entry and changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from critmin.store import audit
from critmin.store.members import Principal
from critmin.store.models import LedgerEntry, Reserve

OPERATIONS = ("acquire", "draw", "replenish", "release")
_SIGN = {"acquire": 1.0, "replenish": 1.0, "draw": -1.0, "release": -1.0}
# balances are tonnes; a draw may take the inventory to zero up to float rounding of this size
_TOLERANCE_T = 1e-9


class ReserveError(ValueError):
    """An operation that the reserve's rules refuse (unknown reserve, bad quantity, overdraw)."""


@dataclass(frozen=True)
class OperationResult:
    """The ledger entry of an operation, and whether it was a replay of an earlier idempotency key."""

    entry: LedgerEntry
    replayed: bool


def next_balance(balance: float, op: str, tonnes: float) -> float:
    """Pure transition: the inventory after ``op`` of ``tonnes``; refuses overdraws and bad quantities."""
    if op not in _SIGN:
        raise ReserveError(f"operation {op!r}: expected one of {list(OPERATIONS)}")
    if not math.isfinite(tonnes) or tonnes <= 0:
        raise ReserveError(f"tonnes {tonnes!r}: expected a positive finite quantity")
    after = balance + _SIGN[op] * tonnes
    if after < -_TOLERANCE_T:
        raise ReserveError(f"{op} of {tonnes} t exceeds the {balance} t held")
    return max(after, 0.0)


def create_reserve(session: Session, who: Principal, name: str, material: str) -> Reserve:
    """A new, empty reserve inventory."""
    reserve = Reserve(name=name, material=material, tonnes=0.0, version=0)
    session.add(reserve)
    session.flush()
    audit.append(
        session, who.label, "reserve.create", f"reserve:{reserve.id}", {"name": name, "material": material}
    )
    return reserve


def _locked(session: Session, reserve_id: int) -> Reserve:
    stmt = select(Reserve).where(Reserve.id == reserve_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    reserve = session.execute(stmt).scalar_one_or_none()
    if reserve is None:
        raise LookupError(f"reserve {reserve_id} not found")
    return reserve


def operate(
    session: Session, who: Principal, reserve_id: int, op: str, tonnes: float, idempotency_key: str
) -> OperationResult:
    """Apply one operation under the reserve's lock and append its ledger and audit entries."""
    if who.member_id is None:
        raise PermissionError("reserve operations need an authenticated operator")
    reserve = _locked(session, reserve_id)
    earlier = session.execute(
        select(LedgerEntry).where(
            LedgerEntry.reserve_id == reserve_id, LedgerEntry.idempotency_key == idempotency_key
        )
    ).scalar_one_or_none()
    if earlier is not None:
        if earlier.op != op or not math.isclose(earlier.tonnes, tonnes):
            raise ReserveError(
                f"idempotency key {idempotency_key!r} was already used for {earlier.op} of {earlier.tonnes} t"
            )
        return OperationResult(earlier, replayed=True)
    after = next_balance(reserve.tonnes, op, tonnes)
    seq = (
        session.execute(
            select(func.max(LedgerEntry.seq)).where(LedgerEntry.reserve_id == reserve_id)
        ).scalar()
        or 0
    ) + 1
    entry = LedgerEntry(
        reserve_id=reserve_id,
        seq=seq,
        op=op,
        tonnes=tonnes,
        balance_after=after,
        idempotency_key=idempotency_key,
        actor_id=who.member_id,
    )
    reserve.tonnes = after
    reserve.version += 1
    session.add(entry)
    session.flush()
    audit.append(
        session,
        who.label,
        f"reserve.{op}",
        f"reserve:{reserve_id}",
        {"tonnes": tonnes, "balance_after": after, "seq": seq, "idempotency_key": idempotency_key},
    )
    return OperationResult(entry, replayed=False)


def ledger(session: Session, reserve_id: int) -> list[LedgerEntry]:
    """The reserve's ledger in order."""
    return list(
        session.execute(
            select(LedgerEntry).where(LedgerEntry.reserve_id == reserve_id).order_by(LedgerEntry.seq)
        ).scalars()
    )


def replay(entries: list[LedgerEntry]) -> float:
    """The balance the ledger implies (pure; used to check that the ledger balances)."""
    balance = 0.0
    for e in entries:
        balance = next_balance(balance, e.op, e.tonnes)
    return balance
