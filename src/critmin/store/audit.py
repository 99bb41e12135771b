"""The hash-chained audit log: every write appends one entry whose hash covers the previous hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from critmin.store.models import ACTOR_LENGTH, AuditEntry, utc_now

GENESIS_HASH = "0" * 64
_AUDIT_LOCK_KEY = 7_310_001  # PostgreSQL advisory lock serializing appends to the chain


def canonical_json(payload: Any) -> str:
    """Sorted-key, compact JSON: the byte form that is hashed and stored."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    seq: int, created_at: str, actor: str, action: str, target: str, payload: str, prev_hash: str
) -> str:
    """SHA-256 over the entry's fields and the previous entry's hash."""
    body = canonical_json([seq, created_at, actor, action, target, payload, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(session: Session, actor: str, action: str, target: str, payload: Any) -> AuditEntry:
    """Append an entry inside the caller's write transaction (it commits or rolls back with the write)."""
    if len(actor) > ACTOR_LENGTH:
        raise ValueError(f"audit actor: {len(actor)} characters; the column holds {ACTOR_LENGTH}")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    seq = 1 if last is None else last.seq + 1
    prev = GENESIS_HASH if last is None else last.hash
    created = utc_now()
    body = canonical_json(payload)
    entry = AuditEntry(
        seq=seq,
        created_at=created,
        actor=actor,
        action=action,
        target=target,
        payload=body,
        prev_hash=prev,
        hash=entry_hash(seq, created, actor, action, target, body, prev),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    """Result of :func:`verify`: entries checked and the first broken entry (``None`` when intact)."""

    checked: int
    first_broken: int | None
    reason: str

    @property
    def ok(self) -> bool:
        """True when every entry links to its predecessor and its hash matches its content."""
        return self.first_broken is None


def verify(session: Session) -> ChainReport:
    """Walk the chain in order; report the first entry whose link, sequence or hash is wrong."""
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        if e.seq != expected_seq:
            return ChainReport(checked, e.seq, f"sequence gap: expected entry {expected_seq}, found {e.seq}")
        if e.prev_hash != prev:
            return ChainReport(checked, e.seq, "prev_hash does not match the hash of the previous entry")
        recomputed = entry_hash(e.seq, e.created_at, e.actor, e.action, e.target, e.payload, e.prev_hash)
        if recomputed != e.hash:
            return ChainReport(checked, e.seq, "hash does not match the entry's content (entry was altered)")
        prev = e.hash
        expected_seq += 1
        checked += 1
    return ChainReport(checked, None, "intact")
