"""Ingest: one fetched (and already cleaned) page into the archive, atomically.

This is the only place that decides what a capture means: new version,
unchanged, not modified, fetch error, extraction failed, blocked. The caller
gives a session inside one transaction, so a crash loses at most the page in
flight and never leaves half of it.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.clean import Extraction
from archive.models import Base, Capture, Content, Page, Site, Version, utcnow
from archive.normalize import bytes_hash
from archive.rawstore import store_raw

log = logging.getLogger(__name__)

GONE_AFTER = 2
"""Consecutive 404/410 answers after which a page is marked gone (its versions stay)."""
SHRINK_LIMIT = 0.5
"""A text under this share of the previous version's length is a layout change, not an edit."""

OUTCOMES = ("new_version", "unchanged", "not_modified", "fetch_error", "extraction_failed", "blocked")


@dataclass(frozen=True)
class Fetched:
    """What the crawler hands over for one page; plain data, no Scrapy types."""

    site: str
    url: str
    fetched_at: dt.datetime
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    error: str | None = None
    run_id: int | None = None


@dataclass(frozen=True)
class RecheckPolicy:
    """When a known page is fetched again: unchanged pages back off, changed pages reset."""

    min_seconds: int = 86400
    max_seconds: int = 60 * 86400

    def next_interval(self, previous: int | None, outcome: str) -> int:
        if outcome in ("unchanged", "not_modified"):
            return min(max(previous or self.min_seconds, self.min_seconds) * 2, self.max_seconds)
        return self.min_seconds


@dataclass(frozen=True)
class Ingested:
    outcome: str
    page_id: int
    version_number: int | None = None
    reason: str | None = None
    new_page: bool = False


@dataclass(frozen=True)
class _Statements:
    """Statements built once per dialect and executed with parameters.

    Built per call, a statement with literal values costs more in SQLAlchemy's
    coercion and cache-key code than the SQLite write itself; ingest runs once
    per page on the crawl's reactor thread.
    """

    select_page: Any
    insert_page: Any
    select_previous: Any
    insert_capture: Any
    insert_version: Any
    insert_content: Any
    update_page: Any


@functools.cache
def _statements(dialect: str) -> _Statements:
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    pages, caps, vers, conts = (Base.metadata.tables[m.__tablename__] for m in (Page, Capture, Version, Content))
    return _Statements(
        select_page=select(
            pages.c.id, pages.c.missing_count, pages.c.gone_at, pages.c.check_interval, pages.c.etag,
            pages.c.last_modified,
        ).where(pages.c.url == bindparam("page_url")),
        insert_page=upsert(pages).on_conflict_do_nothing(index_elements=["url"]),
        select_previous=select(
            vers.c.number, vers.c.content_hash, vers.c.char_count, vers.c.extractor_version, caps.c.raw_sha256
        )
        .select_from(vers.outerjoin(caps, caps.c.id == vers.c.capture_id))
        .where(vers.c.page_id == bindparam("pid"))
        .order_by(vers.c.number.desc())
        .limit(1),
        insert_capture=insert(caps).returning(caps.c.id),
        insert_version=insert(vers),
        insert_content=upsert(conts).on_conflict_do_nothing(index_elements=["hash"]),
        update_page=update(pages).where(pages.c.id == bindparam("pid")),
    )  # fmt: skip


def _stmts(session: Session) -> _Statements:
    return _statements(session.get_bind().dialect.name)


def store_content(session: Session, digest: str, text: str) -> None:
    session.connection().execute(
        _stmts(session).insert_content, {"hash": digest, "text": text, "char_count": len(text), "created_at": utcnow()}
    )


def add_version(
    session: Session, page: Page, digest: str, ext: Extraction, *, capture_id: int | None, change: str, number: int
) -> Version:
    store_content(session, digest, ext.text)
    version = Version(
        page_id=page.id,
        number=number,
        content_hash=digest,
        capture_id=capture_id,
        change=change,
        **ext.version_fields(),
    )
    session.add(version)
    session.flush()
    return version


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


@dataclass
class _PageState:
    """The columns of a page that deciding a capture reads and changes."""

    id: int
    missing_count: int
    gone_at: dt.datetime | None
    check_interval: int | None
    etag: str | None
    last_modified: str | None
    created: bool = False


@dataclass(frozen=True)
class _Previous:
    """The latest version of a page, as far as deciding a capture needs it."""

    number: int
    content_hash: str
    char_count: int
    extractor_version: str
    raw_sha256: str | None


def _page_state(session: Session, site_id: int, url: str, now: dt.datetime) -> _PageState:
    """Read (or create, race-safely) the page row with the columns a capture changes."""
    conn, stmts = session.connection(), _stmts(session)
    row = conn.execute(stmts.select_page, {"page_url": url}).first()
    created = False
    if row is None:
        result = conn.execute(
            stmts.insert_page, {"site_id": site_id, "url": url, "first_seen_at": now, "missing_count": 0}
        )
        created = getattr(result, "rowcount", 0) == 1
        row = conn.execute(stmts.select_page, {"page_url": url}).one()
    return _PageState(row[0], row[1] or 0, row[2], row[3], row[4], row[5], created)


