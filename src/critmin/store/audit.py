"""The hash-chained audit log: every write appends one entry whose hash covers the previous hash."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from critmin.store.audit_rows import actual_digests, row_digest
from critmin.store.models import ACTOR_LENGTH, AuditEntry, utc_now

GENESIS_HASH = "0" * 64
_AUDIT_LOCK_KEY = 7_310_001  # PostgreSQL advisory lock serializing appends to the chain


def canonical_json(payload: Any) -> str:
    """Sorted-key, compact JSON: the byte form that is hashed and stored."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    seq: int,
    created_at: str,
    actor: str,
    action: str,
    target: str,
    payload: str,
    prev_hash: str,
    rows: str | None = None,
) -> str:
    """SHA-256 over the entry's fields, the digests of the rows it wrote and the previous entry's hash
    (entries written before row digests existed hash without them)."""
    fields: list[Any] = [seq, created_at, actor, action, target, payload, prev_hash]
    if rows is not None:
        fields.append(rows)
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def append(
    session: Session, actor: str, action: str, target: str, payload: Any, rows: Iterable[str] = ()
) -> AuditEntry:
    """Append an entry inside the caller's write transaction (it commits or rolls back with the write);
    ``rows`` names the data rows the write touched (``member:5``, ``submission:12``, ...), whose digests
    after the write the entry records."""
    return append_many(session, [Pending(actor, action, target, payload, tuple(rows))])[0]


@dataclass(frozen=True)
class Pending:
    """An entry to append: who, what, on which target, its payload and the rows it wrote."""

    actor: str
    action: str
    target: str
    payload: Any
    rows: tuple[str, ...] = ()


def append_many(session: Session, pending: Sequence[Pending]) -> list[AuditEntry]:
    """:func:`append` of several entries in order, chained one after the other (one read of the chain's
    head and one flush for all of them: a batch of writes of one transaction)."""
    for p in pending:
        if len(p.actor) > ACTOR_LENGTH:
            raise ValueError(f"audit actor: {len(p.actor)} characters; the column holds {ACTOR_LENGTH}")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    seq = 0 if last is None else last.seq
    prev = GENESIS_HASH if last is None else last.hash
    session.flush()
    entries = []
    for p in pending:
        seq += 1
        created = utc_now()
        body = canonical_json(p.payload)
        digests = canonical_json({key: row_digest(session, key) for key in p.rows})
        entry = AuditEntry(
            seq=seq,
            created_at=created,
            actor=p.actor,
            action=p.action,
            target=p.target,
            payload=body,
            prev_hash=prev,
            rows=digests,
            hash=entry_hash(seq, created, p.actor, p.action, p.target, body, prev, digests),
        )
        prev = entry.hash
        entries.append(entry)
    session.add_all(entries)
    session.flush()
    return entries


