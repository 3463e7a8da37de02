"""SQLAlchemy 2 models: the archive's data model (see docs/ARCHITECTURE.md).

site 1─* page 1─* capture *─1 raw_page (content-addressed, zstd) *─1 raw_dictionary *─1 site
               1─* version *─1 content (one row per content hash)
site 1─* crawl_run 1─* capture
content 1─1 work_content 1─* work_bucket      (matching sketch, LSH band buckets)
work_content *─* work_content via work_link    (pairs that passed the join rule)
work 1─* work_member *─1 work_content           (a work links contents, never merges them)

Types are chosen to be portable between SQLite and PostgreSQL: JSON for
lists, a UTC-normalising DateTime, no dialect-specific column types.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Store UTC, return aware UTC datetimes on every backend (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the archive; pass an aware datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    base_url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    pages: Mapped[list[Page]] = relationship(back_populates="site")


class Page(Base):
    """One canonical article URL; never deleted by a crawl."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_fetched_at: Mapped[dt.datetime | None]
    last_status: Mapped[int | None]
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    missing_count: Mapped[int] = mapped_column(Integer, default=0)
    """Consecutive crawls that answered 404/410; two make the page gone."""
    gone_at: Mapped[dt.datetime | None]
    next_check_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    check_interval: Mapped[int | None]
    """Seconds until the next re-check; doubles while unchanged (capped), resets on change."""

    site: Mapped[Site] = relationship(back_populates="pages")
    versions: Mapped[list[Version]] = relationship(
        back_populates="page", order_by="Version.number", foreign_keys="Version.page_id"
    )


class RawDictionary(Base):
    """A zstd dictionary trained on one site's stored raw pages.

    Never changed or deleted: every raw page compressed with it names it
    (``raw_pages.dict_id``) and cannot be read without it. A newer dictionary
    for the site is a new row; new pages use the site's latest.
    """

    __tablename__ = "raw_dictionaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """How it was trained and what it saved: pages trained on and held out, bytes per page plain and with it."""


class RawPage(Base):
    """Raw response bodies, stored once per SHA-256, zstd-compressed (with the site's dictionary when it had one)."""

    __tablename__ = "raw_pages"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    compression: Mapped[str] = mapped_column(String(10), default="zstd")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    dict_id: Mapped[int | None] = mapped_column(ForeignKey("raw_dictionaries.id"))
    """The dictionary ``data`` needs; None for plain zstd."""


class Content(Base):
    """Cleaned text, stored once per content hash; shared by every page that carries it."""

    __tablename__ = "contents"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    char_count: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    """One crawl of one site, whatever its trigger and however it ended."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    status: Mapped[str] = mapped_column(String(20), default="running")
    """running / finished / failed / timed_out / interrupted."""
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    site: Mapped[Site] = relationship()


class Capture(Base):
    """One fetch of one page, kept whatever happened."""

    __tablename__ = "captures"
    __table_args__ = (Index("ix_captures_page_fetched", "page_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    status_code: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(String(30))
    """new_version / unchanged / not_modified / fetch_error / extraction_failed / blocked / not_html /
    offsite_redirect / store_failed (archive.storage.ingest.OUTCOMES)."""
    raw_sha256: Mapped[str | None] = mapped_column(ForeignKey("raw_pages.sha256"), index=True)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    encoding: Mapped[str | None] = mapped_column(String(40))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    body_from: Mapped[str | None] = mapped_column(String(40))
    """Which cleaning path found the body (``Extraction.method``): the per-site cleaning health of ``status``."""
    boilerplate: Mapped[list[Any] | None] = mapped_column(JSON)
    """Lines the profile's boilerplate rules removed from this capture's text (up to 20)."""
    final_url: Mapped[str | None] = mapped_column(String(2000))
    """Where the answer came from when not the page URL (a followed redirect), or the target of a
    redirect off the site that was not followed (outcome ``offsite_redirect``)."""

    page: Mapped[Page] = relationship()
    raw: Mapped[RawPage | None] = relationship()


class Version(Base):
    """The cleaned text of a page as it was from some capture on, with its metadata."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("page_id", "number", name="uq_versions_page_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"))
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(ForeignKey("contents.hash"), index=True)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    change: Mapped[str] = mapped_column(String(20), default="edit")
    """first / edit / reclean: a re-clean is not a page change."""
    title: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None]
    category: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[str | None] = mapped_column(Text)
    outline: Mapped[list[Any]] = mapped_column(default=list)
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    gaps: Mapped[list[Any]] = mapped_column(default=list)
    declared_chars: Mapped[int | None]
    shown_chars: Mapped[int | None]
    masked_count: Mapped[int] = mapped_column(default=0)
    char_count: Mapped[int] = mapped_column(default=0)
    speaker: Mapped[str | None] = mapped_column(Text)
    occasion: Mapped[str | None] = mapped_column(Text)
    genre: Mapped[str | None] = mapped_column(String(20))
    extractor_version: Mapped[str] = mapped_column(String(40))
    body_from: Mapped[str | None] = mapped_column(String(20))
    """Where the cleaner found the body: ``hint`` / ``prose-block`` / ``trafilatura`` (None before migration 0006)."""

    page: Mapped[Page] = relationship(back_populates="versions", foreign_keys=[page_id])
    content: Mapped[Content] = relationship()


