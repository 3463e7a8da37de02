"""works: contents linked as copies of one speech (MinHash signatures, LSH buckets, links, members)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_contents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("shingles", sa.Integer(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("masks", sa.Integer(), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("params", sa.String(length=40), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_hash"], ["contents.hash"], name=op.f("fk_work_contents_content_hash_contents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_contents")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_work_contents_content_hash")),
    )
    op.create_table(
        "work_buckets",
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"], ["work_contents.id"], name=op.f("fk_work_buckets_content_id_work_contents")
        ),
        sa.PrimaryKeyConstraint("bucket", "content_id", name=op.f("pk_work_buckets")),
    )
    with op.batch_alter_table("work_buckets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_buckets_content_id"), ["content_id"], unique=False)

    op.create_table(
        "work_links",
        sa.Column("a_id", sa.Integer(), nullable=False),
        sa.Column("b_id", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["a_id"], ["work_contents.id"], name=op.f("fk_work_links_a_id_work_contents")),
        sa.ForeignKeyConstraint(["b_id"], ["work_contents.id"], name=op.f("fk_work_links_b_id_work_contents")),
        sa.PrimaryKeyConstraint("a_id", "b_id", name=op.f("pk_work_links")),
    )
    with op.batch_alter_table("work_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_links_b_id"), ["b_id"], unique=False)

    op.create_table(
        "works",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("canonical_id", sa.Integer(), nullable=True),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("fills", sa.JSON(), nullable=False),
        sa.Column("merged_into", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["canonical_id"], ["work_contents.id"], name=op.f("fk_works_canonical_id_work_contents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_works")),
    )
    op.create_table(
        "work_members",
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("containment", sa.Float(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"], ["work_contents.id"], name=op.f("fk_work_members_content_id_work_contents")
        ),
        sa.ForeignKeyConstraint(["work_id"], ["works.id"], name=op.f("fk_work_members_work_id_works")),
        sa.PrimaryKeyConstraint("content_id", name=op.f("pk_work_members")),
    )
    with op.batch_alter_table("work_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_members_work_id"), ["work_id"], unique=False)

    op.create_table(
        "work_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_work_state")),
    )


def downgrade() -> None:
    op.drop_table("work_state")
    with op.batch_alter_table("work_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_members_work_id"))
    op.drop_table("work_members")
    op.drop_table("works")
    with op.batch_alter_table("work_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_links_b_id"))
    op.drop_table("work_links")
    with op.batch_alter_table("work_buckets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_buckets_content_id"))
    op.drop_table("work_buckets")
    op.drop_table("work_contents")
