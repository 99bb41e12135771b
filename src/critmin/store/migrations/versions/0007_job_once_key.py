"""Jobs queued once per key: ``jobs.once_key`` (the kind, owner and parameters of a job kind that runs once
per request, :func:`critmin.store.jobs.once_key`), unique among the queued, running and succeeded jobs, so
two processes queueing the same key at the same moment make one job (PostgreSQL and SQLite alike), and a
lookup by key reads one index entry instead of every live job.

Existing live jobs of those kinds get their key; of several live jobs of one key (the duplicates this
migration prevents from now on) the succeeded one, else the newest, keeps it.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

LIVE = ("queued", "running", "succeeded")
ONCE_KINDS = ("exposure", "reserve_finance")  # the kinds declared ``once`` when this migration was written


def _key(kind: str, owner_id: int, params: str) -> str:
    """As :func:`critmin.store.jobs.once_key` (frozen here: a migration never imports code that changes)."""
    return f"{kind}:{owner_id}:{hashlib.sha256(params.encode('utf-8')).hexdigest()[:40]}"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("once_key", sa.String(120), nullable=True))
    jobs = sa.table(
        "jobs",
        sa.column("id", sa.String),
        sa.column("kind", sa.String),
        sa.column("owner_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("params", sa.Text),
        sa.column("created_at", sa.String),
        sa.column("once_key", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(jobs.c.id, jobs.c.kind, jobs.c.owner_id, jobs.c.status, jobs.c.params, jobs.c.created_at)
        .where(jobs.c.kind.in_(ONCE_KINDS), jobs.c.status.in_(LIVE))
        .order_by(jobs.c.created_at)
    ).all()
    keeper: dict[str, tuple[bool, str, str]] = {}  # key -> (succeeded, created_at, id): the largest wins
    for row in rows:
        key = _key(row.kind, row.owner_id, row.params)
        rank = (row.status == "succeeded", str(row.created_at), str(row.id))
        if key not in keeper or rank > keeper[key]:
            keeper[key] = rank
    for key, (_, _, job_id) in keeper.items():
        bind.execute(sa.update(jobs).where(jobs.c.id == job_id).values(once_key=key))
    op.create_index(
        "uq_jobs_once_key",
        "jobs",
        ["once_key"],
        unique=True,
        sqlite_where=sa.text("status IN ('queued', 'running', 'succeeded')"),
        postgresql_where=sa.text("status IN ('queued', 'running', 'succeeded')"),
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_once_key", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("once_key")
