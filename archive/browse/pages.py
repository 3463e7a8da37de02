"""Pages as the browser shows them: a site's page list, one page's history, a version's text, a raw capture.

The page list reads ``search_docs`` (each page's latest version) through its
``(site_id, page_id)`` and ``(site_id, changed_at, page_id)`` indexes, keyset-
paginated: a deep page costs what the first one does. Pages whose captures
never gave a text have no row there and are not listed (the site view counts
them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, and_, or_, select

from archive.cleaning.decode import decode_html
from archive.storage.models import Capture, Content, Page, RawPage, SearchDoc, Site, Version
from archive.storage.rawstore import decompress

MAX_CAPTURES = 500
"""Captures shown in a page's timeline (its newest ones)."""


@dataclass(frozen=True)
class PageFilter:
    title: str | None = None
    published_from: dt.datetime | None = None
    published_to: dt.datetime | None = None
    partial: bool | None = None
    changed_since: dt.datetime | None = None
    order: Literal["seen", "changed"] = "seen"
    """``seen``: newest page first (first seen); ``changed``: most recently changed first."""


def encode_cursor(row: dict[str, Any], order: str) -> str:
    return f"{row['changed_at'].isoformat()}~{row['page_id']}" if order == "changed" else str(row["page_id"])


def decode_cursor(value: str, order: str) -> tuple[dt.datetime | None, int]:
    """(changed_at, page_id) of a cursor; ValueError for a malformed one."""
    if order == "changed":
        when, _, pid = value.rpartition("~")
        parsed = dt.datetime.fromisoformat(when)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)), int(pid)
    return None, int(value)


def list_pages(
    conn: Connection, site_id: int, flt: PageFilter, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a site's pages and the cursor of the next (None on the last)."""
    d = SearchDoc
    stmt = (
        select(
            d.page_id, d.number, d.title, d.published_at, d.changed_at, d.partial, d.char_count, Page.url,
            Page.gone_at, Page.first_seen_at,
        )
        .join(Page, Page.id == d.page_id)
        .where(d.site_id == site_id)
    )  # fmt: skip
    if flt.title:
        escaped = flt.title.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(d.title.ilike(f"%{escaped}%", escape="\\"))
    if flt.published_from is not None:
        stmt = stmt.where(d.published_at >= flt.published_from)
    if flt.published_to is not None:
        stmt = stmt.where(d.published_at < flt.published_to)
    if flt.partial is not None:
        stmt = stmt.where(d.partial.is_(flt.partial))
    if flt.changed_since is not None:
        stmt = stmt.where(d.changed_at >= flt.changed_since)
    if after is not None:
        when, pid = decode_cursor(after, flt.order)
        if flt.order == "changed":
            stmt = stmt.where(
                d.changed_at <= when, or_(d.changed_at < when, and_(d.changed_at == when, d.page_id < pid))
            )
        else:
            stmt = stmt.where(d.page_id < pid)
    order = (d.changed_at.desc(), d.page_id.desc()) if flt.order == "changed" else (d.page_id.desc(),)
    rows = [dict(r) for r in conn.execute(stmt.order_by(*order).limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row["versions"] = row.pop("number")
    return rows, (encode_cursor(rows[-1], flt.order) if more and rows else None)


_VERSION_COLUMNS = (
    Version.id, Version.number, Version.content_hash, Version.capture_id, Version.created_at, Version.change,
    Version.title, Version.published_at, Version.category, Version.source, Version.outline, Version.partial,
    Version.gaps, Version.declared_chars, Version.shown_chars, Version.masked_count, Version.char_count,
    Version.speaker, Version.occasion, Version.genre, Version.extractor_version, Version.body_from,
)  # fmt: skip


def page_row(conn: Connection, page_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(
                Page.id, Page.url, Page.first_seen_at, Page.last_fetched_at, Page.last_status, Page.gone_at,
                Site.name.label("site"), Site.title.label("site_title"),
            )
            .join(Site, Site.id == Page.site_id)
            .where(Page.id == page_id)
        )
        .mappings()
        .first()
    )  # fmt: skip
    return dict(row) if row else None


def versions_of(conn: Connection, page_id: int) -> list[dict[str, Any]]:
    stmt = select(*_VERSION_COLUMNS).where(Version.page_id == page_id).order_by(Version.number)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def captures_of(conn: Connection, page_id: int) -> list[dict[str, Any]]:
    """The page's newest captures, oldest first."""
    stmt = (
        select(
            Capture.id, Capture.fetched_at, Capture.status_code, Capture.outcome, Capture.raw_sha256, Capture.error,
            Capture.run_id,
        )
        .where(Capture.page_id == page_id)
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(MAX_CAPTURES)
    )  # fmt: skip
    return [dict(r) for r in conn.execute(stmt).mappings()][::-1]


def timeline(versions: list[dict[str, Any]], captures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Versions in time order with what the captures between them found, grouped by outcome.

    A version's own capture is part of the version; the captures after it (unchanged,
    not modified, blocked, failed) are summarised until the next version.
    """
    own = {v["capture_id"] for v in versions if v["capture_id"] is not None}
    events: list[tuple[dt.datetime, int, dict[str, Any]]] = [(v["created_at"], 1, {"version": v}) for v in versions]
    events += [(c["fetched_at"], 0, {"capture": c}) for c in captures if c["id"] not in own]
    events.sort(key=lambda e: (e[0], e[1]))
    out: list[dict[str, Any]] = []
    for when, _kind, event in events:
        if "version" in event:
            v = event["version"]
            out.append({"kind": "version", "number": v["number"], "change": v["change"], "at": when,
                        "chars": v["char_count"], "partial": v["partial"], "title": v["title"]})  # fmt: skip
            continue
        c = event["capture"]
        if not out or out[-1]["kind"] != "captures":
            out.append({"kind": "captures", "from": when, "to": when, "counts": {}, "errors": []})
        group = out[-1]
        group["to"] = when
        group["counts"][c["outcome"]] = group["counts"].get(c["outcome"], 0) + 1
        if c["error"] and c["outcome"] != "unchanged" and len(group["errors"]) < 3:
            detail = f"{c['outcome']}: {c['error']}"
            if detail not in group["errors"]:
                group["errors"].append(detail)
    return out


def version_text(conn: Connection, content_hash: str) -> str:
    return str(conn.execute(select(Content.text).where(Content.hash == content_hash)).scalar_one())


@dataclass(frozen=True)
class RawCapture:
    capture_id: int
    page_id: int
    fetched_at: dt.datetime
    status_code: int | None
    content_type: str | None
    encoding: str
    html: str
    size: int


def raw_capture(conn: Connection, page_id: int, capture_id: int) -> RawCapture | None:
    """A capture's raw page decoded to text (as the cleaner decodes it), or None when not kept."""
    row = (
        conn.execute(
            select(Capture.id, Capture.page_id, Capture.fetched_at, Capture.status_code, Capture.headers,
                   RawPage.data, RawPage.compression, RawPage.size)
            .join(RawPage, RawPage.sha256 == Capture.raw_sha256)
            .where(Capture.id == capture_id, Capture.page_id == page_id)
        )
        .mappings()
        .first()
    )  # fmt: skip
    if row is None:
        return None
    body = decompress(row["data"]) if row["compression"] == "zstd" else bytes(row["data"])
    content_type = next((str(v) for k, v in (row["headers"] or {}).items() if k.lower() == "content-type"), None)
    html, encoding = decode_html(body, content_type)
    return RawCapture(
        row["id"], row["page_id"], row["fetched_at"], row["status_code"], content_type, encoding, html, row["size"]
    )
