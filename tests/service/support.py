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


def vault_ops(tonnes: float, day: str = "2026-01-05") -> list[dict[str, object]]:
    """Operations opening a reserve (terms from vault.csv), one manufacturer subscribed to 1,000 t of
    gallium, and an acquisition of ``tonnes`` t (test inputs: prices are arbitrary positive numbers)."""
    from critmin.vault import default_terms

    return [
        {"op": "open", "key": "open", "on": day, "terms": default_terms().model_dump(mode="json")},
        {"op": "register", "key": "reg-m1", "on": day, "participant": {"id": "m1", "kind": "manufacturer"}},
        {
            "op": "subscribe",
            "key": "sub-s1",
            "on": day,
            "subscription_id": "s1",
            "participant_id": "m1",
            "material": "gallium",
            "quantity_t": 1000.0,
            "preset_price_usd_per_t": 1000.0,
            "upfront_fee_usd": 0.0,
        },
        {
            "op": "acquire",
            "key": "acq-1",
            "on": day,
            "material": "gallium",
            "tonnes": tonnes,
            "price_usd_per_t": 1000.0,
        },
    ]


def draw_op(i: int, tonnes: float = 1.0, day: str = "2026-01-05") -> dict[str, object]:
    """A draw of ``tonnes`` on subscription s1, due 90 days later."""
    return {
        "op": "draw",
        "key": f"draw-{i}",
        "on": day,
        "draw_id": f"d{i}",
        "subscription_id": "s1",
        "tonnes": tonnes,
        "due": "2026-04-05",
    }
