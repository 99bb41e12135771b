"""Store: migrations match the models, tokens are hashed, the audit chain detects tampering."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text, update

from critmin.store import Store, audit
from critmin.store.members import authenticate, create_member, issue_token
from critmin.store.models import ApiToken, AuditEntry, Base
from service.support import ADMIN


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.upgrade()
    yield s
    s.dispose()


def test_migrations_produce_exactly_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migration_0002_keeps_existing_rows(db_url: str) -> None:
    store = Store(db_url)
    store.upgrade("0001")
    with store.write() as s:
        s.execute(
            text(
                "INSERT INTO members (id, name, role, iso3, created_at) VALUES (1, 'A', 'member', 'AUS', 't')"
            )
        )
        s.execute(
            text(
                "INSERT INTO submissions (id, member_id, iso3, kind, source_format, row_count, created_at) "
                "VALUES (1, 1, 'AUS', 'transactions', 'json', 1, 't')"
            )
        )
        s.execute(
            text(
                "INSERT INTO submission_rows (id, submission_id, row_number, material, year, date, tonnes, "
                "price, currency, counterparty) "
                "VALUES (1, 1, 1, 'gallium', 2025, '2025-01-02', 2.0, 5.0e5, 'USD', 'X')"
            )
        )
    store.upgrade()
    with store.read() as s:
        row = s.execute(
            text("SELECT counterparty, price, specification, incoterm, buyer FROM submission_rows")
        ).one()
    store.dispose()
    assert tuple(row) == ("X", 5.0e5, None, None, None)


def test_upgrade_is_idempotent(store: Store) -> None:
    from importlib import resources

    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(resources.files("critmin.store") / "migrations")).get_current_head()
    store.upgrade()
    with store.read() as s:
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head


def test_token_is_stored_only_as_sha256_and_authenticates(store: Store) -> None:
    with store.write() as s:
        member = create_member(s, ADMIN, "Australia", "member", "AUS")
        token = issue_token(s, ADMIN, member)
    _, token_id, secret = token.split("_", 2)
    with store.read() as s:
        row = s.get(ApiToken, token_id)
        assert row is not None
        assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in row.secret_sha256
        who = authenticate(s, token)
        assert who is not None and who.iso3 == "AUS" and who.role == "member"
        assert authenticate(s, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert authenticate(s, f"cm_nosuchid_{secret}") is None
        assert authenticate(s, "garbage") is None
    with store.write() as s:
        s.execute(update(ApiToken).values(revoked_at="2026-01-01T00:00:00"))
    with store.read() as s:
        assert authenticate(s, token) is None


def test_member_role_requires_country_and_others_refuse_one(store: Store) -> None:
    with pytest.raises(ValueError, match="needs an iso3"), store.write() as s:
        create_member(s, ADMIN, "X", "member", None)
    with pytest.raises(ValueError, match="not scoped to a country"), store.write() as s:
        create_member(s, ADMIN, "Y", "participant", "USA")
    with pytest.raises(ValueError, match="role 'admin'"), store.write() as s:
        create_member(s, ADMIN, "Z", "admin", None)
    with store.read() as s:
        assert s.execute(select(AuditEntry)).first() is None  # refused writes leave no audit trace


def _append_n(store: Store, n: int) -> None:
    for i in range(n):
        with store.write() as s:
            audit.append(s, "tester", "test.write", f"thing:{i}", {"i": i, "text": "é"})


def test_verify_on_a_snapshot_is_not_fooled_by_a_write_committed_mid_check(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member created (its audit entry and its row) by another connection after the chain was walked and
    before the rows are read: the snapshot sees neither, so the chain is intact; on PostgreSQL a plain
    READ COMMITTED session would see the row without its entry and report it "not in the chain"."""
    with store.write() as s:
        create_member(s, ADMIN, "Chile", "member", "CHL")
    real = audit.actual_digests
    raced = []

    def racing(session: object, since: str) -> dict[str, str]:
        with store.write() as w:  # commits while the check's session is open
            raced.append(create_member(w, ADMIN, "Peru", "member", "PER").id)
        return real(session, since)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "actual_digests", racing)
    with store.snapshot() as s:
        report = audit.verify(s)
    assert raced and report.ok, report
    assert report.rows_checked == 1  # Chile only: Peru committed after the snapshot began
    monkeypatch.undo()
    with store.snapshot() as s:
        after = audit.verify(s)
    assert after.ok and after.rows_checked == 2


def test_audit_chain_links_every_entry(store: Store) -> None:
    _append_n(store, 5)
    with store.read() as s:
        report = audit.verify(s)
        entries = list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
    assert report.ok and report.checked == 5
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))


@pytest.mark.parametrize(
    ("column", "value"),
    [("payload", '{"i":99}'), ("actor", "intruder"), ("created_at", "2020-01-01T00:00:00")],
)
def test_audit_verify_names_first_altered_entry(store: Store, column: str, value: str) -> None:
    _append_n(store, 6)
    with store.write() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values({column: value}))
    with store.read() as s:
        report = audit.verify(s)
    assert not report.ok
    assert report.first_broken == 3
    assert report.checked == 2
    assert "altered" in report.reason


def test_audit_verify_detects_deleted_and_relinked_entries(store: Store) -> None:
    _append_n(store, 5)
    with store.write() as s:
        s.execute(AuditEntry.__table__.delete().where(AuditEntry.seq == 2))
    with store.read() as s:
        assert audit.verify(s).first_broken == 3
    with store.write() as s:  # a forger renumbers entry 3 as 2 and recomputes its hash
        e = s.get(AuditEntry, 3)
        assert e is not None
        s.delete(e)
        s.flush()
        prev = s.get(AuditEntry, 1)
        assert prev is not None
        forged = AuditEntry(
            seq=2,
            created_at=e.created_at,
            actor=e.actor,
            action=e.action,
            target=e.target,
            payload=e.payload,
            prev_hash=prev.hash,
            hash=audit.entry_hash(2, e.created_at, e.actor, e.action, e.target, e.payload, prev.hash),
        )
        s.add(forged)
    with store.read() as s:
        report = audit.verify(s)
    assert report.first_broken == 4 and report.checked == 2


def test_a_lazy_write_commits_without_waiting_for_the_disk_and_others_stay_durable(store: Store) -> None:
    """``write(durable=False)`` (the public exposure jobs' queue): SQLite ``synchronous=NORMAL``, PostgreSQL
    ``synchronous_commit=off`` inside it; every other write keeps ``FULL`` / ``on``; both commit."""
    setting = "SHOW synchronous_commit" if store.is_postgres else "PRAGMA synchronous"
    with store.write(durable=False) as s:
        lazy = s.execute(text(setting)).scalar_one()
        s.execute(text("INSERT INTO members (name, role, created_at) VALUES ('lazy', 'participant', 't')"))
    with store.write() as s:
        durable = s.execute(text(setting)).scalar_one()
    with store.read() as s:
        names = s.execute(text("SELECT name FROM members")).scalars().all()
    assert (lazy, durable) == (("off", "on") if store.is_postgres else (1, 2)) and "lazy" in names
