"""Helpers of the service tests: a migrated store, accounts of every role and a running app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi.testclient import TestClient

from critmin.api.app import create_app
from critmin.api.jobs import JobKind
from critmin.store import Store
from critmin.store.members import Principal, create_member, issue_token

ADMIN = Principal(None, "test-setup", "system", None)

ACCOUNTS = {
    "secretariat": ("Secretariat", "secretariat", None),
    "member_a": ("Australia", "member", "AUS"),
    "member_b": ("Japan", "member", "JPN"),
    "member_c": ("Canada", "member", "CAN"),
    "operator": ("Reserve operator", "reserve_operator", None),
    "participant": ("Magnet maker", "participant", None),
}


@dataclass
class Service:
    """A running app (lifespan entered), its store, and a token and member id per account key."""

    client: TestClient
    store: Store
    tokens: dict[str, str]
    ids: dict[str, int]

    def auth(self, who: str) -> dict[str, str]:
        """Authorization header of an account key (empty for the public)."""
        return {} if who == "public" else {"Authorization": f"Bearer {self.tokens[who]}"}


def seed_accounts(store: Store) -> tuple[dict[str, str], dict[str, int]]:
    """Create one account per role and return their tokens and ids."""
    tokens: dict[str, str] = {}
    ids: dict[str, int] = {}
    with store.write() as s:
        for key, (name, role, iso3) in ACCOUNTS.items():
            member = create_member(s, ADMIN, name, role, iso3)
            tokens[key] = issue_token(s, ADMIN, member, "test")
            ids[key] = member.id
    return tokens, ids


def start_service(db_url: str, job_kinds: dict[str, JobKind] | None = None) -> Iterator[Service]:
    """Migrate, seed accounts and yield a Service whose app lifespan is running."""
    store = Store(db_url)
    store.upgrade()
    tokens, ids = seed_accounts(store)
    app = create_app(store, job_kinds=job_kinds if job_kinds is not None else {})
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(client, store, tokens, ids)
    store.dispose()
