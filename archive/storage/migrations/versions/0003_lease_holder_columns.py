"""lease holder pid and host as columns, not a sentence parsed back

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.add_column(sa.Column("holder_pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("holder_host", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("holder_host")
        batch.drop_column("holder_pid")
