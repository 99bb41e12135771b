"""Transaction submissions carry the fields of the pricing methodology: specification, incoterm, buyer.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

COLUMNS = ("specification", "incoterm", "buyer")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("submission_rows", sa.Column(name, sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submission_rows") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
