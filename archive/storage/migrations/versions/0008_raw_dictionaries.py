"""raw pages compressed with per-site zstd dictionaries: the dictionaries table, raw_pages.dict_id

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "raw_dictionaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_raw_dictionaries_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_dictionaries")),
    )
    op.create_index(op.f("ix_raw_dictionaries_site_id"), "raw_dictionaries", ["site_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a nullable column with a REFERENCES clause in place; Alembic's batch mode would copy
        # every stored raw page into a new table to add the same constraint.
        op.execute("ALTER TABLE raw_pages ADD COLUMN dict_id INTEGER REFERENCES raw_dictionaries (id)")
    else:
        op.add_column("raw_pages", sa.Column("dict_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_raw_pages_dict_id_raw_dictionaries"), "raw_pages", "raw_dictionaries", ["dict_id"], ["id"]
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM raw_pages WHERE dict_id IS NOT NULL")).scalar_one():
        raise RuntimeError("raw pages compressed with a dictionary would become unreadable; not downgrading")
    with op.batch_alter_table("raw_pages") as batch:
        batch.drop_column("dict_id")
    op.drop_index(op.f("ix_raw_dictionaries_site_id"), table_name="raw_dictionaries")
    op.drop_table("raw_dictionaries")
