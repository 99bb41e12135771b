"""Members and API tokens: tokens are ``cm_<id>_<secret>``; only SHA-256(secret) is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from critmin.store import audit
from critmin.store.models import ROLES, ApiToken, Member, utc_now

TOKEN_PREFIX = "cm"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a member account (or the anonymous public)."""

    member_id: int | None
    name: str
    role: str
    iso3: str | None

    @property
    def label(self) -> str:
        """Actor text recorded in the audit log."""
        return f"{self.role}:{self.name}" if self.member_id is not None else "public"


PUBLIC = Principal(None, "public", "public", None)


def principal_of(member: Member) -> Principal:
    """The :class:`Principal` of a stored member."""
    return Principal(member.id, member.name, member.role, member.iso3)


def sha256_hex(secret: str) -> str:
    """Hex SHA-256 of a token secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-3 codes (pycountry)."""
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.countries)


def create_member(session: Session, actor: Principal, name: str, role: str, iso3: str | None) -> Member:
    """Add an account; members must carry an ISO3, other roles must not."""
    if role not in ROLES or role == "public":
        raise ValueError(f"role {role!r}: expected one of {[r for r in ROLES if r != 'public']}")
    if role == "member" and not iso3:
        raise ValueError("role 'member' needs an iso3 country code")
    if role != "member" and iso3:
        raise ValueError(f"role {role!r} is not scoped to a country; iso3 must be empty")
    if iso3 is not None and iso3 not in country_codes():
        raise ValueError(f"iso3 {iso3!r} is not an ISO 3166-1 alpha-3 country code")
    member = Member(name=name, role=role, iso3=iso3)
    session.add(member)
    session.flush()
    audit.append(
        session,
        actor.label,
        "member.create",
        f"member:{member.id}",
        {"name": name, "role": role, "iso3": iso3},
        rows=[f"member:{member.id}"],
    )
    return member


def issue_token(session: Session, actor: Principal, member: Member, label: str = "") -> str:
    """Create a token for ``member`` and return its plain text (shown once, never stored)."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(ApiToken(id=token_id, member_id=member.id, secret_sha256=sha256_hex(secret), label=label))
    session.flush()
    audit.append(
        session,
        actor.label,
        "token.create",
        f"member:{member.id}",
        {"token_id": token_id, "label": label},
        rows=[f"token:{token_id}"],
    )
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


def revoke_token(session: Session, actor: Principal, token_id: str) -> bool:
    """Revoke a token by its public id under its row lock; False when there is no such active token
    (a concurrent revocation waits for the first, then finds the token revoked)."""
    stmt = select(ApiToken).where(ApiToken.id == token_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utc_now()
    audit.append(
        session,
        actor.label,
        "token.revoke",
        f"member:{row.member_id}",
        {"token_id": token_id},
        rows=[f"token:{token_id}"],
    )
    return True


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal a token belongs to, or ``None`` (unknown, malformed or revoked token)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    row = session.get(ApiToken, parts[1])
    expected = row.secret_sha256 if row is not None else "0" * 64
    matches = hmac.compare_digest(sha256_hex(parts[2]), expected)
    if row is None or not matches or row.revoked_at is not None:
        return None
    member = session.get(Member, row.member_id)
    return principal_of(member) if member is not None else None


def find_member(session: Session, name: str) -> Member | None:
    """The member named ``name``."""
    return session.execute(select(Member).where(Member.name == name)).scalar_one_or_none()
