"""The filtered, batched reads behind every export, as plain row dicts.

Each query streams: ``yield_per`` makes SQLAlchemy fetch a batch at a time
(a server-side cursor on PostgreSQL, the plain stepping cursor on SQLite), and
the generators below hand those batches on without collecting them, so memory
stays flat whatever the size of the archive. Ordering follows an index where
it can (version id, capture id); only ``--unique-content`` sorts by hash.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, select
from sqlalchemy.orm import Session, aliased

from archive.export.options import ExportOptions
from archive.export.schema import SCHEMA_VERSION
from archive.storage.models import Capture, Content, Page, RawPage, Site, Version
from archive.storage.rawstore import RawReader


@dataclass(frozen=True)
class IdWindow:
    """Rows with ``after < id <= upto``: the since-last watermark and a snapshot of the newest ids.

    The upper bound makes the export see the archive as it was when it
    started, so rows a crawl adds meanwhile go to the next ``--since-last``
    export instead of being half in this one.
    """

    version_after: int = 0
    version_upto: int = 0
    capture_after: int = 0
    capture_upto: int = 0


def snapshot(session: Session, after: IdWindow | None = None) -> IdWindow:
    """The id window from a previous cursor (or the start) up to the newest rows now."""
    start = after or IdWindow()
    max_version = session.execute(select(func.max(Version.id))).scalar_one() or 0
    max_capture = session.execute(select(func.max(Capture.id))).scalar_one() or 0
    return IdWindow(start.version_upto, max_version, start.capture_upto, max_capture)


def archive_sites(session: Session) -> list[str]:
    return list(session.execute(select(Site.name).order_by(Site.name)).scalars())


_captured_at = func.coalesce(Capture.fetched_at, Version.created_at)
"""When the version's page was fetched; a version without a capture falls back to when it was stored."""

_VERSION_COLUMNS = (
    Site.name.label("site"),
    Page.url.label("url"),
    Page.id.label("page_id"),
    Version.number.label("version"),
    Version.id.label("version_id"),
    Version.change.label("change"),
    _captured_at.label("captured_at"),
    Version.created_at.label("archived_at"),
    Version.capture_id.label("capture_id"),
    Version.content_hash.label("content_hash"),
    Version.title,
    Version.published_at,
    Version.category,
    Version.source,
    Version.outline,
    Version.partial,
    Version.gaps,
    Version.declared_chars,
    Version.shown_chars,
    Version.masked_count,
    Version.char_count,
    Version.speaker,
    Version.occasion,
    Version.genre,
    Version.extractor_version,
    Content.text.label("text"),
)
_VERSION_KEYS = tuple(c.key for c in _VERSION_COLUMNS)


def _version_filters(opts: ExportOptions, window: IdWindow) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Version.id > window.version_after, Version.id <= window.version_upto]
    if opts.sites:
        where.append(Site.name.in_(opts.sites))
    if opts.since:
        where.append(_captured_at >= opts.since)
    if opts.until:
        where.append(_captured_at < opts.until)
    if opts.complete_only:
        where.append(Version.partial.is_(false()))
    return where


def _version_from(stmt: Select[Any]) -> Select[Any]:
    return (
        stmt.select_from(Version)
        .join(Page, Page.id == Version.page_id)
        .join(Site, Site.id == Page.site_id)
        .outerjoin(Capture, Capture.id == Version.capture_id)
    )


def _latest_ids(opts: ExportOptions, window: IdWindow) -> Select[Any]:
    """Ids of each page's newest version among those the other filters keep."""
    rank = func.row_number().over(partition_by=Version.page_id, order_by=Version.number.desc())
    ranked = _version_from(select(Version.id.label("vid"), rank.label("rn"))).where(*_version_filters(opts, window))
    sub = ranked.subquery("ranked")
    return select(sub.c.vid).where(sub.c.rn == 1)


