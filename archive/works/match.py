"""The driver: sketch new contents, find candidates in the band buckets, check them exactly, re-cluster.

``match_pending`` runs after every crawl (in the crawl process, once the
spiders are closed) and touches only the contents no sketch exists for, their
bucket candidates and the works those belong to. ``rebuild`` throws the derived
rows away and matches everything again (after a threshold change), then says
what changed. One process matches at a time: a lease row (``:works``) in the
archive's ``leases`` table, as for crawls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.config import WorksSettings
from archive.errors import LeaseHeldError
from archive.storage.engine import Archive
from archive.storage.leases import Holder, LeaseKeeper
from archive.storage.models import Work, WorkContent, utcnow
from archive.works import store
from archive.works.cluster import Star, edge_map, stars
from archive.works.fills import work_fills
from archive.works.sketch import Sketch, params_digest, shingle_set, sketch

log = logging.getLogger(__name__)

LEASE = ":works"
"""The lease row that serialises matching (``:`` cannot start a site name, so it never names a site)."""

Advance = Callable[[int], None]


@dataclass
class MatchReport:
    contents: int = 0
    """Contents sketched and matched."""
    candidates: int = 0
    """Candidate pairs from the buckets that were checked exactly."""
    links: int = 0
    """Pairs that passed the join rule."""
    works: int = 0
    """Works written (created or changed)."""
    seconds: float = 0.0
    stale: bool = False
    """The stored sketches were made with other settings (``works rebuild`` remakes them)."""

    def add(self, other: MatchReport) -> None:
        self.contents += other.contents
        self.candidates += other.candidates
        self.links += other.links
        self.works += other.works

    def as_dict(self) -> dict[str, Any]:
        return {
            "contents": self.contents,
            "candidates": self.candidates,
            "links": self.links,
            "works_written": self.works,
            "seconds": round(self.seconds, 3),
            "stale_settings": self.stale,
        }


@contextlib.contextmanager
def works_lock(archive: Archive, wait: float, holder: Holder | None = None) -> Iterator[None]:
    """Hold the matching lease (waiting up to ``wait`` seconds for another matcher); LeaseHeldError after that."""
    keeper = LeaseKeeper(archive, holder or Holder.process("works matcher"), seconds=max(60.0, wait * 2))
    deadline = time.monotonic() + wait
    with keeper:
        while True:
            refused = keeper.acquire([LEASE])
            if not refused:
                break
            if time.monotonic() >= deadline:
                raise LeaseHeldError(
                    f"another process is matching works ({refused[LEASE]}); the contents stay pending and are "
                    "matched by the next crawl or `speech-archive works update`"
                ) from None
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        yield


def _chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def link_new(session: Session, new: dict[int, Sketch], settings: WorksSettings) -> tuple[int, int]:
    """Candidates of the new contents from the buckets, checked exactly; the links that pass are stored.

    Returns (candidate pairs checked, links stored).
    """
    found = store.candidates(session, {cid: sk.buckets for cid, sk in new.items() if sk.buckets})
    wanted = {cid: {c for c in cands if c not in new or c < cid} for cid, cands in found.items()}
    old_ids = {c for cands in wanted.values() for c in cands if c not in new}
    hashes = store.hashes_of(session, old_ids)
    texts = store.texts(session, hashes.values())
    sets: dict[int, frozenset[str]] = {cid: shingle_set(texts[h], settings) for cid, h in hashes.items()}
    sets.update({cid: sk.shingles for cid, sk in new.items()})
    links: list[tuple[int, int, int]] = []
    checked = 0
    for content_id, cands in wanted.items():
        mine = sets[content_id]
        for other in cands:
            theirs = sets[other]
            smaller = min(len(mine), len(theirs))
            checked += 1
            if smaller < settings.min_shingles:
                continue
            shared = len(mine & theirs)
            if shared >= settings.join_containment * smaller:
                links.append((content_id, other, shared))
    store.add_links(session, links)
    return checked, len(links)


def _fills(session: Session, result: Sequence[Star]) -> dict[str, list[Any]]:
    """The fills of each work with two or more members; a work whose members did not change keeps its list.

    Reading masked places back out of the texts is the dearest step of re-clustering
    (every member's text is read and mapped), and most works a batch touches are
    unchanged: a new content that joins nothing still re-clusters its own component.
    """
    multi = [star for star in result if len(star.members) > 1 and any(m.node.masks for m in star.members)]
    kept = store.unchanged_fills(session, multi)
    todo = [star for star in multi if star.work_id not in kept]
    texts = store.texts(session, [m.node.hash for star in todo for m in star.members])
    fresh = {star.work_id: work_fills({m.node.hash: texts[m.node.hash] for m in star.members}) for star in todo}
    return {**kept, **fresh}


def recluster(session: Session, seeds: set[int], settings: WorksSettings, now: dt.datetime) -> int:
    """Re-run star clustering on the components the seeds belong to; the number of works written."""
    if not seeds:
        return 0
    ids, edges = store.component(session, seeds)
    if len(ids) > 1000:
        log.warning("works: one linked component holds %d contents; check join_containment", len(ids))
    result = stars(store.nodes(session, ids), edge_map(edges), join=settings.join_containment, full=settings.full_copy)
    return len(store.write_stars(session, result, _fills(session, result), now))


def match_batch(
    session: Session, items: Sequence[store.Pending], settings: WorksSettings, *, cluster: bool = True
) -> MatchReport:
    """Sketch, link and (unless ``cluster`` is False) re-cluster one batch of pending contents."""
    params = params_digest(settings)
    texts = store.texts(session, [p.hash for p in items])
    sketches = [(item, sketch(texts[item.hash], settings)) for item in items]
    ids = store.add_sketches(session, sketches, params)
    new = {content_id: sk for content_id, (_item, sk) in zip(ids, sketches, strict=True)}
    checked, links = link_new(session, new, settings)
    works = recluster(session, set(new), settings, utcnow()) if cluster else 0
    return MatchReport(len(items), checked, links, works)


def match_pending(
    archive: Archive, settings: WorksSettings, *, advance: Advance | None = None, wait: float | None = None
) -> MatchReport:
    """Match every content that has no sketch yet, a batch per transaction."""
    started = time.perf_counter()
    report = MatchReport()
    params = params_digest(settings)
    with works_lock(archive, settings.lock_wait_seconds if wait is None else wait):
        with archive.session() as session:
            upto = store.newest_version(session)
            mark = store.get_state(session, store.WATERMARK)
            items = store.pending(session, int(mark) if mark is not None else None)
            stored = store.get_state(session, store.PARAMS)
        for batch in _chunked(items, settings.batch_size):
            with archive.session() as session:
                report.add(match_batch(session, batch, settings))
            if advance is not None:
                advance(len(batch))
        with archive.session() as session:
            store.set_state(session, store.WATERMARK, str(upto))
            if stored is None:
                store.set_state(session, store.PARAMS, params)
    report.seconds = time.perf_counter() - started
    report.stale = stored is not None and stored != params
    if report.stale:
        log.warning(
            "works: the stored sketches were made with other [works] settings; run `speech-archive works rebuild`"
        )
    return report


@dataclass
class RebuildReport:
    contents: int = 0
    works_before: int = 0
    works_after: int = 0
    """Works with at least two copies, before and after."""
    unchanged: int = 0
    changed: int = 0
    """Works (of two or more copies) that are new or whose copies changed."""
    dissolved: int = 0
    """Works of two or more copies before whose exact set of copies no longer exists."""
    canonical_changed: int = 0
    moved_contents: int = 0
    """Contents whose work-mates changed."""
    links: int = 0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "contents": self.contents,
            "works_with_copies_before": self.works_before,
            "works_with_copies_after": self.works_after,
            "unchanged": self.unchanged,
            "new_or_changed": self.changed,
            "dissolved": self.dissolved,
            "canonical_changed": self.canonical_changed,
            "moved_contents": self.moved_contents,
            "links": self.links,
            "seconds": round(self.seconds, 3),
            "changed_work_ids": self.examples,
        }


def _groups(snap: dict[str, tuple[str, str, str]]) -> dict[frozenset[str], str]:
    """Member sets of works with two or more copies -> their canonical hash."""
    members: dict[str, set[str]] = {}
    canonical: dict[str, str] = {}
    for content, (work, _role, canon) in snap.items():
        members.setdefault(work, set()).add(content)
        canonical[work] = canon
    return {frozenset(m): canonical[w] for w, m in members.items() if len(m) > 1}


def compare(before: dict[str, tuple[str, str, str]], after: dict[str, tuple[str, str, str]]) -> RebuildReport:
    old, new = _groups(before), _groups(after)
    report = RebuildReport(contents=len(after), works_before=len(old), works_after=len(new))
    mates_before = {c: group for group in old for c in group}
    mates_after = {c: group for group in new for c in group}
    for group, canon in new.items():
        if group in old:
            report.unchanged += old[group] == canon
            report.canonical_changed += old[group] != canon
            report.changed += old[group] != canon
        else:
            report.changed += 1
        if (group not in old or old[group] != canon) and len(report.examples) < 20:
            report.examples.append(after[next(iter(group))][0])
    report.dissolved = sum(group not in new for group in old)
    contents = set(before) | set(after)
    report.moved_contents = sum(
        mates_before.get(c, frozenset({c})) != mates_after.get(c, frozenset({c})) for c in contents
    )
    return report


def rebuild(archive: Archive, settings: WorksSettings, *, advance: Advance | None = None) -> RebuildReport:
    """Recompute every sketch, bucket, link and work in one transaction; report what changed."""
    started = time.perf_counter()
    with works_lock(archive, settings.lock_wait_seconds), archive.session() as session:
        before = store.snapshot(session)
        old_ids = list(session.execute(select(Work.id)).scalars())
        upto = store.newest_version(session)
        store.clear(session)
        items = store.pending(session)
        links = 0
        for batch in _chunked(items, settings.batch_size):
            links += match_batch(session, batch, settings, cluster=False).links
            if advance is not None:
                advance(len(batch))
        recluster(session, set(session.execute(select(WorkContent.id)).scalars()), settings, utcnow())
        store.alias_old_ids(session, old_ids, utcnow())
        store.set_state(session, store.WATERMARK, str(upto))
        store.set_state(session, store.PARAMS, params_digest(settings))
        after = store.snapshot(session)
    report = compare(before, after)
    report.links = links
    report.seconds = time.perf_counter() - started
    return report
