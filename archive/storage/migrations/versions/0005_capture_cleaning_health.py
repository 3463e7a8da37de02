"""cleaning health per capture: which path found the body, which lines the profile removed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.add_column(sa.Column("body_from", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("boilerplate", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.drop_column("boilerplate")
        batch.drop_column("body_from")
