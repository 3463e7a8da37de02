"""search index (texts, latest version per page, FTS5 / pg_trgm) and versions.body_from

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Existing archives are indexed here, in the migration's transaction (the same
code as `speech-archive search-index rebuild`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from archive.storage.search import rebuild_index

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("body_from", sa.String(length=20), nullable=True))
    op.create_table(
        "search_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_hash"], ["contents.hash"], name=op.f("fk_search_texts_content_hash_contents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_texts")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_search_texts_content_hash")),
    )
    op.create_table(
        "search_docs",
        sa.Column("page_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("text_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("char_count", sa.Integer(), nullable=False),
        sa.Column("body_from", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_search_docs_page_id_pages")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_search_docs_site_id_sites")),
        sa.ForeignKeyConstraint(["text_id"], ["search_texts.id"], name=op.f("fk_search_docs_text_id_search_texts")),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name=op.f("fk_search_docs_version_id_versions")),
        sa.PrimaryKeyConstraint("page_id", name=op.f("pk_search_docs")),
    )
    op.create_index("ix_search_docs_site_changed", "search_docs", ["site_id", "changed_at", "page_id"])
    op.create_index("ix_search_docs_site_page", "search_docs", ["site_id", "page_id"])
    op.create_index("ix_search_docs_text", "search_docs", ["text_id", "page_id"])
    op.create_index("ix_search_docs_site_figures", "search_docs", ["site_id", "partial", "body_from", "number"])
    rebuild_index(op.get_bind())


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_trigram")
        op.execute("DROP TABLE IF EXISTS search_grams")
    else:
        op.execute("DROP INDEX IF EXISTS ix_contents_text_trgm")
    op.drop_table("search_docs")
    op.drop_table("search_texts")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("body_from")
