"""The search index: written with every version, in its transaction; rebuilt on demand.

Chinese has no spaces between words, so the index is over characters, not
words. Two indexes cover every query length exactly (substring semantics, the
same answers as ``LIKE '%term%'``):

- terms of 3+ characters: trigrams. SQLite: FTS5's ``trigram`` tokenizer
  (``search_trigram``); PostgreSQL: pg_trgm's GIN index on ``contents.text``
  (``ILIKE``, exact after the index's recheck).
- terms of 1-2 characters, which trigrams cannot match: our own tokens, every
  character and every pair of neighbouring characters of the text (:func:`grams`).
  SQLite: FTS5 ``search_grams`` (``unicode61`` over those tokens, no positions);
  PostgreSQL: a tsvector of them (``search_texts.grams``, GIN), built with
  ``array_to_tsvector`` so no text-search parser or locale decides what a word is.
  A 1-2-character term is then one token looked up, never a scan.

Both are keyed by :class:`~archive.storage.models.SearchText` ids, one per
distinct text, so a speech re-posted on five sites is indexed once. Beside
them, :class:`~archive.storage.models.SearchDoc` holds each page's latest
version (what search and the page lists filter and sort on). All of it is
written by :func:`index_version`, which :func:`archive.storage.versions.write_version`
calls in the version's transaction, so the index can never lag the archive.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.storage.models import Base, Content, Page, SearchDoc, SearchText, Version

log = logging.getLogger(__name__)

TRIGRAM_MIN = 3
"""Terms this long or longer go to the trigram index; shorter ones to the 1-2-character tokens."""

_GRAM_CATEGORIES = "L* M* N* P* S* Co Cf Cn"
"""unicode61 token characters: everything but separators and controls (which :func:`_fold_char` maps away)."""

SQLITE_TABLES = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_trigram USING fts5("
    "text, content='', tokenize='trigram case_sensitive 0')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_grams USING fts5("
    f"grams, content='', detail=none, tokenize=\"unicode61 categories '{_GRAM_CATEGORIES}' remove_diacritics 0\")",
)
"""Contentless FTS5 tables: the text is in ``contents`` already; the index keeps only postings."""

UNMODELLED_TABLE_PREFIXES = ("search_trigram", "search_grams")
"""SQLite: the FTS5 tables and their shadow tables (``_data``, ``_idx``, ...), made by SQLITE_TABLES."""
UNMODELLED_INDEXES = frozenset({"ix_search_texts_grams", "ix_contents_text_trgm"})
UNMODELLED_COLUMNS = frozenset({("search_texts", "grams")})
"""PostgreSQL: the tsvector column and GIN indexes made by :func:`create_index_tables`."""


def _fold_char(char: str) -> str:
    """White space and control characters as private-use characters, so they are tokens too.

    A query never matches across a line break unless the text has one there,
    exactly as ``LIKE`` would not.
    """
    if char.isspace() or ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0:
        return chr(0xE000 + ord(char) % 0x1000)
    return char


_FOLDED = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
"""The characters :func:`_fold_char` changes (``\\s`` is ``str.isspace``): found by the regex engine, so the
common characters of a text are not each passed through a Python call."""


def grams(value: str) -> list[str]:
    """The distinct 1- and 2-character tokens of a text, lower-cased (as ``ILIKE``/``LIKE`` fold ASCII).

    In first-seen order. Computed in the crawl's cleaning workers (``ProcessedPage.search_grams``), so
    the archive's writer only inserts them.
    """
    text = _FOLDED.sub(lambda m: _fold_char(m.group()), value.lower())
    found = dict.fromkeys(text)
    found.update(dict.fromkeys(map(operator.add, text, text[1:])))
    return list(found)


_FOLD_BELOW = 0x3001
"""Every character :func:`_fold_char` changes is below U+3001 (U+3000, the ideographic space, is the last)."""
_FOLD_TABLE = np.array([_fold_char(chr(c)) != chr(c) for c in range(_FOLD_BELOW)], dtype=bool)
_SPACE = np.uint32(ord(" "))


def joined_grams(value: str) -> str:
    """The set of :func:`grams` as one string, tokens separated by a space (none contains one), in code-point order.

    What the worker carries and the index stores (an FTS5 row; PostgreSQL's tsvector sorts them
    anyway). Built on the text's code points as an array (numpy): sort, drop repeats, interleave
    spaces, decode once. The same tokens in pure Python cost ~4 ms a 10,000-character text, the
    largest single cost of a cleaning worker; this costs a few tenths of that.
    """
    lowered = value.lower()
    if not lowered:
        return ""
    codes = np.frombuffer(lowered.encode("utf-32-le", "surrogatepass"), dtype="<u4").copy()
    fold = _FOLD_TABLE[np.minimum(codes, _FOLD_BELOW - 1)] & (codes < _FOLD_BELOW)
    codes[fold] = 0xE000 + codes[fold] % 0x1000
    chars = _distinct(codes)
    pairs = _distinct((codes[:-1].astype(np.uint64) << np.uint64(32)) | codes[1:])
    out = np.full(2 * len(chars) + 3 * len(pairs), _SPACE, dtype="<u4")
    out[0 : 2 * len(chars) : 2] = chars
    out[2 * len(chars) :: 3] = (pairs >> np.uint64(32)).astype("<u4")
    out[2 * len(chars) + 1 :: 3] = (pairs & np.uint64(0xFFFFFFFF)).astype("<u4")
    return out[:-1].tobytes().decode("utf-32-le", "surrogatepass")


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (a sort and a comparison of neighbours: cheaper than ``np.unique`` here)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def term_gram(term: str) -> str:
    """The one token a 1-2-character term is looked up by."""
    if not 1 <= len(term) < TRIGRAM_MIN:
        raise ValueError(f"term {term!r} is not 1-2 characters")
    return "".join(_fold_char(c) for c in term.lower())


@dataclass(frozen=True)
class _Statements:
    insert_text: Any
    select_text: Any
    upsert_doc: Any


@functools.cache
def _statements(dialect: str) -> _Statements:
    texts, docs = (Base.metadata.tables[m.__tablename__] for m in (SearchText, SearchDoc))
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    doc = upsert(docs).from_select(
        ["page_id", "site_id", "text_id", "version_id", "number", "title", "published_at", "changed_at", "partial",
         "char_count", "body_from"],
        select(
            bindparam("page_id"), Page.site_id, bindparam("text_id"), bindparam("version_id"), bindparam("number"),
            bindparam("title"), bindparam("published_at", type_=SearchDoc.published_at.type),
            bindparam("changed_at", type_=SearchDoc.changed_at.type), bindparam("partial"), bindparam("char_count"),
            bindparam("body_from"),
        ).where(Page.id == bindparam("page_id")),
    )  # fmt: skip
    fields = ("text_id", "version_id", "number", "title", "published_at", "changed_at", "partial", "char_count")
    doc = doc.on_conflict_do_update(
        index_elements=["page_id"],
        set_={name: doc.excluded[name] for name in (*fields, "body_from")},
        where=doc.excluded.number >= docs.c.number,  # a late writer of an older version never wins
    )
    return _Statements(
        insert_text=upsert(texts).on_conflict_do_nothing(index_elements=["content_hash"]).returning(texts.c.id),
        select_text=select(texts.c.id).where(texts.c.content_hash == bindparam("content_hash")),
        upsert_doc=doc,
    )


_DEFERRED = "search_fts_rows"
"""``Session.info`` key of the FTS5 rows a batch defers to its end (:func:`deferred_fts`)."""


@contextlib.contextmanager
def deferred_fts(session: Session) -> Iterator[None]:
    """Within the block, SQLite's FTS5 rows of new texts are inserted together at its end, in the same transaction.

    FTS5 keeps new postings in memory and writes them out as a segment when a
    statement that needs a statement journal begins (the upsert of
    ``search_docs`` does), so a trigram row between other writes costs a segment
    of its own and the merging of hundreds of small segments: ~4 ms a page where
    the same rows inserted together at the end of a batch of 50 cost ~2.4 ms.
    The crawl's writer stores its batches inside this block (crawler/writer.py).
    """
    rows: list[tuple[int, str, str]] = []
    session.info[_DEFERRED] = rows
    try:
        yield
        if rows:
            conn = session.connection()
            conn.exec_driver_sql(
                "INSERT INTO search_trigram(rowid, text) VALUES (?, ?)", [(i, value) for i, value, _t in rows]
            )
            conn.exec_driver_sql(
                "INSERT INTO search_grams(rowid, grams) VALUES (?, ?)", [(i, tokens) for i, _v, tokens in rows]
            )
    finally:
        session.info.pop(_DEFERRED, None)


def fts_rows(session: Session) -> list[tuple[int, str, str]] | None:
    """The rows :func:`deferred_fts` collects for ``session``, or None outside such a block."""
    rows = session.info.get(_DEFERRED)
    return rows if isinstance(rows, list) else None


def index_text(
    conn: Connection,
    content_hash: str,
    value: str,
    *,
    tokens: str | None = None,
    deferred: list[tuple[int, str, str]] | None = None,
) -> int:
    """The search id of a text, indexing the text the first time it is seen.

    ``tokens``: the text's :func:`joined_grams`, when already computed (a crawl's workers do);
    ``deferred``: where SQLite's FTS5 rows go to be inserted later in the transaction (:func:`deferred_fts`).
    """
    dialect = conn.dialect.name
    stmts = _statements(dialect)
    new_id = conn.execute(stmts.insert_text, {"content_hash": content_hash}).scalar_one_or_none()
    if new_id is None:
        return int(conn.execute(stmts.select_text, {"content_hash": content_hash}).scalar_one())
    tokens = tokens if tokens is not None else joined_grams(value)
    if dialect == "sqlite" and deferred is not None:
        deferred.append((int(new_id), value, tokens))
    else:
        _index_new_text(conn, dialect, int(new_id), value, tokens)
    return int(new_id)


def _index_new_text(conn: Connection, dialect: str, text_id: int, value: str, tokens: str) -> None:
    if dialect == "sqlite":
        conn.exec_driver_sql("INSERT INTO search_trigram(rowid, text) VALUES (?, ?)", (text_id, value))
        conn.exec_driver_sql("INSERT INTO search_grams(rowid, grams) VALUES (?, ?)", (text_id, tokens))
    else:  # the text itself is indexed by pg_trgm on contents.text
        conn.execute(
            text("UPDATE search_texts SET grams = array_to_tsvector(CAST(:grams AS text[])) WHERE id = :id"),
            {"grams": tokens.split(" ") if tokens else [], "id": text_id},
        )


def index_version(
    conn: Connection,
    version: dict[str, Any],
    version_id: int,
    text_value: str,
    *,
    tokens: str | None = None,
    deferred: list[tuple[int, str, str]] | None = None,
) -> None:
    """Index a version just written: its text (once per content hash) and its page's latest-version row."""
    text_id = index_text(conn, version["content_hash"], text_value, tokens=tokens, deferred=deferred)
    conn.execute(
        _statements(conn.dialect.name).upsert_doc,
        {
            "page_id": version["page_id"],
            "text_id": text_id,
            "version_id": version_id,
            "number": version["number"],
            "title": version.get("title"),
            "published_at": version.get("published_at"),
            "changed_at": version["created_at"],
            "partial": bool(version.get("partial")),
            "char_count": version.get("char_count") or len(text_value),
            "body_from": version.get("body_from"),
        },
    )


