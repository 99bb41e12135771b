"""The demo alliance that ``critmin serve`` creates on an empty database.

Accounts only: the secretariat, member countries, a reserve operator and a participant. Their data
comes from the bundled public sources (exposure, atlas) or from what they submit; nothing is invented.
"""

from __future__ import annotations

from sqlalchemy import func, select

from critmin.store import Store
from critmin.store.members import Principal, create_member, issue_token
from critmin.store.models import Member

SYSTEM = Principal(None, "seed", "system", None)

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
        for name, role, iso3 in DEMO_ACCOUNTS:
            member = create_member(s, SYSTEM, name, role, iso3)
            tokens[name] = issue_token(s, SYSTEM, member, "demo")
        return tokens
