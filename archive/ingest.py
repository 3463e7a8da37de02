"""Ingest: one fetched (and already cleaned) page into the archive, atomically.

This is the only place that decides what a capture means: new version,
unchanged, not modified, fetch error, extraction failed, blocked. The caller
gives a session inside one transaction, so a crash loses at most the page in
flight and never leaves half of it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.clean import Extraction
from archive.models import Capture, Content, Page, Site, Version, utcnow
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


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def get_or_create_page(session: Session, site_id: int, url: str, now: dt.datetime) -> tuple[Page, bool]:
    """The page row for a URL and whether this call created it (race-safe upsert)."""
    page = session.execute(select(Page).where(Page.url == url)).scalar_one_or_none()
    if page is not None:
        return page, False
    stmt = _insert(session)(Page).values(site_id=site_id, url=url, first_seen_at=now, missing_count=0)
    result = session.execute(stmt.on_conflict_do_nothing(index_elements=["url"]))
    created = getattr(result, "rowcount", 0) == 1
    return session.execute(select(Page).where(Page.url == url)).scalar_one(), created


def latest_version(session: Session, page_id: int) -> Version | None:
    stmt = select(Version).where(Version.page_id == page_id).order_by(Version.number.desc()).limit(1)
    return session.execute(stmt).scalar_one_or_none()


def store_content(session: Session, digest: str, text: str) -> None:
    stmt = _insert(session)(Content).values(hash=digest, text=text, char_count=len(text), created_at=utcnow())
    session.execute(stmt.on_conflict_do_nothing(index_elements=["hash"]))


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
    """Record one capture (and its version and content when the text changed)."""
    now = fetched.fetched_at
    page, created = get_or_create_page(session, site.id, fetched.url, now)
    raw_sha = store_raw(session, fetched.body) if keep_raw and fetched.body else None
    capture = Capture(
        page_id=page.id,
        run_id=fetched.run_id,
        fetched_at=now,
        status_code=fetched.status,
        raw_sha256=raw_sha,
        headers=dict(fetched.headers),
        encoding=extraction.encoding if extraction else None,
        content_hash=digest,
        outcome="fetch_error",
    )
    page.last_fetched_at = now
    page.last_status = fetched.status
    outcome, reason, number = _decide(session, page, fetched, extraction, digest)
    capture.outcome = outcome
    capture.error = reason
    session.add(capture)
    session.flush()
    if outcome == "new_version":
        assert extraction is not None and digest is not None
        change = "first" if number == 1 else _change_kind(session, page.id, fetched.body, extraction)
        add_version(session, page, digest, extraction, capture_id=capture.id, change=change, number=number or 1)
    if fetched.status is not None and 200 <= fetched.status < 300 and outcome != "blocked":
        page.etag = _header(fetched.headers, "etag")
        page.last_modified = _header(fetched.headers, "last-modified")
    policy = policy or RecheckPolicy()
    if page.gone_at is not None:
        page.next_check_at = None
    else:
        page.check_interval = policy.next_interval(page.check_interval, outcome)
        page.next_check_at = now + dt.timedelta(seconds=page.check_interval)
    if reason and outcome != "unchanged":
        log.warning("%s %s: %s", outcome, fetched.url, reason)
    return Ingested(outcome, page.id, number if outcome == "new_version" else None, reason, created)


def _change_kind(session: Session, page_id: int, body: bytes | None, extraction: Extraction) -> str:
    """An edit, unless the bytes are those the latest version came from and only the extractor changed.

    That case is a better cleaner re-reading the same page (a re-clean), which must never count
    as a page change.
    """
    previous = latest_version(session, page_id)
    if previous is None or body is None or previous.extractor_version == extraction.extractor_version:
        return "edit"
    raw_of_previous = session.execute(
        select(Capture.raw_sha256).where(Capture.id == previous.capture_id)
    ).scalar_one_or_none()
    return "reclean" if raw_of_previous == bytes_hash(body) else "edit"


def _decide(
    session: Session, page: Page, fetched: Fetched, extraction: Extraction | None, digest: str | None
) -> tuple[str, str | None, int | None]:
    status = fetched.status
    if status is None:
        return "fetch_error", fetched.error or "no response", None
    if status == 304:
        page.missing_count = 0
        return "not_modified", None, None
    if status in (404, 410):
        page.missing_count = (page.missing_count or 0) + 1
        if page.missing_count >= GONE_AFTER and page.gone_at is None:
            page.gone_at = fetched.fetched_at
            log.info("page gone after %d answers of %d: %s", page.missing_count, status, page.url)
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
    previous = latest_version(session, page.id)
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
