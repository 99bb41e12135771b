"""Accounts and tokens (secretariat) and ``/me`` (anyone)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from critmin.api.deps import DbId, TokenId, get_principal, get_store, require
from critmin.api.schemas import MemberIn, MemberOut, MeOut, TokenIn, TokenOut
from critmin.store import Store
from critmin.store.members import Principal, create_member, issue_token, revoke_token
from critmin.store.models import Member

router = APIRouter(tags=["members"])


def _out(m: Member) -> MemberOut:
    return MemberOut(id=m.id, name=m.name, role=m.role, iso3=m.iso3, created_at=m.created_at)


@router.get("/me", response_model=MeOut)
def me(who: Principal = Depends(get_principal)) -> MeOut:
    """The caller's account (the public when no token is sent)."""
    return MeOut(member_id=who.member_id, name=who.name, role=who.role, iso3=who.iso3)


@router.get("/members", response_model=list[MemberOut])
def list_members(
    who: Principal = Depends(require("secretariat")), store: Store = Depends(get_store)
) -> list[MemberOut]:
    """Every account (secretariat only)."""
    with store.read() as s:
        return [_out(m) for m in s.execute(select(Member).order_by(Member.id)).scalars()]


@router.post("/members", response_model=MemberOut, status_code=201)
def add_member(
    body: MemberIn, who: Principal = Depends(require("secretariat")), store: Store = Depends(get_store)
) -> MemberOut:
    """Add an account (secretariat only); a member account is scoped to its ISO3."""
    try:
        with store.write() as s:
            return _out(create_member(s, who, body.name, body.role, body.iso3))
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except IntegrityError as exc:
        raise HTTPException(status_code=409, detail=f"an account named {body.name!r} exists") from exc


@router.post("/members/{member_id}/tokens", response_model=TokenOut, status_code=201)
def add_token(
    member_id: DbId,
    body: TokenIn,
    who: Principal = Depends(require("secretariat")),
    store: Store = Depends(get_store),
) -> TokenOut:
    """Issue a token for an account (secretariat only); the plain token is returned once."""
    with store.write() as s:
        member = s.get(Member, member_id)
        if member is None:
            raise HTTPException(status_code=404, detail=f"member {member_id} not found")
        return TokenOut(member_id=member_id, token=issue_token(s, who, member, body.label))


@router.delete("/tokens/{token_id}", status_code=204)
def revoke(
    token_id: TokenId, who: Principal = Depends(require("secretariat")), store: Store = Depends(get_store)
) -> None:
    """Revoke a token by its public id (the part after ``cm_``; secretariat only)."""
    with store.write() as s:
        if not revoke_token(s, who, token_id):
            raise HTTPException(status_code=404, detail=f"no active token {token_id}")