def version_query(opts: ExportOptions, window: IdWindow) -> Select[Any]:
    """One row per version, filtered; ordered by version id (archive order) or by content hash."""
    stmt = _version_from(select(*_VERSION_COLUMNS)).join(Content, Content.hash == Version.content_hash)
    stmt = stmt.where(*_version_filters(opts, window))
    if opts.versions == "latest":
        stmt = stmt.where(Version.id.in_(_latest_ids(opts, window)))
    if opts.unique_content:
        return stmt.order_by(Version.content_hash, _captured_at, Version.id)
    return stmt.order_by(Version.id)


def count_rows(session: Session, stmt: Select[Any], distinct_key: str | None = None) -> int:
    """How many rows (or distinct values of one column) a query returns; for the progress bar."""
    sub = stmt.order_by(None).subquery()
    counted = func.count(sub.c[distinct_key].distinct()) if distinct_key else func.count()
    return session.execute(select(counted).select_from(sub)).scalar_one()


def stream(session: Session, stmt: Select[Any], batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """The query's rows as lists of dicts, ``batch_size`` at a time, from a streaming cursor."""
    result = session.execute(stmt.execution_options(yield_per=batch_size, stream_results=True))
    try:
        for partition in result.mappings().partitions(batch_size):
            yield [dict(row) for row in partition]
    finally:
        result.close()


def version_batches(session: Session, opts: ExportOptions, window: IdWindow) -> Iterator[list[dict[str, Any]]]:
    """Version rows in the export schema (see schema.VERSION_COLUMNS)."""
    for batch in stream(session, version_query(opts, window), opts.batch_size):
        for row in batch:
            row["schema_version"] = SCHEMA_VERSION
        yield batch


def _content_row(group: list[dict[str, Any]]) -> dict[str, Any]:
    first = group[0]
    times = [r["captured_at"] for r in group]
    return {
        "schema_version": SCHEMA_VERSION,
        "content_hash": first["content_hash"],
        "char_count": len(first["text"]),
        "page_count": len({r["page_id"] for r in group}),
        "version_count": len(group),
        "sites": sorted({r["site"] for r in group}),
        "urls": list(dict.fromkeys(r["url"] for r in group)),
        "first_captured_at": min(times),
        "last_captured_at": max(times),
        "title": first["title"],
        "published_at": first["published_at"],
        "partial": first["partial"],
        "occurrences": [
            {k: r[k] for k in ("site", "url", "version", "version_id", "captured_at", "title", "partial")}
            for r in group
        ],
        "text": first["text"],
    }


def content_batches(session: Session, opts: ExportOptions, window: IdWindow) -> Iterator[list[dict[str, Any]]]:
    """One row per content hash, with every page and site carrying it.

    The rows arrive sorted by hash, so each group is consecutive: only the
    group in hand is held, never the whole set of hashes.
    """
    rows = itertools.chain.from_iterable(stream(session, version_query(opts, window), opts.batch_size))
    out: list[dict[str, Any]] = []
    for _digest, group in itertools.groupby(rows, key=lambda r: r["content_hash"]):
        out.append(_content_row(list(group)))
        if len(out) >= opts.batch_size:
            yield out
            out = []
    if out:
        yield out


@dataclass
class CaptureRecord:
    """One stored raw capture and the versions cleaned from it: what one WARC response carries."""

    capture_id: int
    site: str
    url: str
    fetched_at: Any
    status_code: int
    headers: dict[str, Any]
    raw_sha256: str
    raw_size: int
    body: bytes | None
    """The raw bytes; None when an earlier record in this export has the same payload (a revisit)."""
    original_capture_id: int
    original_url: str
    original_fetched_at: Any
    versions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_revisit(self) -> bool:
        return self.original_capture_id != self.capture_id


def capture_query(opts: ExportOptions, window: IdWindow) -> Select[Any]:
    """Stored raw captures in the window, each joined to the versions it produced.

    A window function finds, for each payload hash, the first capture in this
    export; later captures with the same hash become revisits, and the query
    does not even read their raw bytes.
    """
    where: list[ColumnElement[bool]] = [
        Capture.raw_sha256.is_not(None),
        Capture.status_code.is_not(None),
        Capture.id > window.capture_after,
        Capture.id <= window.capture_upto,
    ]
    if opts.sites:
        where.append(Site.name.in_(opts.sites))
    if opts.since:
        where.append(Capture.fetched_at >= opts.since)
    if opts.until:
        where.append(Capture.fetched_at < opts.until)
    version_on: list[ColumnElement[bool]] = [Version.capture_id == Capture.id]
    if opts.complete_only:
        version_on.append(Version.partial.is_(false()))
    if opts.versions == "latest":
        latest = _latest_ids(opts, IdWindow(0, window.version_upto, 0, window.capture_upto))
        where.append(Capture.id.in_(select(Version.capture_id).where(Version.id.in_(latest))))
        version_on.append(Version.id.in_(latest))
    first = func.min(Capture.id).over(partition_by=Capture.raw_sha256)
    win = (
        select(Capture.id.label("cid"), first.label("first_cid"))
        .select_from(Capture)
        .join(Page, Page.id == Capture.page_id)
        .join(Site, Site.id == Page.site_id)
        .where(*where)
        .subquery("win")
    )
    orig, orig_page = aliased(Capture), aliased(Page)
    return (
        select(
            Capture.id.label("record_capture_id"),
            Site.name.label("capture_site"),
            Page.url.label("capture_url"),
            Capture.fetched_at,
            Capture.status_code,
            Capture.headers,
            Capture.raw_sha256,
            win.c.first_cid,
            orig.fetched_at.label("orig_fetched_at"),
            orig_page.url.label("orig_url"),
            case((win.c.first_cid == Capture.id, RawPage.data)).label("raw_data"),
            RawPage.compression,
            RawPage.dict_id,
            RawPage.size.label("raw_size"),
            *_VERSION_COLUMNS,
        )
        .select_from(win)
        .join(Capture, Capture.id == win.c.cid)
        .join(Page, Page.id == Capture.page_id)
        .join(Site, Site.id == Page.site_id)
        .join(RawPage, RawPage.sha256 == Capture.raw_sha256)
        .join(orig, orig.id == win.c.first_cid)
        .join(orig_page, orig_page.id == orig.page_id)
        .outerjoin(Version, and_(*version_on))
        .outerjoin(Content, Content.hash == Version.content_hash)
        .order_by(Capture.id, Version.number)
    )


def _capture_record(session: Session, reader: RawReader, rows: list[dict[str, Any]]) -> CaptureRecord:
    head = rows[0]
    data = head["raw_data"]
    body = None if data is None else reader.unpack(session, data, head["compression"], head["dict_id"])
    versions = []
    for row in rows:
        if row["version_id"] is not None:
            version = {k: row[k] for k in _VERSION_KEYS}
            version["schema_version"] = SCHEMA_VERSION
            versions.append(version)
    return CaptureRecord(
        capture_id=head["record_capture_id"],
        site=head["capture_site"],
        url=head["capture_url"],
        fetched_at=head["fetched_at"],
        status_code=head["status_code"],
        headers=head["headers"] or {},
        raw_sha256=head["raw_sha256"],
        raw_size=head["raw_size"],
        body=body,
        original_capture_id=head["first_cid"],
        original_url=head["orig_url"],
        original_fetched_at=head["orig_fetched_at"],
        versions=versions,
    )


def capture_batches(session: Session, opts: ExportOptions, window: IdWindow) -> Iterator[list[CaptureRecord]]:
    """Captures with their versions, a bounded number at a time (raw bodies are big: small batches)."""
    size = max(1, min(opts.batch_size, 200))
    reader = RawReader()
    reader.preload(session)  # the dictionaries, before the streaming cursor holds the connection
    rows = itertools.chain.from_iterable(stream(session, capture_query(opts, window), size))
    out: list[CaptureRecord] = []
    for _cid, group in itertools.groupby(rows, key=lambda r: r["record_capture_id"]):
        out.append(_capture_record(session, reader, list(group)))
        if len(out) >= size:
            yield out
            out = []
    if out:
        yield out
