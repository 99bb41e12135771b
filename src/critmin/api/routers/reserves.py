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
OPERATORS = ("secretariat", "reserve_operator")


def participant_view(state: dict[str, Any], participant_id: str) -> dict[str, Any]:
    """A participant's view of the state: the stock and its own subscriptions, draws and carry owed; the
    other participants' records are removed (a participant account is the vault participant of its name)."""
    mine = {k: v for k, v in state["subscriptions"].items() if v["participant_id"] == participant_id}
    return {
        **state,
        "participants": {k: v for k, v in state["participants"].items() if k == participant_id},
        "subscriptions": mine,
        "draws": {k: v for k, v in state["draws"].items() if v["participant_id"] == participant_id},
        "carry_owed_usd": {k: v for k, v in state["carry_owed_usd"].items() if k == participant_id},
        "applied": {},
    }


def _out(r: Reserve, who: Principal | None = None) -> ReserveOut:
    state = state_of(r).model_dump(mode="json")
    if who is not None and who.role == "participant":
        state = participant_view(state, who.name)
    return ReserveOut(id=r.id, name=r.name, version=r.version, state=state)


@router.get("/reserves", response_model=list[ReserveOut])
def list_reserves(
    who: Principal = Depends(require(*READERS)), store: Store = Depends(get_store)
) -> list[ReserveOut]:
    """Every reserve with its state."""
    with store.read() as s:
        return [_out(r, who) for r in s.execute(select(Reserve).order_by(Reserve.id)).scalars()]


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
        return _out(r, who)


@router.get("/reserves/{reserve_id}/positions", response_model=list[dict[str, Any]])
def get_positions(
    reserve_id: DbId, who: Principal = Depends(require(*READERS)), store: Store = Depends(get_store)
) -> list[dict[str, Any]]:
    """Subscribers' positions (committed and open tonnes, fees, draw rights, repurchase exposure); a
    participant sees only its own (the vault participant whose id is its account name)."""
    from critmin.serialize import plain
    from critmin.vault.positions import positions

    with store.read() as s:
        r = s.get(Reserve, reserve_id)
        if r is None:
            raise HTTPException(status_code=404, detail=f"reserve {reserve_id} not found")
        state = state_of(r)
    table = positions(state, who.name if who.role == "participant" else None)
    rows: list[dict[str, Any]] = plain(table.to_dict(orient="records"))
    return rows


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
    reserve_id: DbId, who: Principal = Depends(require(*OPERATORS)), store: Store = Depends(get_store)
) -> list[dict[str, Any]]:
    """The reserve's ledger entries in order (the vault library's records)."""
    with store.read() as s:
        if s.get(Reserve, reserve_id) is None:
            raise HTTPException(status_code=404, detail=f"reserve {reserve_id} not found")
        return [e.model_dump(mode="json") for e in ledger(s, reserve_id)]


@router.get("/reserves/{reserve_id}/replay", response_model=ReplayOut)
def replay_ledger(
    reserve_id: DbId, who: Principal = Depends(require(*OPERATORS)), store: Store = Depends(get_store)
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
