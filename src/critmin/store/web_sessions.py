"""Dashboard sessions: expiring, revocable sign-ins that keep the API token out of the browser.

At sign-in the dashboard checks the user's API token, then opens a session: a random id goes to the
browser (cookie); this table keeps only its SHA-256, the account, the expiry and the id of the token used
to sign in. The session acts through an API token of its own whose secret is an HMAC of the cookie's id:
neither the cookie nor the database holds a usable API token, and closing the session revokes that token.
A session ends at its expiry, at sign-out, or when the token it was opened with is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from critmin.store import audit
from critmin.store.members import TOKEN_PREFIX, Principal, sha256_hex
from critmin.store.models import ApiToken, Member, WebSession, utc_now


def _derived_secret(session_id: str) -> str:
    return hmac.new(session_id.encode(), b"critmin web session api token", hashlib.sha256).hexdigest()


def open_session(session: Session, member: Member, signin_token_id: str, hours: float) -> str:
    """A new session for ``member``; returns the random id for the cookie (shown once)."""
    session_id = secrets.token_urlsafe(32)
    token_id = secrets.token_hex(6)
    secret = _derived_secret(session_id)
    session.add(ApiToken(id=token_id, member_id=member.id, secret_sha256=sha256_hex(secret),
                         label="dashboard session"))  # fmt: skip
    expires = (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="microseconds")
    session.add(WebSession(id=sha256_hex(session_id), member_id=member.id, api_token_id=token_id,
                           signin_token_id=signin_token_id, expires_at=expires))  # fmt: skip
    session.flush()
    audit.append(
        session,
        f"member:{member.id}",
        "web.signin",
        f"member:{member.id}",
        {"expires_at": expires},
        rows=[f"token:{token_id}"],
    )
    return session_id


def session_token(session: Session, session_id: str) -> str | None:
    """The API token a live session acts with, or None (unknown, expired, signed out or its sign-in
    token revoked; such a session is closed on the way)."""
    row = session.get(WebSession, sha256_hex(session_id))
    if row is None or row.revoked_at is not None:
        return None
    signin = session.get(ApiToken, row.signin_token_id)
    if row.expires_at <= utc_now() or signin is None or signin.revoked_at is not None:
        _close(session, row)
        audit.append(
            session,
            "system:web",
            "web.session_end",
            f"member:{row.member_id}",
            {"reason": "expired" if row.expires_at <= utc_now() else "sign-in token revoked"},
            rows=[f"token:{row.api_token_id}"],
        )
        return None
    return f"{TOKEN_PREFIX}_{row.api_token_id}_{_derived_secret(session_id)}"


def _close(session: Session, row: WebSession) -> None:
    now = utc_now()
    row.revoked_at = now
    token = session.get(ApiToken, row.api_token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = now


def close_session(session: Session, session_id: str, actor: Principal | None = None) -> bool:
    """Sign out: the session and its API token are revoked; False when it was not open."""
    row = session.get(WebSession, sha256_hex(session_id))
    if row is None or row.revoked_at is not None:
        return False
    _close(session, row)
    label = actor.label if actor is not None else f"member:{row.member_id}"
    audit.append(
        session, label, "web.signout", f"member:{row.member_id}", {}, rows=[f"token:{row.api_token_id}"]
    )
    return True