# --- building the tables and rebuilding the index ------------------------------------------------


def create_index_tables(conn: Connection) -> None:
    """The parts of the index that are not plain tables (FTS5 tables; the pg_trgm and tsvector indexes)."""
    if conn.dialect.name == "sqlite":
        for ddl in SQLITE_TABLES:
            conn.exec_driver_sql(ddl)
        return
    conn.exec_driver_sql("ALTER TABLE search_texts ADD COLUMN IF NOT EXISTS grams tsvector")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_search_texts_grams ON search_texts USING gin (grams)")
    if has_pg_trgm(conn, create=True):
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_contents_text_trgm ON contents USING gin (text gin_trgm_ops)"
        )


def has_pg_trgm(conn: Connection, *, create: bool = False) -> bool:
    """Whether pg_trgm is installed in this database (creating it when asked and available)."""
    installed = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first() is not None
    if installed or not create:
        return installed
    available = conn.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").first()
    if available is None:
        log.warning(
            "PostgreSQL has no pg_trgm extension (Debian: the postgresql-contrib / postgresql package); "
            "search still works, without the trigram index"
        )
        return False
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    return True


REBUILD_BATCH = 500


def rebuild_index(conn: Connection, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Empty and refill the whole index from ``contents`` and ``versions`` (one transaction: the caller's).

    Texts are indexed in the order their first version was stored, so ids stay
    in time order; then each page's latest version becomes its doc row.
    """
    dialect = conn.dialect.name
    create_index_tables(conn)
    conn.exec_driver_sql("DELETE FROM search_docs")
    if dialect == "sqlite":
        for table in ("search_trigram", "search_grams"):  # contentless: emptied by FTS5's own command
            conn.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('delete-all')")
    conn.exec_driver_sql("DELETE FROM search_texts")
    first_use = (
        select(Version.content_hash, Content.text)
        .join(Content, Content.hash == Version.content_hash)
        .group_by(Version.content_hash, Content.text)
        .order_by(func.min(Version.id))
    )
    texts = 0
    streamed = {"stream_results": True, "yield_per": REBUILD_BATCH}  # a server-side cursor on PostgreSQL
    for batch in _batches(conn.execute(first_use.execution_options(**streamed)), REBUILD_BATCH):
        for content_hash, value in batch:
            index_text(conn, content_hash, value)
        texts += len(batch)
        if progress is not None:
            progress(len(batch))
    latest = select(Version.page_id, func.max(Version.number).label("number")).group_by(Version.page_id).subquery()
    columns = (Version.id, Version.page_id, Version.number, Version.content_hash, Version.created_at, Version.title,
               Version.published_at, Version.partial, Version.char_count, Version.body_from)  # fmt: skip
    rows = conn.execute(
        select(*columns, Content.text)
        .join(latest, (latest.c.page_id == Version.page_id) & (latest.c.number == Version.number))
        .join(Content, Content.hash == Version.content_hash)
        .execution_options(**streamed)
    ).mappings()
    docs = 0
    for row in rows:
        index_version(conn, dict(row), row["id"], row["text"])
        docs += 1
    return {"texts": texts, "pages": docs}


def _batches(rows: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
