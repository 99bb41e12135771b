"""The audit log and its chain check (secretariat), and the chain's head (secretariat, reserve operator).

``GET /audit/head`` is the current head as an exported checkpoint (the body can be saved and given to
``critmin audit verify --checkpoint``), HMAC-signed when the server has a key in ``CRITMIN_AUDIT_KEY``.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from critmin.api.deps import get_store, require
from critmin.api.schemas import AuditOut, ChainOut, CheckpointOut
from critmin.store import Store
from critmin.store.audit import head, verify
from critmin.store.members import Principal
from critmin.store.models import AuditEntry

router = APIRouter(tags=["audit"])
AUDIT_KEY_ENV = "CRITMIN_AUDIT_KEY"


@router.get("/audit", response_model=list[AuditOut])
def list_audit(
    after: int = Query(default=0, ge=0, le=2**31 - 1),
    limit: int = Query(default=100, ge=1, le=1000),
    who: Principal = Depends(require("secretariat")),
    store: Store = Depends(get_store),
) -> list[AuditOut]:
    """Audit entries after sequence number ``after``."""
    with store.read() as s:
        rows = s.execute(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)
        ).scalars()
        return [AuditOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/audit/verify", response_model=ChainOut)
def verify_audit(
    who: Principal = Depends(require("secretariat")), store: Store = Depends(get_store)
) -> ChainOut:
    """Check the hash chain; names the first broken entry."""
    with store.snapshot() as s:
        report = verify(s)
    return ChainOut(
        ok=report.ok, checked=report.checked, first_broken=report.first_broken, reason=report.reason
    )


@router.get("/audit/head", response_model=CheckpointOut)
def audit_head(
    who: Principal = Depends(require("secretariat", "reserve_operator")), store: Store = Depends(get_store)
) -> CheckpointOut:
    """The chain's current head (sequence number 0 and the genesis hash when empty), signed with the
    server's checkpoint key when ``CRITMIN_AUDIT_KEY`` is set; keep it outside the database."""
    with store.read() as s:
        point = head(s)
    key = os.environ.get(AUDIT_KEY_ENV)
    if key:
        point = point.signed(key.encode("utf-8"))
    return CheckpointOut(
        seq=point.seq,
        hash=point.hash,
        created_at=point.created_at,
        signature=point.signature,
        signed=point.signature is not None,
    )
