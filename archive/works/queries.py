"""The read side of works: `works`, `work ID_OR_URL`, the work line of `history`/`show`, `export --works`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.errors import NotFoundError, UsageError
from archive.storage.models import Capture, Content, Page, Site, Version, Work, WorkContent, WorkMember
from archive.storage.queries import find_page

_HEX = re.compile(r"^[0-9a-f]{6,64}$")
SHORT = 12
"""Characters of a work id shown to people (any unique prefix of 6 or more is accepted back)."""


@dataclass(frozen=True)
class Posting:
    """One page carrying one member of a work."""

    site: str
    url: str
    title: str | None
    first_seen: dt.datetime
    last_seen: dt.datetime
    page_id: int | None = None


@dataclass(frozen=True)
class Copy:
    """One member content of a work, with every page that carries it."""

    content_hash: str
    role: str
    containment: float
    similarity: float
    partial: bool
    masks: int
    chars: int
    postings: tuple[Posting, ...]

    @property
    def first_seen(self) -> dt.datetime | None:
        return min((p.first_seen for p in self.postings), default=None)

    @property
    def last_seen(self) -> dt.datetime | None:
        return max((p.last_seen for p in self.postings), default=None)


@dataclass(frozen=True)
class WorkSummary:
    id: str
    copies: int
    pages: int
    sites: tuple[str, ...]
    title: str | None
    complete: bool
    canonical_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "copies": self.copies,
            "pages": self.pages,
            "sites": list(self.sites),
            "title": self.title,
            "complete": self.complete,
            "canonical": self.canonical_hash,
        }


@dataclass(frozen=True)
class WorkDetail:
    summary: WorkSummary
    text: str
    copies: tuple[Copy, ...]
    fills: list[Any] = field(default_factory=list)
    aliases: tuple[str, ...] = ()
    """Ids of works merged into this one."""

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.summary.as_dict(),
            "merged_ids": list(self.aliases),
            "text": self.text,
            "copies": [copy_dict(c) for c in self.copies],
            "fills": self.fills,
        }


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def posting_dict(p: Posting) -> dict[str, Any]:
    return {f.name: iso(v) if isinstance(v := getattr(p, f.name), dt.datetime) else v for f in fields(p)}


def copy_dict(c: Copy) -> dict[str, Any]:
    own = {f.name: getattr(c, f.name) for f in fields(c) if f.name != "postings"}
    pages = [posting_dict(p) for p in c.postings]
    return {**own, "first_seen": iso(c.first_seen), "last_seen": iso(c.last_seen), "pages": pages}


def _postings(session: Session, hashes: Sequence[str]) -> dict[str, list[Posting]]:
    """Every page carrying each content: when it was first stored there and last captured with it."""
    if not hashes:
        return {}
    rows = session.execute(
        select(
            Version.content_hash,
            Site.name,
            Page.url,
            Page.id,
            func.min(Version.title),
            func.min(Version.created_at),
        )
        .join(Page, Page.id == Version.page_id)
        .join(Site, Site.id == Page.site_id)
        .where(Version.content_hash.in_(hashes))
        .group_by(Version.content_hash, Site.name, Page.url, Page.id)
        .order_by(func.min(Version.created_at), Page.url)
    ).all()
    last = dict(
        ((h, pid), when)
        for h, pid, when in session.execute(
            select(Capture.content_hash, Capture.page_id, func.max(Capture.fetched_at))
            .where(Capture.page_id.in_([r[3] for r in rows]), Capture.content_hash.in_(hashes))
            .group_by(Capture.content_hash, Capture.page_id)
        ).all()
    )
    out: dict[str, list[Posting]] = {}
    for h, site, url, pid, title, first in rows:
        out.setdefault(h, []).append(Posting(site, url, title, first, last.get((h, pid), first), pid))
    return out


def _members(session: Session, work_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    rows = session.execute(
        select(
            WorkMember.work_id,
            WorkContent.content_hash,
            WorkMember.role,
            WorkMember.containment,
            WorkMember.similarity,
            WorkMember.partial,
            WorkContent.masks,
            Content.char_count,
            WorkContent.first_seen,
        )
        .join(WorkContent, WorkContent.id == WorkMember.content_id)
        .join(Content, Content.hash == WorkContent.content_hash)
        .where(WorkMember.work_id.in_(work_ids))
    ).all()
    out: dict[str, list[tuple[Any, ...]]] = {}
    order = {"canonical": 0, "full copy": 1, "variant": 2, "partial copy": 3}
    for row in sorted(rows, key=lambda r: (order.get(r[2], 9), r[8], r[1])):
        out.setdefault(row[0], []).append(tuple(row[1:]))
    return out


def _copies(session: Session, members: list[tuple[Any, ...]]) -> list[Copy]:
    postings = _postings(session, [m[0] for m in members])
    return [
        Copy(h, role, float(cont), float(sim), bool(partial), masks, chars, tuple(postings.get(h, [])))
        for h, role, cont, sim, partial, masks, chars, _first in members
    ]


def _summary(work: Work, copies: Sequence[Copy]) -> WorkSummary:
    canonical = next((c for c in copies if c.role == "canonical"), copies[0] if copies else None)
    sites = sorted({p.site for c in copies for p in c.postings})
    title = next((p.title for p in canonical.postings if p.title), None) if canonical else None
    return WorkSummary(
        work.id,
        len(copies),
        len({p.url for c in copies for p in c.postings}),  # a page whose versions are copies counts once
        tuple(sites),
        title,
        work.complete,
        canonical.content_hash if canonical else "",
    )


def list_works(session: Session, *, site: str | None = None, min_copies: int = 2) -> list[WorkSummary]:
    """Works with at least ``min_copies`` copies (on ``site``, when given), most copies first."""
    stmt = select(Work).where(Work.merged_into.is_(None), Work.copies >= min_copies)
    if site is not None:
        on_site = (
            select(WorkMember.work_id)
            .join(WorkContent, WorkContent.id == WorkMember.content_id)
            .join(Version, Version.content_hash == WorkContent.content_hash)
            .join(Page, Page.id == Version.page_id)
            .join(Site, Site.id == Page.site_id)
            .where(Site.name == site)
        )
        stmt = stmt.where(Work.id.in_(on_site))
    works = list(session.execute(stmt.order_by(Work.copies.desc(), Work.id)).scalars())
    out: list[WorkSummary] = []
    for start in range(0, len(works), 500):
        chunk = works[start : start + 500]
        members = _members(session, [w.id for w in chunk])
        for work in chunk:
            out.append(_summary(work, _copies(session, members.get(work.id, []))))
    return out


def _follow(session: Session, work_id: str) -> Work | None:
    seen: set[str] = set()
    work = session.get(Work, work_id)
    while work is not None and work.merged_into and work.merged_into not in seen:
        seen.add(work.id)
        work = session.get(Work, work.merged_into)
    return work


def work_of_content(session: Session, content_hash: str) -> str | None:
    return session.execute(
        select(WorkMember.work_id)
        .join(WorkContent, WorkContent.id == WorkMember.content_id)
        .where(WorkContent.content_hash == content_hash)
    ).scalar_one_or_none()


def resolve(session: Session, id_or_url: str) -> Work:
    """The work an id (or unique prefix of 6+ hex characters, or an old merged id) or a page URL names."""
    key = id_or_url.strip()
    if "://" in key:
        page = find_page(session, key)
        latest = session.execute(
            select(Version.content_hash).where(Version.page_id == page.id).order_by(Version.number.desc()).limit(1)
        ).scalar_one_or_none()
        work_id = work_of_content(session, latest) if latest else None
        if work_id is None:
            raise NotFoundError(
                f"page {page.url} is not in a work yet; `speech-archive works update` matches new contents"
            )
        work = _follow(session, work_id)
    else:
        if not _HEX.match(key.lower()):
            raise UsageError(f"{id_or_url!r} is neither a work id (hex, 6+ characters) nor a page URL")
        ids = list(session.execute(select(Work.id).where(Work.id.like(key.lower() + "%")).limit(3)).scalars())
        if len(ids) > 1:
            raise UsageError(f"work id prefix {key!r} is ambiguous ({', '.join(i[:SHORT] for i in ids)}…); give more")
        work = _follow(session, ids[0]) if ids else None
    if work is None or work.copies == 0:
        raise NotFoundError(f"no work {id_or_url!r} in the archive; `speech-archive works` lists them")
    return work


def work_detail(session: Session, work: Work) -> WorkDetail:
    copies = _copies(session, _members(session, [work.id]).get(work.id, []))
    summary = _summary(work, copies)
    text = session.execute(select(Content.text).where(Content.hash == summary.canonical_hash)).scalar_one()
    aliases = tuple(session.execute(select(Work.id).where(Work.merged_into == work.id).order_by(Work.id)).scalars())
    return WorkDetail(summary, text, tuple(copies), list(work.fills or []), aliases)


def work_of_page(session: Session, page_id: int) -> tuple[Work, str] | None:
    """The work of a page's latest text (merged ids followed), with that text's content hash."""
    latest = session.execute(
        select(Version.content_hash).where(Version.page_id == page_id).order_by(Version.number.desc()).limit(1)
    ).scalar_one_or_none()
    work_id = work_of_content(session, latest) if latest else None
    work = _follow(session, work_id) if work_id else None
    return (work, latest) if work is not None and latest is not None else None


def page_work_line(session: Session, page_id: int) -> str | None:
    """One line naming the work of a page's latest text, for `history` and `show`."""
    found = work_of_page(session, page_id)
    if found is None:
        return None
    work, latest = found
    members = _members(session, [work.id]).get(work.id, [])
    role = next((m[1] for m in members if m[0] == latest), "?")
    canonical = next((m[0] for m in members if m[1] == "canonical"), None)
    where = ""
    if canonical and canonical != latest:
        urls = _postings(session, [canonical]).get(canonical, [])
        where = f"; canonical copy: {urls[0].url}" if urls else ""
    return f"work {work.id[:SHORT]}: {work.copies} copies, this page is the {role}{where}"


