"""Revisions of released periods: each submission or withdrawal a member makes into periods already
released, counted for the rate limit of the disclosure control.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "submission_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("release_id", sa.Integer(), sa.ForeignKey("releases.id"), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_submission_revisions_member", "submission_revisions", ["member_id", "kind", "release_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_submission_revisions_member", "submission_revisions")
    op.drop_table("submission_revisions")
