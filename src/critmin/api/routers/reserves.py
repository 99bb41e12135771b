"""Reserve inventories and their ledgers: operations are locked, ledgered, idempotent and audited."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from critmin.api.deps import DbId, get_store, require
from critmin.api.schemas import LedgerOut, OperationIn, OperationOut, ReserveIn, ReserveOut
from critmin.store import Store
from critmin.store.members import Principal
from critmin.store.models import LedgerEntry, Reserve
from critmin.store.reserves import ReserveError, create_reserve, ledger, operate

router = APIRouter(tags=["reserves"])
READERS = ("secretariat", "reserve_operator", "participant")


def _reserve(r: Reserve) -> ReserveOut:
    return ReserveOut(id=r.id, name=r.name, material=r.material, tonnes=r.tonnes, version=r.version)


def _entry(e: LedgerEntry) -> LedgerOut:
    return LedgerOut(
        seq=e.seq,
        op=e.op,
        tonnes=e.tonnes,
        balance_after=e.balance_after,
        idempotency_key=e.idempotency_key,
        actor_id=e.actor_id,
        created_at=e.created_at,
    )


@router.get("/reserves", response_model=list[ReserveOut])
def list_reserves(
    who: Principal = Depends(require(*READERS)), store: Store = Depends(get_store)
) -> list[ReserveOut]:
    """Every reserve inventory."""
    with store.read() as s:
        return [_reserve(r) for r in s.execute(select(Reserve).order_by(Reserve.id)).scalars()]


@router.post("/reserves", response_model=ReserveOut, status_code=201)
def add_reserve(
    body: ReserveIn,
    who: Principal = Depends(require("secretariat", "reserve_operator")),
    store: Store = Depends(get_store),
) -> ReserveOut:
    """Open an empty reserve inventory for a material."""
    try:
        with store.write() as s:
            return _reserve(create_reserve(s, who, body.name, body.material))
    except IntegrityError as exc:
        raise HTTPException(status_code=409, detail=f"a reserve named {body.name!r} exists") from exc


@router.get("/reserves/{reserve_id}", response_model=ReserveOut)
def get_reserve(
    reserve_id: DbId, who: Principal = Depends(require(*READERS)), store: Store = Depends(get_store)
) -> ReserveOut:
    """One reserve inventory."""
    with store.read() as s:
        r = s.get(Reserve, reserve_id)
        if r is None:
            raise HTTPException(status_code=404, detail=f"reserve {reserve_id} not found")
        return _reserve(r)


@router.post("/reserves/{reserve_id}/operations", response_model=OperationOut)
def reserve_operation(
    reserve_id: DbId,
    body: OperationIn,
    who: Principal = Depends(require("reserve_operator")),
    store: Store = Depends(get_store),
) -> OperationOut:
    """Acquire, draw, replenish or release; the inventory never goes negative (409 when it would)."""
    try:
        with store.write() as s:
            result = operate(s, who, reserve_id, body.op, body.tonnes, body.idempotency_key)
            reserve = s.get(Reserve, reserve_id)
            assert reserve is not None
            return OperationOut(
                reserve=_reserve(reserve), entry=_entry(result.entry), replayed=result.replayed
            )
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except ReserveError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc


@router.get("/reserves/{reserve_id}/ledger", response_model=list[LedgerOut])
def get_ledger(
    reserve_id: DbId, who: Principal = Depends(require(*READERS)), store: Store = Depends(get_store)
) -> list[LedgerOut]:
    """The reserve's ledger in order."""
    with store.read() as s:
        if s.get(Reserve, reserve_id) is None:
            raise HTTPException(status_code=404, detail=f"reserve {reserve_id} not found")
        return [_entry(e) for e in ledger(s, reserve_id)]