def export_rows(
    session: Session, *, sites: Sequence[str] = (), complete_only: bool = False, batch_size: int = 200
) -> Iterator[list[dict[str, Any]]]:
    """One row per work (canonical text and metadata, the copies as a list), a batch at a time."""
    stmt = select(Work).where(Work.merged_into.is_(None), Work.copies > 0).order_by(Work.id)
    if complete_only:
        stmt = stmt.where(Work.complete.is_(True))
    after = ""
    while True:
        works = list(session.execute(stmt.where(Work.id > after).limit(batch_size)).scalars())
        if not works:
            return
        after = works[-1].id
        members = _members(session, [w.id for w in works])
        rows = []
        for work in works:
            copies = _copies(session, members.get(work.id, []))
            if sites and not any(p.site in sites for c in copies for p in c.postings):
                continue
            rows.append(_export_row(session, work, copies))
        if rows:
            yield rows


def _export_row(session: Session, work: Work, copies: Sequence[Copy]) -> dict[str, Any]:
    summary = _summary(work, copies)
    canonical = next(c for c in copies if c.content_hash == summary.canonical_hash)
    version = session.execute(
        select(Version).where(Version.content_hash == canonical.content_hash).order_by(Version.id).limit(1)
    ).scalar_one()
    text = session.execute(select(Content.text).where(Content.hash == canonical.content_hash)).scalar_one()
    firsts = [c.first_seen for c in copies if c.first_seen]
    lasts = [c.last_seen for c in copies if c.last_seen]
    return {
        "work_id": work.id,
        "copy_count": len(copies),
        "page_count": summary.pages,
        "sites": list(summary.sites),
        "complete": work.complete,
        "canonical_hash": canonical.content_hash,
        "canonical_url": canonical.postings[0].url if canonical.postings else None,
        "title": version.title,
        "published_at": version.published_at,
        "speaker": version.speaker,
        "occasion": version.occasion,
        "genre": version.genre,
        "char_count": len(text),
        "masked_count": canonical.masks,
        "first_captured_at": min(firsts) if firsts else None,
        "last_captured_at": max(lasts) if lasts else None,
        "copies": [
            {
                "content_hash": c.content_hash,
                "role": c.role,
                "containment": c.containment,
                "similarity": c.similarity,
                "partial": c.partial,
                "masks": c.masks,
                "char_count": c.chars,
                "sites": sorted({p.site for p in c.postings}),
                "urls": [p.url for p in c.postings],
                "first_captured_at": c.first_seen,
            }
            for c in copies
        ],
        "fills": len(work.fills or []),
        "text": text,
    }


def count_works(session: Session) -> int:
    """Works an export would write (before a --site filter), for the progress bar."""
    stmt = select(func.count()).select_from(Work).where(Work.merged_into.is_(None), Work.copies > 0)
    return int(session.execute(stmt).scalar_one())