@dataclass(frozen=True)
class ChainReport:
    """Result of :func:`verify`: entries checked and the first broken entry (``None`` when intact)."""

    checked: int
    first_broken: int | None
    reason: str
    rows_checked: int = 0

    @property
    def ok(self) -> bool:
        """True when every entry links to its predecessor and its hash matches its content."""
        return self.first_broken is None


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at some moment, kept outside the database (optionally HMAC-signed)."""

    seq: int
    hash: str
    created_at: str
    signature: str | None = None

    def signed(self, key: bytes) -> Checkpoint:
        """This checkpoint with its HMAC-SHA256 under ``key``."""
        return Checkpoint(self.seq, self.hash, self.created_at, _mac(key, self))

    def to_json(self) -> str:
        """The exported form."""
        return canonical_json(self.__dict__)

    @staticmethod
    def from_json(text: str) -> Checkpoint:
        """Read an exported checkpoint (raises ``ValueError`` naming what is wrong)."""
        try:
            data = json.loads(text)
            return Checkpoint(
                int(data["seq"]), str(data["hash"]), str(data["created_at"]), data.get("signature")
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a critmin audit checkpoint: {exc}") from exc


def _mac(key: bytes, c: Checkpoint) -> str:
    return hmac.new(
        key, canonical_json([c.seq, c.hash, c.created_at]).encode("utf-8"), hashlib.sha256
    ).hexdigest()


def head(session: Session) -> Checkpoint:
    """The current head of the chain (``seq`` 0 and the genesis hash when it is empty)."""
    last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    if last is None:
        return Checkpoint(0, GENESIS_HASH, "")
    return Checkpoint(last.seq, last.hash, last.created_at)


def _walk(session: Session) -> tuple[ChainReport, dict[int, str], dict[str, str | None], str]:
    """The chain check, every entry's hash, the folded row digests and when digest coverage starts."""
    prev = GENESIS_HASH
    expected_seq = 1
    hashes: dict[int, str] = {}
    expected: dict[str, str | None] = {}
    since = ""
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        if e.seq != expected_seq:
            return (
                ChainReport(
                    len(hashes), e.seq, f"sequence gap: expected entry {expected_seq}, found {e.seq}"
                ),
                hashes,
                expected,
                since,
            )
        if e.prev_hash != prev:
            return (
                ChainReport(len(hashes), e.seq, "prev_hash does not match the hash of the previous entry"),
                hashes,
                expected,
                since,
            )
        recomputed = entry_hash(
            e.seq, e.created_at, e.actor, e.action, e.target, e.payload, e.prev_hash, e.rows
        )
        if recomputed != e.hash:
            return (
                ChainReport(
                    len(hashes), e.seq, "hash does not match the entry's content (entry was altered)"
                ),
                hashes,
                expected,
                since,
            )
        if e.rows is None:
            since = e.created_at  # an entry from before row digests: rows up to here are not covered
        else:
            expected.update(json.loads(e.rows))
        hashes[e.seq] = e.hash
        prev = e.hash
        expected_seq += 1
    return ChainReport(len(hashes), None, "intact"), hashes, expected, since


def verify(session: Session, checkpoint: Checkpoint | None = None, key: bytes | None = None) -> ChainReport:
    """Check the chain (links, sequence, hashes), then every covered data row against the digest the
    chain last recorded for it, then the chain against an exported ``checkpoint`` (its HMAC under ``key``
    when given): a truncated tail or a re-computed chain no longer contains the checkpoint's head. Give it
    a session of :meth:`critmin.store.Store.snapshot` while the service runs: the chain and the rows must
    be read in one committed state."""
    report, hashes, expected, since = _walk(session)
    if not report.ok:
        return report
    if checkpoint is not None:
        if key is not None and (
            checkpoint.signature is None
            or not hmac.compare_digest(checkpoint.signature, _mac(key, checkpoint))
        ):
            return ChainReport(
                report.checked,
                checkpoint.seq,
                "checkpoint signature does not match (forged checkpoint or wrong key)",
            )
        if checkpoint.seq > len(hashes):
            return ChainReport(
                report.checked,
                checkpoint.seq,
                f"chain ends at entry {len(hashes)}; the checkpoint names {checkpoint.seq} (tail truncated)",
            )
        if checkpoint.seq > 0 and hashes[checkpoint.seq] != checkpoint.hash:
            return ChainReport(
                report.checked, checkpoint.seq, "entry differs from the checkpoint (chain was re-computed)"
            )
    actual = actual_digests(session, since)
    for k in sorted(set(expected) | set(actual)):
        if expected.get(k) != actual.get(k):
            what = (
                "missing"
                if actual.get(k) is None
                else ("not in the chain" if k not in expected else "edited")
            )
            return ChainReport(
                report.checked,
                _last_touch(session, k),
                f"data row {k} {what} outside the service",
                len(actual),
            )
    return ChainReport(report.checked, None, "intact", len(actual))


def _last_touch(session: Session, key: str) -> int:
    """The last entry that recorded ``key`` (0 when none did)."""
    last = 0
    for seq, rows in session.execute(
        select(AuditEntry.seq, AuditEntry.rows).where(AuditEntry.rows.is_not(None))
    ):
        if key in json.loads(str(rows)):
            last = int(seq)
    return last
