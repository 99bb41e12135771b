"""Request and response bodies of the API (pydantic)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from critmin.store.submissions import RowError

Kind = Literal["production", "demand", "stocks", "transactions"]
Role = Literal["secretariat", "member", "reserve_operator", "participant"]


class MeOut(BaseModel):
    """The caller."""

    member_id: int | None
    name: str
    role: str
    iso3: str | None


class MemberIn(BaseModel):
    """A new account."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: Role
    iso3: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class MemberOut(BaseModel):
    """An account."""

    id: int
    name: str
    role: str
    iso3: str | None
    created_at: str


class TokenIn(BaseModel):
    """A token request."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(default="", max_length=200)


class TokenOut(BaseModel):
    """A new token: shown once, stored only as a hash."""

    member_id: int
    token: str


class SubmissionIn(BaseModel):
    """A JSON submission: the kind and its rows (fields per kind in the user guide)."""

    model_config = ConfigDict(extra="forbid")
    kind: Kind
    rows: list[dict[str, Any]] = Field(max_length=1_000_000)


class SubmissionOut(BaseModel):
    """A stored submission."""

    id: int
    member_id: int
    iso3: str
    kind: str
    source_format: str
    row_count: int
    created_at: str


class SubmissionRowOut(BaseModel):
    """A stored submission row."""

    row_number: int
    material: str
    stage: str | None
    year: int
    date: str | None
    tonnes: float
    price: float | None
    currency: str | None
    counterparty: str | None
    specification: str | None = None
    incoterm: str | None = None
    buyer: str | None = None


class InvalidSubmission(BaseModel):
    """Why an upload was rejected: every bad value with its row, field, value and reason."""

    detail: str
    errors: list[RowError]


class CellOut(BaseModel):
    """A published aggregate cell (``tonnes`` null when suppressed)."""

    kind: str
    material: str
    stage: str | None
    year: int
    contributors: int
    tonnes: float | None
    suppressed: bool
    reason: str
    release_id: int | None = None
    released_at: str | None = None


class AggregateReleaseIn(BaseModel):
    """A release request: an optional note (e.g. the reporting round)."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=200)


class AggregateReleaseOut(BaseModel):
    """A dated release of the aggregates: how many cells, how many published."""

    id: int
    created_at: str
    note: str
    cells: int
    published: int


class ReserveIn(BaseModel):
    """A new reserve (unopened; the ``open`` operation sets its terms)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class ReserveOut(BaseModel):
    """A reserve and its state (participants, subscriptions, inventory, draws, triggers, cash)."""

    id: int
    name: str
    version: int
    state: dict[str, Any]


class OperationOut(BaseModel):
    """The outcome of an operation (``replayed`` when its idempotency key had been applied before)."""

    reserve: ReserveOut
    entry: dict[str, Any]
    replayed: bool


class ReplayOut(BaseModel):
    """Replaying the stored ledger reproduces the stored state (digests compared)."""

    ok: bool
    entries: int
    state_digest: str
    replayed_digest: str


class JobIn(BaseModel):
    """A job request: its kind and parameters (per kind in the user guide)."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=32)
    params: dict[str, Any] = Field(default_factory=dict)


class JobOut(BaseModel):
    """A job's state, progress and (once finished) result."""

    id: str
    kind: str
    owner_id: int
    status: str
    progress: float
    message: str
    params: dict[str, Any]
    result: Any = None
    error: str | None
    created_at: str
    updated_at: str


class AuditOut(BaseModel):
    """An audit entry."""

    seq: int
    created_at: str
    actor: str
    action: str
    target: str
    payload: str
    prev_hash: str
    hash: str


class CheckpointOut(BaseModel):
    """The audit chain's head: the form ``critmin audit checkpoint`` exports (``signed``: an HMAC is set)."""

    seq: int
    hash: str
    created_at: str
    signature: str | None
    signed: bool


class ChainOut(BaseModel):
    """Audit chain check."""

    ok: bool
    checked: int
    first_broken: int | None
    reason: str
