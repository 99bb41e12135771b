"""The audit log and its chain check (secretariat)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from critmin.api.deps import get_store, require
from critmin.api.schemas import AuditOut, ChainOut
from critmin.store import Store
from critmin.store.audit import verify
from critmin.store.members import Principal
from critmin.store.models import AuditEntry

router = APIRouter(tags=["audit"])


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
    with store.read() as s:
        report = verify(s)
    return ChainOut(
        ok=report.ok, checked=report.checked, first_broken=report.first_broken, reason=report.reason
    )