def _previous(session: Session, page_id: int) -> _Previous | None:
    row = session.connection().execute(_stmts(session).select_previous, {"pid": page_id}).first()
    return None if row is None else _Previous(*row)


def ingest(
    session: Session,
    site: Site,
    fetched: Fetched,
    extraction: Extraction | None,
    digest: str | None,
    *,
    keep_raw: bool = True,
    policy: RecheckPolicy | None = None,
) -> Ingested:
    """Record one capture (and its version and content when the text changed).

    Written on SQLAlchemy Core rather than the ORM: this runs once per fetched page on the
    crawl's reactor thread, and a handful of statements costs a fraction of a unit-of-work flush.
    """
    now = fetched.fetched_at
    page = _page_state(session, site.id, fetched.url, now)
    raw_sha = store_raw(session, fetched.body) if keep_raw and fetched.body else None
    previous = _previous(session, page.id)
    outcome, reason, number = _decide(page, previous, fetched, extraction, digest)
    conn, stmts = session.connection(), _stmts(session)
    capture = {
        "page_id": page.id,
        "run_id": fetched.run_id,
        "fetched_at": now,
        "status_code": fetched.status,
        "outcome": outcome,
        "raw_sha256": raw_sha,
        "headers": dict(fetched.headers),
        "encoding": extraction.encoding if extraction else None,
        "content_hash": digest,
        "error": reason,
    }
    capture_id = conn.execute(stmts.insert_capture, capture).scalar_one()
    if outcome == "new_version":
        assert extraction is not None and digest is not None and number is not None
        store_content(session, digest, extraction.text)
        version = {
            "page_id": page.id,
            "number": number,
            "content_hash": digest,
            "capture_id": capture_id,
            "change": _change_kind(previous, fetched.body, extraction),
            "created_at": now,
            **extraction.version_fields(),
        }
        conn.execute(stmts.insert_version, version)
    etag, last_modified = page.etag, page.last_modified
    if fetched.status is not None and 200 <= fetched.status < 300 and outcome != "blocked":
        etag, last_modified = _header(fetched.headers, "etag"), _header(fetched.headers, "last-modified")
    interval = (
        None if page.gone_at is not None else (policy or RecheckPolicy()).next_interval(page.check_interval, outcome)
    )
    conn.execute(
        stmts.update_page,
        {
            "pid": page.id,
            "last_fetched_at": now,
            "last_status": fetched.status,
            "missing_count": page.missing_count,
            "gone_at": page.gone_at,
            "etag": etag,
            "last_modified": last_modified,
            "check_interval": interval if interval is not None else page.check_interval,
            "next_check_at": now + dt.timedelta(seconds=interval) if interval is not None else None,
        },
    )
    if reason and outcome != "unchanged":
        log.warning("%s %s: %s", outcome, fetched.url, reason)
    return Ingested(outcome, page.id, number if outcome == "new_version" else None, reason, page.created)


def _change_kind(previous: _Previous | None, body: bytes | None, extraction: Extraction) -> str:
    """An edit, unless the bytes are those the latest version came from and only the extractor changed.

    That case is a better cleaner re-reading the same page (a re-clean), which must never count
    as a page change.
    """
    if previous is None:
        return "first"
    if body is None or previous.extractor_version == extraction.extractor_version:
        return "edit"
    return "reclean" if previous.raw_sha256 == bytes_hash(body) else "edit"


def _decide(
    page: _PageState,
    previous: _Previous | None,
    fetched: Fetched,
    extraction: Extraction | None,
    digest: str | None,
) -> tuple[str, str | None, int | None]:
    """What a capture means; updates the page's missing/gone state in place."""
    status = fetched.status
    if status is None:
        return "fetch_error", fetched.error or "no response", None
    if status == 304:
        page.missing_count = 0
        return "not_modified", None, None
    if status in (404, 410):
        page.missing_count += 1
        if page.missing_count >= GONE_AFTER and page.gone_at is None:
            page.gone_at = fetched.fetched_at
            log.info("page gone after %d answers of %d: %s", page.missing_count, status, fetched.url)
        return "fetch_error", f"HTTP {status}", None
    if status == 403:
        return "blocked", "HTTP 403: the site refused the crawler", None
    if not 200 <= status < 300:
        return "fetch_error", fetched.error or f"HTTP {status}", None
    page.missing_count = 0
    page.gone_at = None
    if extraction is None or extraction.outcome != "ok" or digest is None:
        kind = extraction.outcome if extraction else "extraction_failed"
        return kind, (extraction.reason if extraction else "not cleaned"), None
    if previous is not None and previous.content_hash == digest:
        return "unchanged", None, None
    if previous is not None and extraction.char_count < SHRINK_LIMIT * previous.char_count:
        return (
            "extraction_failed",
            f"cleaned text shrank to {extraction.char_count} characters from {previous.char_count}; "
            "probably a layout change, check the site's profile",
            None,
        )
    return "new_version", None, (previous.number + 1 if previous else 1)
