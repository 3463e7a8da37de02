"""Ingest: one fetched (and already processed) page into the archive, atomically.

This is the only place that decides what a capture means: new version,
unchanged, not modified, fetch error, extraction failed, blocked. It takes the
page as the crawler fetched it and the worker processed it
(:mod:`archive.records`) and does no CPU-heavy work itself: cleaning, hashing
and compression were done off the crawl's reactor thread. The caller gives a
session inside one transaction, so a crash loses at most the page in flight and
never leaves half of it.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.records import Fetched, ProcessedPage
from archive.storage.models import Base, Capture, Page, Site, Version
from archive.storage.rawstore import store_packed
from archive.storage.versions import shrink_reason, write_version

log = logging.getLogger(__name__)

GONE_AFTER = 2
"""Consecutive 404/410 answers after which a page is marked gone (its versions stay)."""

OUTCOMES = (
    "new_version",
    "unchanged",
    "not_modified",
    "fetch_error",
    "extraction_failed",
    "blocked",
    "not_html",
    "offsite_redirect",
    "store_failed",
)


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
    per page.
    """

    select_page: Any
    insert_page: Any
    select_previous: Any
    insert_capture: Any
    update_page: Any


@functools.cache
def _statements(dialect: str) -> _Statements:
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    pages, caps, vers = (Base.metadata.tables[m.__tablename__] for m in (Page, Capture, Version))
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
        update_page=update(pages).where(pages.c.id == bindparam("pid")),
    )  # fmt: skip


def _stmts(session: Session) -> _Statements:
    return _statements(session.get_bind().dialect.name)


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
    processed: ProcessedPage,
    *,
    policy: RecheckPolicy | None = None,
) -> Ingested:
    """Record one capture (and its version and content when the text changed).

    Written on SQLAlchemy Core rather than the ORM: this runs once per fetched page, and a
    handful of prepared statements costs a fraction of a unit-of-work flush.
    """
    now = fetched.fetched_at
    page = _page_state(session, site.id, fetched.url, now)
    raw_sha = store_packed(session, processed.raw) if processed.raw is not None else None
    previous = _previous(session, page.id)
    extraction, digest = processed.extraction, processed.content_hash
    outcome, reason, number = _decide(page, previous, fetched, processed)
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
        "final_url": fetched.final_url,
    }
    capture_id = conn.execute(stmts.insert_capture, capture).scalar_one()
    if outcome == "new_version":
        assert extraction is not None and digest is not None and number is not None
        write_version(
            session,
            page_id=page.id,
            number=number,
            content_hash=digest,
            extraction=extraction,
            capture_id=capture_id,
            change=_change_kind(previous, processed),
            created_at=now,
        )
    etag, last_modified = page.etag, page.last_modified
    if fetched.status is not None and 200 <= fetched.status < 300 and outcome != "blocked":
        etag, last_modified = fetched.header("etag"), fetched.header("last-modified")
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


def _change_kind(previous: _Previous | None, processed: ProcessedPage) -> str:
    """An edit, unless the bytes are those the latest version came from and only the extractor changed.

    That case is a better cleaner re-reading the same page (a re-clean), which must never count
    as a page change.
    """
    extraction = processed.extraction
    if previous is None:
        return "first"
    if processed.raw is None or extraction is None or previous.extractor_version == extraction.extractor_version:
        return "edit"
    return "reclean" if previous.raw_sha256 == processed.raw.sha256 else "edit"


def _decide(
    page: _PageState, previous: _Previous | None, fetched: Fetched, processed: ProcessedPage
) -> tuple[str, str | None, int | None]:
    """What a capture means; updates the page's missing/gone state in place."""
    status = fetched.status
    if fetched.offsite_redirect:
        return "offsite_redirect", fetched.error or f"redirected off the site to {fetched.final_url}", None
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
    extraction, digest = processed.extraction, processed.content_hash
    if extraction is None or not extraction.ok or digest is None:
        kind = extraction.outcome if extraction else "extraction_failed"
        return kind, (extraction.reason if extraction else "not cleaned"), None
    if previous is not None and previous.content_hash == digest:
        return "unchanged", None, None
    if previous is not None and (shrunk := shrink_reason(extraction.char_count, previous.char_count)):
        return "extraction_failed", shrunk, None
    return "new_version", None, (previous.number + 1 if previous else 1)
