"""The demo alliance that ``critmin serve`` creates on an empty database.

Accounts (the secretariat, member countries, a reserve operator and a participant) and one reserve opened
with the terms of ``vault.csv``, holding nothing. Figures come from the bundled public sources (exposure,
atlas) or from what members submit; nothing is invented.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from critmin.store import Store
from critmin.store.members import Principal, create_member, issue_token, principal_of
from critmin.store.models import Member
from critmin.store.reserves import create_reserve, operate

SYSTEM = Principal(None, "seed", "system", None)
DEMO_RESERVE = "Alliance critical-minerals reserve"

DEMO_ACCOUNTS: tuple[tuple[str, str, str | None], ...] = (
    ("Alliance secretariat", "secretariat", None),
    ("United States", "member", "USA"),
    ("Japan", "member", "JPN"),
    ("Australia", "member", "AUS"),
    ("Canada", "member", "CAN"),
    ("Republic of Korea", "member", "KOR"),
    ("Reserve operator", "reserve_operator", None),
    ("Magnet manufacturer (participant)", "participant", None),
)


def seed_demo(store: Store) -> dict[str, str]:
    """Create the demo accounts with one token each when the database has no accounts.

    Returns ``{account name: token}`` (empty when the database was already seeded; tokens are shown once).
    """
    with store.write() as s:
        if s.execute(select(func.count()).select_from(Member)).scalar_one() > 0:
            return {}
        tokens: dict[str, str] = {}
        operator: Member | None = None
        for name, role, iso3 in DEMO_ACCOUNTS:
            member = create_member(s, SYSTEM, name, role, iso3)
            tokens[name] = issue_token(s, SYSTEM, member, "demo")
            if role == "reserve_operator":
                operator = member
        assert operator is not None
        _open_demo_reserve(s, principal_of(operator))
        return tokens


def _open_demo_reserve(session: Session, operator: Principal) -> None:
    """The alliance reserve, opened today with the terms of ``vault.csv`` (no stock: operators add it)."""
    from critmin.vault import OpenReserve, default_terms

    reserve = create_reserve(session, operator, DEMO_RESERVE)
    op = OpenReserve(key="demo-open", on=date.today(), terms=default_terms())
    operate(session, operator, reserve.id, op)
