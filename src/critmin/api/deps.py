"""Request dependencies: the store, the caller (from a Bearer token) and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from critmin.store import Store
from critmin.store.members import PUBLIC, Principal, authenticate

bearer = HTTPBearer(auto_error=False, description="API token `cm_<id>_<secret>` (see `critmin token create`)")


def get_store(request: Request) -> Store:
    """The app's store."""
    store: Store = request.app.state.store
    return store


def get_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    """The caller: the token's account, or the public when no token is sent; 401 for a bad token."""
    if credentials is None:
        return PUBLIC
    store = get_store(request)
    with store.read() as session:
        who = authenticate(session, credentials.credentials)
    if who is None:
        raise HTTPException(status_code=401, detail="invalid or revoked API token")
    return who


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only the given roles (401 for the public, 403 for other roles)."""

    def check(who: Principal = Depends(get_principal)) -> Principal:
        if who.role in roles:
            return who
        if who.role == "public":
            raise HTTPException(status_code=401, detail="this endpoint needs an API token")
        raise HTTPException(
            status_code=403, detail=f"role {who.role!r} may not do this; needs one of {list(roles)}"
        )

    return check


SIGNED_IN = ("secretariat", "member", "reserve_operator", "participant")


DB_ID_MAX = 2_147_483_647  # INTEGER / int4 primary keys on SQLite and PostgreSQL
DbId = Annotated[int, Path(ge=1, le=DB_ID_MAX, description="numeric id")]
JobId = Annotated[str, Path(min_length=1, max_length=32, description="job id")]
TokenId = Annotated[str, Path(min_length=1, max_length=32, description="public id of a token")]
