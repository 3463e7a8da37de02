"""Writing a version, and when a new text may replace the previous one: one place for crawl and reclean.

A crawl's new text and a re-clean's better text are both versions; they differ
only in their ``change`` (``first`` / ``edit`` / ``reclean`` / ``shrink``). Both go through
:func:`write_version` (content stored once per hash, then the version row), and
both are held back by the same shrink rule. The search index is written here
too (:mod:`archive.storage.search`), in the same transaction, so it never
lags or leads the versions.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.cleaning.result import Extraction
from archive.storage.models import Base, Content, Version, utcnow
from archive.storage.search import fts_rows, index_version

SHRINK_LIMIT = 0.5
"""A text under this share of the previous version's length is a layout change, not an edit."""
SHRINK_PREFIX = "cleaned text shrank"


def shrink_reason(new_chars: int, previous_chars: int) -> str | None:
    """Why a text may not replace the previous one (it lost more than half), or None when it may.

    A crawl holds such a text back until it has seen it several times in a row (then it is a real
    cut, stored with change ``shrink``: archive.storage.ingest); a re-clean never stores it.
    """
    if new_chars < SHRINK_LIMIT * previous_chars:
        return (
            f"{SHRINK_PREFIX} to {new_chars} characters from {previous_chars}; "
            "probably a layout change, check the site's profile"
        )
    return None


@functools.cache
def _statements(dialect: str) -> tuple[Any, Any]:
    """Built once per dialect and executed with parameters: ingest runs once per page."""
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    contents = Base.metadata.tables[Content.__tablename__]
    versions = Base.metadata.tables[Version.__tablename__]
    return upsert(contents).on_conflict_do_nothing(index_elements=["hash"]), insert(versions).returning(versions.c.id)


def write_version(
    session: Session,
    *,
    page_id: int,
    number: int,
    content_hash: str,
    extraction: Extraction,
    capture_id: int | None,
    change: str,
    created_at: dt.datetime | None = None,
    search_tokens: str | None = None,
) -> None:
    """Store the text once per content hash and add version ``number`` of a page that points to it.

    ``search_tokens``: the text's search tokens when a worker computed them (else computed here).
    """
    insert_content, insert_version = _statements(session.get_bind().dialect.name)
    now = created_at or utcnow()
    conn = session.connection()
    text = extraction.text
    conn.execute(insert_content, {"hash": content_hash, "text": text, "char_count": len(text), "created_at": now})
    version = {
        "page_id": page_id,
        "number": number,
        "content_hash": content_hash,
        "capture_id": capture_id,
        "change": change,
        "created_at": now,
        **extraction.version_fields(),
        "body_from": extraction.method,
    }
    version_id = conn.execute(insert_version, version).scalar_one()
    index_version(conn, version, version_id, text, tokens=search_tokens, deferred=fts_rows(session))
