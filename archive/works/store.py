"""The works tables, read and written: sketches, band buckets, links, works and members.

Everything here is derived from ``contents`` and ``versions`` and can be
rebuilt; contents are only read. Statements are SQLAlchemy Core and portable:
the same code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, delete, func, insert, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.storage.models import (
    Content,
    Version,
    Work,
    WorkBucket,
    WorkContent,
    WorkLink,
    WorkMember,
    WorkState,
    utcnow,
)
from archive.works.cluster import Node, Star
from archive.works.sketch import Sketch

CHUNK = 500
"""Ids or keys per IN (...) list: well under SQLite's and PostgreSQL's parameter limits."""


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


@dataclass(frozen=True)
class Pending:
    """A content not matched yet, with what canonical choice needs from its versions."""

    hash: str
    partial: bool
    first_seen: dt.datetime


OVERLAP = 1000
"""Versions below the watermark looked at again: on PostgreSQL ids can commit out of order."""


def get_state(session: Session, name: str) -> str | None:
    return session.execute(select(WorkState.value).where(WorkState.name == name)).scalar_one_or_none()


def set_state(session: Session, name: str, value: str) -> None:
    stmt = _upsert(session)(WorkState).values(name=name, value=value)
    session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"value": value}))


def newest_version(session: Session) -> int:
    return int(session.execute(select(func.max(Version.id))).scalar_one() or 0)


def pending(session: Session, after: int | None = None) -> list[Pending]:
    """Contents without a sketch, earliest first (so a work's id is its earliest member from the start).

    ``after``: only contents of versions with a higher id (the watermark less
    :data:`OVERLAP`), an index range instead of a walk over every content, so the
    cost does not grow with the archive. ``None`` looks at every content (rebuild).
    """
    unmatched = WorkContent.id.is_(None)
    if after is None:
        stmt = select(Content.hash).outerjoin(WorkContent, WorkContent.content_hash == Content.hash).where(unmatched)
    else:
        stmt = (
            select(Version.content_hash)
            .outerjoin(WorkContent, WorkContent.content_hash == Version.content_hash)
            .where(Version.id > max(0, after - OVERLAP), unmatched)
            .distinct()
        )
    hashes = list(session.execute(stmt).scalars())
    out: list[Pending] = []
    partial = func.max(case((Version.partial.is_(true()), 1), else_=0))
    for chunk in _chunks(hashes):
        facts = (
            select(Version.content_hash, partial, func.min(Version.created_at))
            .where(Version.content_hash.in_(chunk))
            .group_by(Version.content_hash)
        )
        out.extend(Pending(h, bool(p), f) for h, p, f in session.execute(facts))
    return sorted(out, key=lambda p: (p.first_seen, p.hash))


def texts(session: Session, hashes: Collection[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for chunk in _chunks(list(hashes)):
        out.update(session.execute(select(Content.hash, Content.text).where(Content.hash.in_(chunk))).all())
    return out


def add_sketches(session: Session, items: Sequence[tuple[Pending, Sketch]], params: str) -> list[int]:
    """Store a batch of sketches and their bucket rows (two bulk statements); their new ids, in order."""
    if not items:
        return []
    conn = session.connection()
    now = utcnow()
    rows = [
        {
            "content_hash": item.hash,
            "signature": sk.signature,
            "shingles": len(sk.shingles),
            "length": sk.length,
            "masks": sk.masks,
            "partial": item.partial,
            "first_seen": item.first_seen,
            "params": params,
            "matched_at": now,
        }
        for item, sk in items
    ]
    stmt = insert(WorkContent).returning(WorkContent.id, sort_by_parameter_order=True)
    ids = [int(i) for i in conn.execute(stmt, rows).scalars()]
    buckets = [{"bucket": b, "content_id": i} for i, (_item, sk) in zip(ids, items, strict=True) for b in sk.buckets]
    for chunk in _chunks(buckets, 5000):
        conn.execute(insert(WorkBucket), list(chunk))
    return ids


def candidates(session: Session, keys: dict[int, Sequence[int]]) -> dict[int, set[int]]:
    """For each content, the contents sharing at least one bucket with it (looked up for the batch at once)."""
    holders: dict[int, set[int]] = {}
    every = list({b for buckets in keys.values() for b in buckets})
    for chunk in _chunks(every):
        for bucket, content_id in session.execute(
            select(WorkBucket.bucket, WorkBucket.content_id).where(WorkBucket.bucket.in_(chunk))
        ):
            holders.setdefault(bucket, set()).add(content_id)
    return {cid: set().union(*(holders.get(b, ()) for b in buckets)) - {cid} for cid, buckets in keys.items()}


def hashes_of(session: Session, ids: Collection[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(list(ids)):
        out.update(
            session.execute(select(WorkContent.id, WorkContent.content_hash).where(WorkContent.id.in_(chunk))).all()
        )
    return out


def add_links(session: Session, links: Iterable[tuple[int, int, int]]) -> int:
    rows = [{"a_id": min(a, b), "b_id": max(a, b), "shared": s} for a, b, s in links]
    if rows:
        stmt = _upsert(session)(WorkLink).on_conflict_do_nothing(index_elements=["a_id", "b_id"])
        session.connection().execute(stmt, rows)
    return len(rows)


def links_of(session: Session, ids: Collection[int]) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    for chunk in _chunks(list(ids)):
        stmt = select(WorkLink.a_id, WorkLink.b_id, WorkLink.shared).where(
            or_(WorkLink.a_id.in_(chunk), WorkLink.b_id.in_(chunk))
        )
        out.extend(session.execute(stmt).all())
    return out


def component(session: Session, seeds: Collection[int]) -> tuple[set[int], list[tuple[int, int, int]]]:
    """The contents linked (transitively) to the seeds, and the links among them."""
    nodes = set(seeds)
    frontier = set(seeds)
    edges: dict[tuple[int, int], int] = {}
    while frontier:
        found = links_of(session, frontier)
        frontier = set()
        for a, b, shared in found:
            edges[(a, b)] = shared
            for n in (a, b):
                if n not in nodes:
                    nodes.add(n)
                    frontier.add(n)
    return nodes, [(a, b, s) for (a, b), s in edges.items()]


def nodes(session: Session, ids: Collection[int]) -> dict[int, Node]:
    cols = (
        WorkContent.id,
        WorkContent.content_hash,
        WorkContent.shingles,
        WorkContent.length,
        WorkContent.masks,
        WorkContent.partial,
        WorkContent.first_seen,
    )
    out: dict[int, Node] = {}
    for chunk in _chunks(list(ids)):
        for row in session.execute(select(*cols).where(WorkContent.id.in_(chunk))):
            out[row[0]] = Node(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6])
    return out


def memberships(session: Session, ids: Collection[int]) -> dict[int, str]:
    """content id -> work id, for the given contents that already belong to a work."""
    out: dict[int, str] = {}
    for chunk in _chunks(list(ids)):
        stmt = select(WorkMember.content_id, WorkMember.work_id).where(WorkMember.content_id.in_(chunk))
        out.update(session.execute(stmt).all())
    return out


def unchanged_fills(session: Session, result: Sequence[Star]) -> dict[str, list[Any]]:
    """The stored fills of the works whose members are exactly those of a star (nothing to recompute)."""
    ids = [m.node.id for star in result for m in star.members]
    old = memberships(session, ids)
    same = [star.work_id for star in result if all(old.get(m.node.id) == star.work_id for m in star.members)]
    kept: dict[str, list[Any]] = {}
    for chunk in _chunks(same):
        for work_id, copies, fills in session.execute(
            select(Work.id, Work.copies, Work.fills).where(Work.id.in_(chunk))
        ):
            star_size = next(len(s.members) for s in result if s.work_id == work_id)
            if copies == star_size:
                kept[work_id] = list(fills or [])
    return kept


def write_stars(session: Session, stars: Sequence[Star], fills: dict[str, list[Any]], now: dt.datetime) -> set[str]:
    """Replace the works of the stars' contents with the stars; old work ids left behind point to the new work.

    Returns the ids of the works written.
    """
    ids = [m.node.id for star in stars for m in star.members]
    old = memberships(session, ids)
    new_of_content = {m.node.hash: star.work_id for star in stars for m in star.members}
    for chunk in _chunks(ids):
        session.execute(delete(WorkMember).where(WorkMember.content_id.in_(chunk)))
    conn = session.connection()
    works = [
        {
            "id": star.work_id,
            "canonical_id": star.canonical.id,
            "copies": len(star.members),
            "complete": not star.canonical.partial,
            "fills": fills.get(star.work_id, []),
            "merged_into": None,
            "created_at": now,
            "updated_at": now,
        }
        for star in stars
    ]
    if works:
        stmt = _upsert(session)(Work)
        changing = ("canonical_id", "copies", "complete", "fills", "merged_into", "updated_at")
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["id"], set_={c: stmt.excluded[c] for c in changing}), works
        )
        conn.execute(
            insert(WorkMember),
            [
                {
                    "content_id": m.node.id,
                    "work_id": star.work_id,
                    "role": m.role,
                    "containment": m.containment,
                    "similarity": m.similarity,
                    "partial": m.node.partial,
                }
                for star in stars
                for m in star.members
            ],
        )
    written = {star.work_id for star in stars}
    for work_id in set(old.values()) - written:
        # The old work's id is the hash of its earliest member: follow that content to its new work.
        target = new_of_content.get(work_id)
        session.execute(
            update(Work)
            .where(Work.id == work_id)
            .values(merged_into=target, canonical_id=None, copies=0, fills=[], updated_at=now)
        )
    return written


def clear(session: Session) -> None:
    """Drop every derived row (a rebuild); work rows stay as aliases until the rebuild rewrites them."""
    session.execute(delete(WorkMember))
    session.execute(update(Work).values(canonical_id=None, copies=0, fills=[]))
    session.execute(delete(WorkLink))
    session.execute(delete(WorkBucket))
    session.execute(delete(WorkContent))


def snapshot(session: Session) -> dict[str, tuple[str, str, str]]:
    """content hash -> (work id, role, canonical hash): what a rebuild compares against."""
    canonical = (
        select(WorkMember.work_id, WorkContent.content_hash.label("canonical"))
        .join(WorkContent, WorkContent.id == WorkMember.content_id)
        .where(WorkMember.role == "canonical")
        .subquery()
    )
    stmt = (
        select(WorkContent.content_hash, WorkMember.work_id, WorkMember.role, canonical.c.canonical)
        .join(WorkMember, WorkMember.content_id == WorkContent.id)
        .join(canonical, canonical.c.work_id == WorkMember.work_id)
    )
    return {h: (w, r, c) for h, w, r, c in session.execute(stmt)}


def alias_old_ids(session: Session, old_ids: Iterable[str], now: dt.datetime) -> int:
    """After a rebuild: an old work id that is no longer a work points to the work that now holds its content."""
    live = set(session.execute(select(Work.id).where(Work.merged_into.is_(None), Work.copies > 0)).scalars())
    holder = dict(
        session.execute(
            select(WorkContent.content_hash, WorkMember.work_id).join(
                WorkMember, WorkMember.content_id == WorkContent.id
            )
        ).all()
    )
    moved = 0
    for work_id in old_ids:
        if work_id in live:
            continue
        session.execute(update(Work).where(Work.id == work_id).values(merged_into=holder.get(work_id), updated_at=now))
        moved += 1
    return moved


WATERMARK = "version_watermark"
PARAMS = "sketch_params"
