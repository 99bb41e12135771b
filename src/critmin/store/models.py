"""SQLAlchemy 2 models of the service: members and tokens, submissions, jobs, reserves and ledgers, audit."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> str:
    """Current UTC time as ISO-8601 text (microseconds): the form every timestamp column stores."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Base(DeclarativeBase):
    """Declarative base of every table."""


ROLES = ("secretariat", "member", "reserve_operator", "participant", "public")
AUTOINCREMENT = {"sqlite_autoincrement": True}  # SQLite never reuses the id of a deleted row
ACTOR_LENGTH = 300  # role prefix + a 200-character account name fit


class Member(Base):
    """An account: the secretariat, a member country (scoped to its ISO3), an operator, a participant."""

    __tablename__ = "members"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    iso3: Mapped[str | None] = mapped_column(String(3), nullable=True)
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)


class ApiToken(Base):
    """An API token: public id plus the SHA-256 of its random secret (the secret itself is never stored)."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)
    revoked_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Submission(Base):
    """One member upload of production, demand, stocks or transactions (all rows or none)."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("member_id", "idempotency_key", name="uq_submissions_idempotency"),
        AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    iso3: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(32))
    source_format: Mapped[str] = mapped_column(String(8))
    row_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revises_release: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SubmissionRow(Base):
    """A validated row of a submission; the columns a kind does not use stay NULL."""

    __tablename__ = "submission_rows"
    __table_args__ = (
        Index("ix_submission_rows_sub_row", "submission_id", "row_number", unique=True),
        AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    material: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    year: Mapped[int] = mapped_column(Integer)
    date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    tonnes: Mapped[float] = mapped_column(Float)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    counterparty: Mapped[str | None] = mapped_column(String(200), nullable=True)
    specification: Mapped[str | None] = mapped_column(String(200), nullable=True)
    incoterm: Mapped[str | None] = mapped_column(String(200), nullable=True)
    buyer: Mapped[str | None] = mapped_column(String(200), nullable=True)


LIVE_JOB = ("queued", "running", "succeeded")  # a job of a ``once`` kind is not queued again while live
LIVE_JOB_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in LIVE_JOB))  # the index's predicate


class Job(Base):
    """A background computation with its progress, status and stored result. ``once_key`` is set on the
    jobs of a kind that runs once per owner and parameters (:func:`critmin.store.jobs.create_job_once`):
    unique among live jobs."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status", "status", "created_at"),
        Index(
            "uq_jobs_once_key",
            "once_key",
            unique=True,
            sqlite_where=text(LIVE_JOB_SQL),
            postgresql_where=text(LIVE_JOB_SQL),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)
    updated_at: Mapped[str] = mapped_column(String(40), default=utc_now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    worker_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires: Mapped[float | None] = mapped_column(Float, nullable=True)
    once_key: Mapped[str | None] = mapped_column(String(120), nullable=True)


class Reserve(Base):
    """A reserve: its state (JSON of ``critmin.vault.ReserveState``), changed only by ledgered operations."""

    __tablename__ = "reserves"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)


class ReserveLedgerEntry(Base):
    """One applied operation: the vault library's ledger entry (JSON); an idempotency key is applied once."""

    __tablename__ = "reserve_ledger"
    __table_args__ = (
        UniqueConstraint("reserve_id", "key", name="uq_reserve_ledger_key"),
        UniqueConstraint("reserve_id", "sequence", name="uq_reserve_ledger_sequence"),
        AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reserve_id: Mapped[int] = mapped_column(ForeignKey("reserves.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    op: Mapped[str] = mapped_column(String(32))
    entry: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)


class AuditEntry(Base):
    """One entry of the hash-chained audit log: ``hash = sha256(canonical fields + prev_hash)``."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[str | None] = mapped_column(Text, nullable=True)


class Release(Base):
    """A dated release of the aggregates, made by the secretariat (the public reads the latest)."""

    __tablename__ = "releases"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    note: Mapped[str] = mapped_column(String(200), default="")


class ReleaseCell(Base):
    """One cell of a release; ``contributors_iso3`` (JSON list) is never published."""

    __tablename__ = "release_cells"
    __table_args__ = (Index("ix_release_cells_release", "release_id"), AUTOINCREMENT)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    kind: Mapped[str] = mapped_column(String(32))
    material: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    year: Mapped[int] = mapped_column(Integer)
    contributors: Mapped[int] = mapped_column(Integer)
    tonnes: Mapped[float | None] = mapped_column(Float, nullable=True)
    suppressed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200))
    contributors_iso3: Mapped[str] = mapped_column(Text)


class SubmissionRevision(Base):
    """A submission or withdrawal by a member into periods already released (counted for the rate limit)."""

    __tablename__ = "submission_revisions"
    __table_args__ = (
        Index("ix_submission_revisions_member", "member_id", "kind", "release_id"),
        AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(32))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    submission_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)


class WebSession(Base):
    """A dashboard sign-in: the SHA-256 of the cookie's random id, its account, expiry and revocation.

    ``api_token_id`` is the session's own API token (its secret is derived from the cookie's id, so neither
    the cookie nor this table holds a usable API token); ``signin_token_id`` is the token the user signed
    in with (the session ends when that token is revoked)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    api_token_id: Mapped[str] = mapped_column(String(32))
    signin_token_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)
    expires_at: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class PriceRelease(Base):
    """A release of reference prices published by the secretariat from an assessment job's result."""

    __tablename__ = "price_releases"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy's declarative form)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[str] = mapped_column(String(40), default=utc_now)
    published_by: Mapped[str] = mapped_column(String(200))
    job_id: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[str] = mapped_column(String(10))
    window_days: Mapped[int] = mapped_column(Integer)
    prices: Mapped[str] = mapped_column(Text)
