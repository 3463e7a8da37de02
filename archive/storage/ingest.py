"""Ingest: one fetched (and already processed) page into the archive, atomically.

This is the only place that decides what a capture means: new version,
unchanged, not modified, fetch error, extraction failed, blocked. It takes the
page as the crawler fetched it and the worker processed it
(:mod:`archive.records`) and does no CPU-heavy work itself: cleaning, hashing,
compression and the search tokens were done by a crawl's worker. The caller gives
a session inside one transaction (a crawl's writer: one per batch of pages,
crawler/writer.py), so a crash loses at most what that transaction held and
never leaves half a page.
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
from archive.storage.versions import SHRINK_PREFIX, shrink_reason, write_version

log = logging.getLogger(__name__)

GONE_AFTER = 2
"""Consecutive 404/410 answers after which a page is marked gone (its versions stay)."""
ACCEPT_SHRINK_AFTER = 2
"""Captures in a row with the same much shorter text after which it is a real cut: a version with change 'shrink'."""
VALIDATED_OUTCOMES = frozenset({"new_version", "unchanged", "not_html"})
"""Outcomes after which the page's ETag/Last-Modified are kept for the next conditional request."""

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
    page_id: int | None
    """None when nothing was recorded: a 404/410 of a URL the archive never had."""
    version_number: int | None = None
    reason: str | None = None
    new_page: bool = False
    change: str | None = None
    """The new version's change (first / edit / reclean / shrink)."""


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
    select_recent: Any
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
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT DO NOTHING.
        insert_page=upsert(pages).on_conflict_do_nothing(index_elements=["url"]).returning(pages.c.id),
        select_previous=select(
            vers.c.number, vers.c.content_hash, vers.c.char_count, vers.c.extractor_version, caps.c.raw_sha256
        )
        .select_from(vers.outerjoin(caps, caps.c.id == vers.c.capture_id))
        .where(vers.c.page_id == bindparam("pid"))
        .order_by(vers.c.number.desc())
        .limit(1),
        select_recent=select(caps.c.outcome, caps.c.content_hash)
        .where(caps.c.page_id == bindparam("pid"))
        .order_by(caps.c.id.desc())
        .limit(bindparam("n")),
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


def _existing_page(session: Session, url: str) -> _PageState | None:
    row = session.connection().execute(_stmts(session).select_page, {"page_url": url}).first()
    return None if row is None else _PageState(row[0], row[1] or 0, row[2], row[3], row[4], row[5])


def page_state(session: Session, site_id: int, url: str, now: dt.datetime) -> _PageState:
    """Read (or create, race-safely) the page row with the columns a capture changes."""
    page = _existing_page(session, url)
    if page is not None:
        return page
    conn, stmts = session.connection(), _stmts(session)
    inserted = conn.execute(
        stmts.insert_page, {"site_id": site_id, "url": url, "first_seen_at": now, "missing_count": 0}
    ).first()
    if inserted is not None:  # ours: its columns are the ones just written
        return _PageState(int(inserted[0]), 0, None, None, None, None, created=True)
    page = _existing_page(session, url)  # another writer inserted it first
    assert page is not None, "the page row exists after an insert that did nothing on a conflict"
    return page


def _previous(session: Session, page_id: int) -> _Previous | None:
    row = session.connection().execute(_stmts(session).select_previous, {"pid": page_id}).first()
    return None if row is None else _Previous(*row)


def _refused_shrinks(session: Session, page_id: int, digest: str, wanted: int) -> bool:
    """Whether the page's last ``wanted`` captures all refused this same shorter text as a shrink."""
    if wanted <= 0:
        return True
    rows = session.connection().execute(_stmts(session).select_recent, {"pid": page_id, "n": wanted}).all()
    return len(rows) == wanted and all(o == "extraction_failed" and h == digest for o, h in rows)


def ingest(
    session: Session,
    site: Site,
    fetched: Fetched,
    processed: ProcessedPage,
    *,
    policy: RecheckPolicy | None = None,
    accept_shrink_after: int = ACCEPT_SHRINK_AFTER,
) -> Ingested:
    """Record one capture (and its version and content when the text changed).

    Written on SQLAlchemy Core rather than the ORM: this runs once per fetched page, and a
    handful of prepared statements costs a fraction of a unit-of-work flush.
    """
    now = fetched.fetched_at
    if fetched.status in (404, 410) and _existing_page(session, fetched.url) is None:
        # A dead link to a page the archive never had: no permanent row for something that never existed.
        return Ingested("fetch_error", None, reason=f"HTTP {fetched.status}")
    page = page_state(session, site.id, fetched.url, now)
    raw_sha = store_packed(session, processed.raw) if processed.raw is not None else None
    previous = None if page.created else _previous(session, page.id)  # a page created now has no version yet
    extraction, digest = processed.extraction, processed.content_hash
    outcome, reason, number = _decide(page, previous, fetched, processed)
    change = _change_kind(previous, processed) if outcome == "new_version" else None
    if reason is not None and reason.startswith(SHRINK_PREFIX):
        assert digest is not None and previous is not None
        if _refused_shrinks(session, page.id, digest, accept_shrink_after - 1):
            outcome, reason, number, change = "new_version", None, previous.number + 1, "shrink"
            log.warning("accepting a shorter text of %s after %d captures: stored as a shrink", fetched.url,
                        accept_shrink_after)  # fmt: skip
        else:
            reason = f"{reason} (stored as a version with change 'shrink' after {accept_shrink_after} such captures)"
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
        "body_from": extraction.method if extraction else None,
        "boilerplate": list(extraction.boilerplate) if extraction and extraction.boilerplate else None,
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
            change=change or "edit",
            created_at=now,
            search_tokens=processed.search_tokens,
        )
    etag, last_modified = page.etag, page.last_modified
    if outcome in VALIDATED_OUTCOMES:
        # Only a page whose answer was kept as it is may be asked "changed since?": after a failed
        # extraction or a refused shrink, the next check must fetch the whole page again.
        etag, last_modified = _fits(fetched.header("etag"), 500), _fits(fetched.header("last-modified"), 100)
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
    return Ingested(outcome, page.id, number if outcome == "new_version" else None, reason, page.created, change)


def _fits(value: str | None, limit: int) -> str | None:
    """A validator header that fits its column; a longer one is not kept (the page is then fetched whole)."""
    return value if value is None or len(value) <= limit else None


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
