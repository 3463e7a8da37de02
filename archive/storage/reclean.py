"""Re-cleaning: the stored raw pages through the current extractor, recorded as such.

A better cleaner (a new extractor revision, a changed profile) must not look
like pages being edited. So this is a separate, explicit operation: for each
page, the raw page its latest version was cleaned from is cleaned again with
the current profile; when the text differs, a version with ``change =
"reclean"`` and the new extractor version is added. Captures are never
touched (they record what happened at fetch time), and a later crawl of the
same bytes then finds the text unchanged. A re-clean that fails, or shrinks the
text below the shrink limit, is reported and adds nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.cleaning import Profile, ProfileBook, clean, content_hash
from archive.storage.engine import Archive
from archive.storage.models import Capture, Page, Site, Version
from archive.storage.rawstore import RawReader
from archive.storage.versions import shrink_reason, write_version

log = logging.getLogger(__name__)

BATCH = 200
"""Pages per transaction: progress is committed as it goes, a crash loses one batch at most."""

OUTCOMES = ("recleaned", "unchanged", "failed", "no_raw")


@dataclass(frozen=True)
class SiteCleaning:
    """How a site's pages are cleaned now (from the config): its profile name and title."""

    profile: str | None = None
    title: str | None = None


@dataclass
class RecleanReport:
    """Counts per outcome, overall and per site."""

    counts: Counter[str] = field(default_factory=Counter)
    by_site: dict[str, Counter[str]] = field(default_factory=dict)
    extractor_versions: set[str] = field(default_factory=set)

    def add(self, site: str, outcome: str) -> None:
        self.counts[outcome] += 1
        self.by_site.setdefault(site, Counter())[outcome] += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "pages": sum(self.counts.values()),
            **{k: self.counts.get(k, 0) for k in OUTCOMES},
            "sites": {s: {k: c.get(k, 0) for k in OUTCOMES} for s, c in sorted(self.by_site.items())},
            "extractor_versions": sorted(self.extractor_versions),
        }


def _latest_versions(session: Session, site_ids: Sequence[int], after_page: int) -> list[tuple[Page, Version, str]]:
    newest = select(Version.page_id, func.max(Version.number).label("number")).group_by(Version.page_id).subquery()
    stmt = (
        select(Page, Version, Site.name)
        .join(newest, newest.c.page_id == Page.id)
        .join(Version, (Version.page_id == Page.id) & (Version.number == newest.c.number))
        .join(Site, Site.id == Page.site_id)
        .where(Page.site_id.in_(site_ids), Page.id > after_page)
        .order_by(Page.id)
        .limit(BATCH)
    )
    return [(page, version, name) for page, version, name in session.execute(stmt)]


def _content_type(headers: Mapping[str, object] | None) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == "content-type":
            return str(value)
    return None


def count_pages(archive: Archive, sites: Sequence[str]) -> int:
    """Pages with at least one version on these sites (the work a re-clean has)."""
    with archive.session() as session:
        stmt = (
            select(func.count(func.distinct(Version.page_id)))
            .join(Page, Page.id == Version.page_id)
            .join(Site, Site.id == Page.site_id)
            .where(Site.name.in_(sites))
        )
        return int(session.execute(stmt).scalar_one())


def reclean(
    archive: Archive,
    book: ProfileBook,
    sites: Mapping[str, SiteCleaning],
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RecleanReport:
    """Re-clean every page of ``sites`` (site name -> how it is cleaned now)."""
    report = RecleanReport()
    reader = RawReader()
    with archive.session() as session:
        site_ids = list(session.execute(select(Site.id).where(Site.name.in_(list(sites)))).scalars())
    after = 0
    while True:
        with archive.session() as session:
            batch = _latest_versions(session, site_ids, after)
            if not batch:
                break
            for page, version, site in batch:
                after = page.id
                how = sites[site]
                profile = book.for_site(site, how.profile)
                outcome = _reclean_page(
                    session, profile, how.title, page, version, dry_run=dry_run, report=report, reader=reader
                )
                report.add(site, outcome)
        if progress is not None:
            progress(len(batch))
    return report


def _reclean_page(
    session: Session,
    profile: Profile,
    site_title: str | None,
    page: Page,
    version: Version,
    *,
    dry_run: bool,
    report: RecleanReport,
    reader: RawReader,
) -> str:
    capture = session.get(Capture, version.capture_id) if version.capture_id is not None else None
    raw = reader.load(session, capture.raw_sha256) if capture is not None and capture.raw_sha256 else None
    if capture is None or raw is None:
        return "no_raw"
    ext = clean(raw, profile, content_type=_content_type(capture.headers), site_title=site_title or None)
    if ext.outcome != "ok":
        log.warning("reclean %s: %s: %s (version %d kept)", page.url, ext.outcome, ext.reason, version.number)
        return "failed"
    digest = content_hash(ext.text)
    if digest == version.content_hash:
        return "unchanged"
    shrunk = shrink_reason(ext.char_count, version.char_count)
    if shrunk:
        log.warning("reclean %s: %s (version %d kept)", page.url, shrunk, version.number)
        return "failed"
    report.extractor_versions.add(ext.extractor_version)
    if not dry_run:
        write_version(
            session, page_id=page.id, number=version.number + 1, content_hash=digest, extraction=ext,
            capture_id=capture.id, change="reclean",
        )  # fmt: skip
    return "recleaned"


def iter_raw_pages(archive: Archive, site: str, limit: int) -> Iterator[tuple[str, bytes, str | None]]:
    """(URL, raw bytes, Content-Type) of the newest stored raw page of up to ``limit`` pages of a site.

    Newest pages first, one raw page each (its latest capture that kept one): what
    ``learn-profile`` learns a site's template from.
    """
    with archive.session() as session:
        latest = (
            select(Capture.page_id, func.max(Capture.id).label("cid"))
            .where(Capture.raw_sha256.is_not(None))
            .group_by(Capture.page_id)
            .subquery()
        )
        rows = session.execute(
            select(Page.url, Capture.raw_sha256, Capture.headers)
            .join(latest, latest.c.page_id == Page.id)
            .join(Capture, Capture.id == latest.c.cid)
            .join(Site, Site.id == Page.site_id)
            .where(Site.name == site)
            .order_by(Page.id.desc())
            .limit(limit)
        ).all()
        reader = RawReader()  # one decompressor per dictionary for the whole batch
        for url, sha, headers in rows:
            raw = reader.load(session, sha)
            if raw is not None:
                yield url, raw, _content_type(headers)


def iter_site_names(session: Session) -> Iterator[str]:
    """Every site in the archive (a site removed from the config keeps its pages)."""
    yield from session.execute(select(Site.name).order_by(Site.name)).scalars()
