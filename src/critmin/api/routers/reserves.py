"""Reserves run by the vault library's operating rules, persisted with their ledger (locked, idempotent)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from critmin.api.deps import DbId, get_store, require
from critmin.api.schemas import OperationOut, ReplayOut, ReserveIn, ReserveOut
from critmin.store import Store
from critmin.store.members import Principal
from critmin.store.models import Reserve
from critmin.store.reserves import OperationRefused, create_reserve, ledger, operate, state_of
from critmin.vault import Operation, VaultRuleError, replay

router = APIRouter(tags=["reserves"])
READERS = ("secretariat", "reserve_operator", "participant")


def _out(r: Reserve) -> ReserveOut:
    return ReserveOut(id=r.id, name=r.name, version=r.version, state=state_of(r).model_dump(mode="json"))


@router.get("/reserves", response_model=list[ReserveOut])
def list_reserves(
    who: Principal = Depends(require(*READERS)), store: Store = Depends(get_store)
) -> list[ReserveOut]:
    """Every reserve with its state."""
    with store.read() as s:
        return [_out(r) for r in s.execute(select(Reserve).order_by(Reserve.id)).scalars()]


@router.post("/reserves", response_model=ReserveOut, status_code=201)
def add_reserve(
    body: ReserveIn,
    who: Principal = Depends(require("secretariat", "reserve_operator")),
    store: Store = Depends(get_store),
) -> ReserveOut:
    """Create an (unopened) reserve."""
    try:
        with store.write() as s:
            return _out(create_reserve(s, who, body.name))
    except IntegrityError as exc:
        raise HTTPException(status_code=409, detail=f"a reserve named {body.name!r} exists") from exc


@router.get("/reserves/{reserve_id}", response_model=ReserveOut)
def get_reserve(
    reserve_id: DbId, who: Principal = Depends(require(*READERS)), store: Store = Depends(get_store)
) -> ReserveOut:
    """One reserve and its state."""
    with store.read() as s:
        r = s.get(Reserve, reserve_id)
        if r is None:
            raise HTTPException(status_code=404, detail=f"reserve {reserve_id} not found")
        return _out(r)


@router.post("/reserves/{reserve_id}/operations", response_model=OperationOut)
def reserve_operation(
    reserve_id: DbId,
    op: Operation = Body(..., description="an operation of critmin.vault (open, register, subscribe, ...)"),
    who: Principal = Depends(require("reserve_operator")),
    store: Store = Depends(get_store),
) -> OperationOut:
    """Apply one operating-rule operation; refused operations (e.g. a draw above the stock) give 409."""
    try:
        with store.write() as s:
            result = operate(s, who, reserve_id, op)
            reserve = s.get(Reserve, reserve_id)
            assert reserve is not None
            return OperationOut(
                reserve=_out(reserve), entry=result.entry.model_dump(mode="json"), replayed=result.replayed
            )
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except VaultRuleError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except OperationRefused as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.get("/reserves/{reserve_id}/ledger", response_model=list[dict[str, Any]])
def get_ledger(
    reserve_id: DbId, who: Principal = Depends(require(*READERS)), store: Store = Depends(get_store)
) -> list[dict[str, Any]]:
    """The reserve's ledger entries in order (the vault library's records)."""
    with store.read() as s:
        if s.get(Reserve, reserve_id) is None:
            raise HTTPException(status_code=404, detail=f"reserve {reserve_id} not found")
        return [e.model_dump(mode="json") for e in ledger(s, reserve_id)]


@router.get("/reserves/{reserve_id}/replay", response_model=ReplayOut)
def replay_ledger(
    reserve_id: DbId, who: Principal = Depends(require(*READERS)), store: Store = Depends(get_store)
) -> ReplayOut:
    """Replay the stored ledger from an unopened reserve and compare with the stored state."""
    with store.read() as s:
        r = s.get(Reserve, reserve_id)
        if r is None:
            raise HTTPException(status_code=404, detail=f"reserve {reserve_id} not found")
        entries = ledger(s, reserve_id)
        stored = state_of(r).digest()
    again = replay(entries, check=False).digest()
    return ReplayOut(ok=again == stored, entries=len(entries), state_digest=stored, replayed_digest=again)
