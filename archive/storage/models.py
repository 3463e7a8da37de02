"""SQLAlchemy 2 models: the archive's data model (see docs/ARCHITECTURE.md).

site 1─* page 1─* capture *─1 raw_page (content-addressed, zstd) *─1 raw_dictionary *─1 site
               1─* version *─1 content (one row per content hash)
site 1─* crawl_run 1─* capture

Types are chosen to be portable between SQLite and PostgreSQL: JSON for
lists, a UTC-normalising DateTime, no dialect-specific column types.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
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
    """new_version / unchanged / not_modified / fetch_error / extraction_failed / blocked / gone."""
    raw_sha256: Mapped[str | None] = mapped_column(ForeignKey("raw_pages.sha256"), index=True)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    encoding: Mapped[str | None] = mapped_column(String(40))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)

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

    page: Mapped[Page] = relationship(back_populates="versions", foreign_keys=[page_id])
    content: Mapped[Content] = relationship()


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
