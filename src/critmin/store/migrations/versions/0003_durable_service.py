"""Durable service: job leases, SQLite ids never reused, idempotent submissions, dated releases of the
aggregates, audit entries with the digests of the rows they wrote, a wider audit actor.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

AUTOINCREMENT_TABLES = ("members", "submissions", "submission_rows", "reserves", "reserve_ledger")
JOB_COLUMNS = ("attempts", "max_attempts", "worker_id", "lease_expires")


def _job_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="3"),
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("lease_expires", sa.Float(), nullable=True),
    ]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _sqlite():
        # tables are rebuilt with AUTOINCREMENT (Store.upgrade turns foreign keys off, then checks them)
        for table in AUTOINCREMENT_TABLES:
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass
    with op.batch_alter_table("submissions", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("revises_release", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_submissions_idempotency", ["member_id", "idempotency_key"])
    with op.batch_alter_table("jobs") as batch:
        for column in _job_columns():
            batch.add_column(column)
    op.create_index("ix_jobs_status", "jobs", ["status", "created_at"])
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("actor", type_=sa.String(300), existing_type=sa.String(200))
        batch.add_column(sa.Column("rows", sa.Text(), nullable=True))
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "release_cells",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("release_id", sa.Integer(), sa.ForeignKey("releases.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("material", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("contributors", sa.Integer(), nullable=False),
        sa.Column("tonnes", sa.Float(), nullable=True),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("contributors_iso3", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_release_cells_release", "release_cells", ["release_id"])


def downgrade() -> None:
    op.drop_index("ix_release_cells_release", "release_cells")
    op.drop_table("release_cells")
    op.drop_table("releases")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("rows")
        batch.alter_column("actor", type_=sa.String(200), existing_type=sa.String(300))
    op.drop_index("ix_jobs_status", "jobs")
    with op.batch_alter_table("jobs") as batch:
        for name in JOB_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("uq_submissions_idempotency", type_="unique")
        batch.drop_column("revises_release")
        batch.drop_column("idempotency_key")
