"""Run one crawl process: Scrapy spiders for the chosen sites, one pipeline, one report.

Twisted's reactor cannot be restarted in a process, so this runs once per
process; the daemon starts a child process per crawl.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rich.console import Console
from scrapy.crawler import CrawlerProcess

from archive.config import Config, SiteConfig
from archive.db import Archive
from archive.ingest import RecheckPolicy
from archive.queries import crawl_plan_rows
from archive.runs import close_dead_runs, sync_sites
from crawler.cleaning import Cleaner
from crawler.pipeline import RUNTIME_KEY, CrawlRuntime
from crawler.report import CrawlReport, ProgressDisplay
from crawler.settings import scrapy_settings, site_settings
from crawler.spider import CrawlPlan, DuePage, SiteSpider

log = logging.getLogger(__name__)


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


def run_crawl(
    config: Config,
    sites: list[SiteConfig],
    *,
    trigger: str = "manual",
    full: bool = False,
    console: Console | None = None,
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
    cleaner: Cleaner | None = None
    try:
        now = dt.datetime.now(dt.UTC)
        plans = {site.name: plan_for(archive, config, site, full=full, now=now) for site in sites}
        report = CrawlReport([s.name for s in sites])
        cleaner = Cleaner(config.profiles, config.crawl.clean_workers)
        policy = RecheckPolicy(config.crawl.recheck_min_seconds, config.crawl.recheck_max_seconds)
        site_rows = {s.name: rows[s.name] for s in sites}
        runtime = CrawlRuntime(config, archive, cleaner, report, site_rows, trigger, policy)
        settings = {**scrapy_settings(config), RUNTIME_KEY: runtime, **(extra_settings or {})}
        process = CrawlerProcess(settings)
        for site in sites:
            process.crawl(spider_class(config, site), site=site, plan=plans[site.name])
        with ProgressDisplay(report, console or Console(stderr=True)):
            process.start()
    finally:
        if cleaner is not None:
            cleaner.close()
        archive.close()
    return report
