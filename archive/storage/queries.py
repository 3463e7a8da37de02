"""Read-side queries behind `status`, `history`, `show`, `runs` and the crawl plan."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.errors import NotFoundError
from archive.storage.models import Capture, Content, CrawlRun, Page, Site, Version
from archive.urls import canonical_url


@dataclass(frozen=True)
class SiteStatus:
    name: str
    title: str
    pages: int
    gone: int
    versions: int
    captures: int
    extraction_failed: int
    last_run: dict[str, Any] | None
    shrunk: int = 0
    """Pages whose latest version is a real cut (change 'shrink'): worth a look."""

    @property
    def lost(self) -> int:
        """Pages the last run fetched but could not store (the archive could not be written)."""
        stats = (self.last_run or {}).get("stats") or {}
        return int(stats.get("lost", 0) or 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "pages": self.pages,
            "gone": self.gone,
            "versions": self.versions,
            "captures": self.captures,
            "extraction_failed_pages": self.extraction_failed,
            "shrunk_pages": self.shrunk,
            "last_run": self.last_run,
            "last_run_lost": self.lost,
        }


def run_dict(run: CrawlRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "trigger": run.trigger,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "stats": run.stats,
        "error": run.error,
    }


def _count_by_site(session: Session, stmt: Any) -> dict[int, int]:
    return {site_id: n for site_id, n in session.execute(stmt)}


def site_status(session: Session) -> list[SiteStatus]:
    pages = _count_by_site(session, select(Page.site_id, func.count()).group_by(Page.site_id))
    gone = _count_by_site(
        session, select(Page.site_id, func.count()).where(Page.gone_at.is_not(None)).group_by(Page.site_id)
    )
    versions = _count_by_site(
        session, select(Page.site_id, func.count()).join(Version, Version.page_id == Page.id).group_by(Page.site_id)
    )
    captures = _count_by_site(
        session, select(Page.site_id, func.count()).join(Capture, Capture.page_id == Page.id).group_by(Page.site_id)
    )
    # Pages whose latest capture failed extraction: the ones a profile needs fixing for.
    last_capture = select(Capture.page_id, func.max(Capture.id).label("cid")).group_by(Capture.page_id).subquery()
    failed = _count_by_site(
        session,
        select(Page.site_id, func.count())
        .join(last_capture, last_capture.c.page_id == Page.id)
        .join(Capture, Capture.id == last_capture.c.cid)
        .where(Capture.outcome == "extraction_failed")
        .group_by(Page.site_id),
    )
    last_version = select(Version.page_id, func.max(Version.number).label("n")).group_by(Version.page_id).subquery()
    shrunk = _count_by_site(
        session,
        select(Page.site_id, func.count())
        .join(last_version, last_version.c.page_id == Page.id)
        .join(Version, (Version.page_id == Page.id) & (Version.number == last_version.c.n))
        .where(Version.change == "shrink")
        .group_by(Page.site_id),
    )
    out: list[SiteStatus] = []
    for site in session.execute(select(Site).order_by(Site.name)).scalars():
        run = session.execute(
            select(CrawlRun).where(CrawlRun.site_id == site.id).order_by(CrawlRun.id.desc()).limit(1)
        ).scalar_one_or_none()
        out.append(
            SiteStatus(
                site.name,
                site.title,
                pages.get(site.id, 0),
                gone.get(site.id, 0),
                versions.get(site.id, 0),
                captures.get(site.id, 0),
                failed.get(site.id, 0),
                run_dict(run) if run else None,
                shrunk.get(site.id, 0),
            )
        )
    return out


def sites_losing_captures(session: Session) -> dict[str, str]:
    """Sites whose last run lost pages or could not write the archive: site -> one line saying so.

    For ``/healthz`` and alerts: such a site's archive is behind what its crawls fetched.
    """
    out: dict[str, str] = {}
    for status in site_status(session):
        run = status.last_run
        if run is None:
            continue
        if status.lost:
            out[status.name] = f"run {run['id']} lost {status.lost} page(s): {run['error'] or run['status']}"
        elif run["status"] == "failed" and "could not be written" in (run["error"] or ""):
            out[status.name] = f"run {run['id']} failed: {run['error']}"
    return out


def find_page(session: Session, url: str) -> Page:
    for candidate in (url, canonical_url(url)):
        page = session.execute(select(Page).where(Page.url == candidate)).scalar_one_or_none()
        if page is not None:
            return page
    raise NotFoundError(f"no page {url!r} in the archive; `speech-archive status` lists what is archived")


def page_history(session: Session, url: str) -> tuple[Page, list[Version]]:
    page = find_page(session, url)
    versions = list(
        session.execute(select(Version).where(Version.page_id == page.id).order_by(Version.number)).scalars()
    )
    return page, versions


def version_text(session: Session, url: str, number: int | None = None) -> tuple[Version, str]:
    page, versions = page_history(session, url)
    if not versions:
        raise NotFoundError(f"page {page.url} has captures but no stored version yet")
    if number is None:
        version = versions[-1]
    else:
        matches = [v for v in versions if v.number == number]
        if not matches:
            raise NotFoundError(f"page {page.url} has versions 1..{versions[-1].number}, not {number}")
        version = matches[0]
    text = session.execute(select(Content.text).where(Content.hash == version.content_hash)).scalar_one()
    return version, text


def list_runs(session: Session, site: str | None = None, limit: int = 20) -> list[tuple[str, CrawlRun]]:
    stmt = select(Site.name, CrawlRun).join(Site, Site.id == CrawlRun.site_id).order_by(CrawlRun.id.desc()).limit(limit)
    if site:
        stmt = stmt.where(Site.name == site)
    return [(name, run) for name, run in session.execute(stmt)]


def crawl_plan_rows(
    session: Session, site_name: str, now: Any
) -> tuple[set[str], list[tuple[str, str | None, str | None]]]:
    """Known page URLs of a site, and the (url, etag, last_modified) of those due for a re-check."""
    site_id = session.execute(select(Site.id).where(Site.name == site_name)).scalar_one_or_none()
    if site_id is None:
        return set(), []
    known = set(session.execute(select(Page.url).where(Page.site_id == site_id)).scalars())
    due = session.execute(
        select(Page.url, Page.etag, Page.last_modified)
        .where(Page.site_id == site_id, Page.gone_at.is_(None), Page.next_check_at <= now)
        .order_by(Page.next_check_at)
    ).all()
    return known, [(u, e, m) for u, e, m in due]


LAYOUT_JUMP = 0.3
"""A site whose share of fallback or failed pages grows by this much from one crawl to the next is flagged."""
_MIN_RUN_PAGES = 5
_FALLBACK = ("trafilatura", "none", "failed")
_DIGITS = re.compile(r"\d+")


def _fallback_share(stats: dict[str, Any] | None) -> tuple[float, int] | None:
    """(share of a run's cleaned pages that fell back or failed, pages cleaned); None without the figures."""
    by_path = (stats or {}).get("body_from") or {}
    cleaned = sum(int(n) for n in by_path.values())
    if cleaned < _MIN_RUN_PAGES:
        return None
    return sum(int(by_path.get(k, 0)) for k in _FALLBACK) / cleaned, cleaned


def cleaning_health(session: Session) -> dict[str, dict[str, Any]]:
    """Per site: how its pages were cleaned, from each page's latest cleaned capture and the last two crawls.

    ``body_from``: share of pages by the path that found their body; ``failed_share`` and
    ``failure_reasons``: pages whose latest capture failed extraction and why; ``median_chars``
    of the latest versions; ``boilerplate``: the lines the profile's rules removed most often
    (digit runs shown as ``#``); ``layout_changed``: the share of fallback or failed pages grew
    by LAYOUT_JUMP or more from the previous crawl to the last one.
    """
    latest = (
        select(Capture.page_id, func.max(Capture.id).label("cid"))
        .where(Capture.body_from.is_not(None))
        .group_by(Capture.page_id)
        .subquery()
    )
    rows = session.execute(
        select(Site.name, Capture.body_from, Capture.outcome, Capture.error, Capture.boilerplate)
        .join(latest, latest.c.cid == Capture.id)
        .join(Page, Page.id == Capture.page_id)
        .join(Site, Site.id == Page.site_id)
    ).all()
    health: dict[str, dict[str, Any]] = {}
    paths: dict[str, Counter[str]] = {}
    reasons: dict[str, Counter[str]] = {}
    lines: dict[str, Counter[str]] = {}
    for site, body_from, outcome, error, boilerplate in rows:
        failed = outcome == "extraction_failed"
        paths.setdefault(site, Counter())["failed" if failed else body_from] += 1
        if failed:
            reasons.setdefault(site, Counter())[error or "?"] += 1
        for line in boilerplate or ():
            lines.setdefault(site, Counter())[_DIGITS.sub("#", str(line))] += 1
    newest = select(Version.page_id, func.max(Version.number).label("n")).group_by(Version.page_id).subquery()
    chars: dict[str, list[int]] = {}
    for site, n in session.execute(
        select(Site.name, Version.char_count)
        .join(newest, (newest.c.page_id == Version.page_id) & (newest.c.n == Version.number))
        .join(Page, Page.id == Version.page_id)
        .join(Site, Site.id == Page.site_id)
    ):
        chars.setdefault(site, []).append(n)
    for site in sorted(set(paths) | set(chars)):
        counted = paths.get(site, Counter())
        total = sum(counted.values())
        health[site] = {
            "pages_cleaned": total,
            "body_from": {k: round(v / total, 3) for k, v in counted.most_common()} if total else {},
            "failed_share": round(counted["failed"] / total, 3) if total else 0.0,
            "failure_reasons": reasons.get(site, Counter()).most_common(3),
            "median_chars": int(statistics.median(chars[site])) if chars.get(site) else None,
            "boilerplate": lines.get(site, Counter()).most_common(5),
            **_layout_change(session, site),
        }
    return health


def _layout_change(session: Session, site: str) -> dict[str, Any]:
    runs = session.execute(
        select(CrawlRun.stats)
        .join(Site, Site.id == CrawlRun.site_id)
        .where(Site.name == site, CrawlRun.status == "finished")
        .order_by(CrawlRun.id.desc())
        .limit(2)
    ).scalars()
    shares = [_fallback_share(stats) for stats in runs]
    last, previous = [*shares, None, None][:2]
    changed = last is not None and previous is not None and last[0] - previous[0] >= LAYOUT_JUMP
    return {
        "fallback_share": {
            "last_crawl": round(last[0], 3) if last else None,
            "previous_crawl": round(previous[0], 3) if previous else None,
        },
        "layout_changed": changed,
    }
