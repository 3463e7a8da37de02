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

from archive.config import Config, SiteConfig
from archive.errors import LeaseHeldError
from archive.storage import Archive, RecheckPolicy
from archive.storage.queries import crawl_plan_rows
from archive.storage.runs import close_dead_runs, sync_sites
from archive.works import match_pending
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


def match_works(archive: Archive, config: Config, report: CrawlReport) -> None:
    """Link the contents this crawl stored to their works, in this process, once the spiders are closed.

    Here rather than per page: matching reads other contents' texts and rewrites
    works, which would hold each page's transaction open on the reactor thread;
    after the crawl it is one batch per transaction and the pages are already safe.
    A failure is logged, never fatal: the contents stay pending for the next run.
    """
    try:
        result = match_pending(archive, config.works)
    except LeaseHeldError as exc:
        log.warning("works not matched now: %s", exc)
        return
    except Exception as exc:  # the crawl's pages are stored; matching can run again later
        log.error("works matching failed (%s); run `speech-archive works update`", exc)
        return
    report.works = result.as_dict()
    if result.contents:
        log.info(
            "works: matched %d new contents (%d links, %d works written) in %.2f s",
            result.contents,
            result.links,
            result.works,
            result.seconds,
        )


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
        workers = WorkerPool(config.profiles, config.crawl.clean_workers)
        context = CrawlContext(
            config=config,
            archive=archive,
            workers=workers,
            report=report,
            sites={s.name: rows[s.name] for s in sites},
            profiles={s.name: workers.book.for_site(s.name, s.profile).name for s in sites},
            trigger=trigger,
            policy=RecheckPolicy(config.crawl.recheck_min_seconds, config.crawl.recheck_max_seconds),
        )
        process = CrawlerProcess({**scrapy_settings(config), **(extra_settings or {})})
        for site in sites:
            process.crawl(spider_class(config, site), site=site, plan=plans[site.name], context=context)
        with display(report) if display is not None else contextlib.nullcontext():
            process.start()
        if config.works.match_after_crawl:
            match_works(archive, config, report)
    finally:
        if workers is not None:
            workers.close()
        archive.close()
    return report