class SearchText(Base):
    """One distinct text (content hash) as the search index knows it: its integer id keys the indexes.

    Texts are indexed once, however many pages and versions carry them, and in
    the order they were first stored, so a higher id is a newer text.
    (SQLite: the FTS5 tables ``search_trigram`` and ``search_grams``; PostgreSQL: a
    ``grams`` tsvector column and a pg_trgm index on ``contents.text``; see
    archive/storage/search.py.)
    """

    __tablename__ = "search_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(ForeignKey("contents.hash"), unique=True)


class SearchDoc(Base):
    """Each page's latest version, as the page lists and search filter and sort on it.

    Kept by :func:`archive.storage.versions.write_version` in the version's own
    transaction, so it never lags the versions table; rebuilt from the versions
    by ``speech-archive search-index rebuild``. ``ix_search_docs_site_figures``
    covers the per-site figures (pages, versions, partial, body source), so the
    site list reads an index, not the rows.
    """

    __tablename__ = "search_docs"
    __table_args__ = (
        Index("ix_search_docs_site_changed", "site_id", "changed_at", "page_id"),
        Index("ix_search_docs_site_page", "site_id", "page_id"),
        Index("ix_search_docs_text", "text_id", "page_id"),
        Index("ix_search_docs_site_figures", "site_id", "partial", "body_from", "number"),
    )

    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), primary_key=True, autoincrement=False)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    text_id: Mapped[int] = mapped_column(ForeignKey("search_texts.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    number: Mapped[int]
    """The latest version's number, which is also the page's number of versions."""
    title: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None]
    changed_at: Mapped[dt.datetime]
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    char_count: Mapped[int] = mapped_column(default=0)
    body_from: Mapped[str | None] = mapped_column(String(20))


class Lease(Base):
    """Who is crawling a site now; expires so a dead holder cannot block forever."""

    __tablename__ = "leases"

    site_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    """Who holds it, for people (``scheduled crawl pid 41 on box``)."""
    holder_pid: Mapped[int | None]
    holder_host: Mapped[str | None] = mapped_column(String(255))
    """The holding process, as data: a dead holder on this host is recognised without parsing ``holder``."""
    acquired_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]


class ExportCursor(Base):
    """Where the last export with a name stopped, so `export --since-last NAME` sends only what is new.

    A watermark of row ids rather than a time: ids grow with every insert, so a
    capture stored late with an early ``fetched_at`` is still exported once.
    """

    __tablename__ = "export_cursors"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_version_id: Mapped[int] = mapped_column(Integer, default=0)
    last_capture_id: Mapped[int] = mapped_column(Integer, default=0)
    exports: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkContent(Base):
    """One content as the work matcher sees it: its MinHash signature and the figures canonical choice needs.

    Derived data (archive/works): rebuilt by ``speech-archive works rebuild``; the text
    itself stays in ``contents``, untouched. ``id`` is a small integer so the band
    buckets and links stay narrow.
    """

    __tablename__ = "work_contents"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(ForeignKey("contents.hash"), unique=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    """The whole-text MinHash signature, little-endian uint32 per permutation."""
    shingles: Mapped[int]
    """Distinct shingles of the matching form."""
    length: Mapped[int]
    """Characters of the matching form (masks not counted): what "longest" compares."""
    masks: Mapped[int]
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen: Mapped[dt.datetime]
    params: Mapped[str] = mapped_column(String(40))
    """Digest of the sketch settings that made the signature and buckets."""
    matched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkBucket(Base):
    """LSH band buckets in the database: one row per (bucket key, content), looked up by key."""

    __tablename__ = "work_buckets"

    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("work_contents.id"), primary_key=True, index=True)


class WorkLink(Base):
    """A pair of contents that passed the join rule (``a_id < b_id``), with their shared shingles."""

    __tablename__ = "work_links"

    a_id: Mapped[int] = mapped_column(ForeignKey("work_contents.id"), primary_key=True)
    b_id: Mapped[int] = mapped_column(ForeignKey("work_contents.id"), primary_key=True, index=True)
    shared: Mapped[int]


class Work(Base):
    """One speech, wherever it was posted; its id is the content hash of its earliest member (stable).

    A work absorbed by another keeps its row with ``merged_into`` set, so old ids still resolve.
    """

    __tablename__ = "works"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    canonical_id: Mapped[int | None] = mapped_column(ForeignKey("work_contents.id"))
    copies: Mapped[int] = mapped_column(default=0)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    """False when every member is partial (no complete copy known yet)."""
    fills: Mapped[list[Any]] = mapped_column(default=list)
    """Masked places of members that another member prints: see archive/works/fills.py."""
    merged_into: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkMember(Base):
    """One content's place in its work: role, containment in the canonical, similarity."""

    __tablename__ = "work_members"

    content_id: Mapped[int] = mapped_column(ForeignKey("work_contents.id"), primary_key=True)
    work_id: Mapped[str] = mapped_column(ForeignKey("works.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    """canonical / full copy / partial copy / variant."""
    containment: Mapped[float] = mapped_column(Float)
    """Share of this member's shingles found in the canonical text."""
    similarity: Mapped[float] = mapped_column(Float)
    """Jaccard similarity of the shingle sets of this member and the canonical."""
    partial: Mapped[bool] = mapped_column(Boolean, default=False)


class WorkState(Base):
    """Small named values of the work matcher: the version watermark, the sketch settings' digest."""

    __tablename__ = "work_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(100))
