"""Run one crawl process: Scrapy spiders for the chosen sites, one pipeline, one report.

Twisted's reactor cannot be restarted in a process, so this runs once per
process; the daemon starts a child process per crawl (``python -m crawler``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from scrapy.crawler import CrawlerProcess

from archive.cleaning import ProfileBook
from archive.config import Config, SiteConfig
from archive.errors import SpeechArchiveError
from archive.storage import Archive, RecheckPolicy, dictionaries
from archive.storage.dictionaries import latest_dictionaries
from archive.storage.queries import crawl_plan_rows
from archive.storage.runs import close_dead_runs, sync_sites
from crawler.pipeline import CrawlContext
from crawler.report import CrawlReport
from crawler.settings import scrapy_settings, site_settings
from crawler.spider import CrawlPlan, DuePage, SiteSpider
from crawler.workers import WorkerPool

log = logging.getLogger(__name__)

Display = Callable[[CrawlReport], AbstractContextManager[Any]]
"""Shows a crawl's live report while it runs (the command line's progress view)."""


def spider_class(config: Config, site: SiteConfig) -> type[SiteSpider]:
    """A SiteSpider carrying the site's own Scrapy overrides (the site stays data)."""
    overrides = site_settings(config, site)
    if not overrides:
        return SiteSpider
    return type(f"SiteSpider_{site.name}", (SiteSpider,), {"custom_settings": overrides})


def plan_for(archive: Archive, config: Config, site: SiteConfig, *, full: bool, now: dt.datetime) -> CrawlPlan:
    with archive.session() as session:
        known, due = crawl_plan_rows(session, site.name, now)
    return CrawlPlan(
        known=known,
        due=[DuePage(u, e, m) for u, e, m in due],
        full=full,
        stop_after_known_pages=config.crawl.stop_after_known_pages,
    )


def _sites_by_profile(profiles: dict[str, str]) -> dict[str, str]:
    """Profile -> site, for the profiles exactly one of the crawl's sites uses (see crawler.workers.Packers)."""
    users: dict[str, list[str]] = {}
    for site, profile in profiles.items():
        users.setdefault(profile, []).append(site)
    return {profile: sites[0] for profile, sites in users.items() if len(sites) == 1}


def train_due_dictionaries(archive: Archive, sites: list[str], min_pages: int) -> None:
    """After a crawl: train a raw-page dictionary for each site that has grown enough since its last one.

    A failed training costs the next crawls some bytes, never this crawl its result: it is logged, not raised.
    """
    for site in sites:
        try:
            if dictionaries.due(archive, site, min_pages):
                dictionaries.train(archive, site)
        except SpeechArchiveError as exc:
            log.warning("site %s: no raw-page dictionary trained: %s", site, exc)


def run_crawl(
    config: Config,
    sites: list[SiteConfig],
    *,
    trigger: str = "manual",
    full: bool = False,
    display: Display | None = None,
    extra_settings: dict[str, Any] | None = None,
) -> CrawlReport:
    """Crawl the given sites once, archiving as it goes; return the per-site report."""
    archive = Archive(config.archive.database_url)
    with archive.session() as session:
        closed = close_dead_runs(session)
        if closed:
            log.warning("marked %d run(s) left by dead crawl processes as interrupted", closed)
        rows = sync_sites(session, sites)
        session.expunge_all()
    workers: WorkerPool | None = None
    try:
        now = dt.datetime.now(dt.UTC)
        plans = {site.name: plan_for(archive, config, site, full=full, now=now) for site in sites}
        report = CrawlReport([s.name for s in sites])
        book = ProfileBook(config.profiles)
        profiles = {s.name: book.for_site(s.name, s.profile).name for s in sites}
        workers = WorkerPool(
            config.profiles,
            config.crawl.clean_workers,
            dictionaries=latest_dictionaries(archive, profiles) if config.archive.keep_raw else {},
            profile_sites=_sites_by_profile(profiles),
        )
        context = CrawlContext(
            config=config,
            archive=archive,
            workers=workers,
            report=report,
            sites={s.name: rows[s.name] for s in sites},
            profiles=profiles,
            trigger=trigger,
            policy=RecheckPolicy(config.crawl.recheck_min_seconds, config.crawl.recheck_max_seconds),
        )
        process = CrawlerProcess({**scrapy_settings(config), **(extra_settings or {})})
        for site in sites:
            process.crawl(spider_class(config, site), site=site, plan=plans[site.name], context=context)
        with display(report) if display is not None else contextlib.nullcontext():
            process.start()
        workers.close()
        if config.archive.keep_raw:  # not after an interrupted crawl: a shutdown must not wait for a training
            finished = [name for name, site in report.sites.items() if site.status == "finished"]
            train_due_dictionaries(archive, finished, config.archive.dictionary_min_pages)
    finally:
        if workers is not None:
            workers.close()
        archive.close()
    return report
