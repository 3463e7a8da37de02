"""Run one crawl process: Scrapy spiders for the chosen sites, one pipeline, one report.

Twisted's reactor cannot be restarted in a process, so this runs once per
process; the daemon starts a child process per crawl (``python -m crawler``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from scrapy.crawler import CrawlerProcess

from archive.cleaning import ProfileBook
from archive.config import Config, SiteConfig
from archive.errors import LeaseHeldError, SpeechArchiveError
from archive.storage import Archive, RecheckPolicy, dictionaries
from archive.storage.dictionaries import latest_dictionaries
from archive.storage.leases import LeaseKeeper
from archive.storage.queries import crawl_plan_rows
from archive.storage.runs import close_dead_runs, sync_sites
from archive.works import match_pending
from crawler.pipeline import CrawlContext
from crawler.report import CrawlReport
from crawler.settings import scrapy_settings, site_settings
from crawler.spider import CrawlPlan, DuePage, SiteSpider
from crawler.stopping import Stopper
from crawler.workers import WorkerPool
from crawler.writer import ArchiveWriter

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
    keeper: LeaseKeeper | None = None,
    run_ids: Mapping[str, int] | None = None,
) -> CrawlReport:
    """Crawl the given sites once, archiving as it goes; return the per-site report.

    ``run_ids`` are runs already recorded for this process (the daemon records a scheduled run
    before it starts the child, so a child killed at once still leaves its run); ``keeper``
    holds the sites' leases, and a lost lease stops that site.
    """
    archive = Archive(config.archive.database_url, busy_timeout=config.archive.busy_timeout)
    with archive.session() as session:
        closed = close_dead_runs(session)
        if closed:
            log.warning("marked %d run(s) left by dead crawl processes as interrupted", closed)
        rows = sync_sites(session, sites)
        session.expunge_all()
    workers: WorkerPool | None = None
    writer: ArchiveWriter | None = None
    try:
        now = dt.datetime.now(dt.UTC)
        plans = {site.name: plan_for(archive, config, site, full=full, now=now) for site in sites}
        report = CrawlReport([s.name for s in sites])
        for name, run_id in (run_ids or {}).items():
            if name in report.sites:
                report.sites[name].run_id = run_id
        book = ProfileBook(config.profiles)
        profiles = {s.name: book.for_site(s.name, s.profile).name for s in sites}
        workers = WorkerPool(
            config.profiles,
            config.crawl.clean_workers,
            dictionaries=latest_dictionaries(archive, profiles) if config.archive.keep_raw else {},
            profile_sites=_sites_by_profile(profiles),
        )
        stopper = Stopper(config.daemon.shutdown_grace)
        context = CrawlContext(
            config=config,
            archive=archive,
            workers=workers,
            report=report,
            sites={s.name: rows[s.name] for s in sites},
            profiles=profiles,
            trigger=trigger,
            policy=RecheckPolicy(config.crawl.recheck_min_seconds, config.crawl.recheck_max_seconds),
            accept_shrink_after=config.crawl.accept_shrink_after,
        )
        context.writer = writer = ArchiveWriter(
            archive,
            config.archive.write_retry_seconds,
            on_pause=lambda: _pause(context, True),
            on_resume=lambda: _pause(context, False),
            stopping=lambda: stopper.stopping,
            call_soon=stopper.call_soon,
        )
        process = CrawlerProcess({**scrapy_settings(config), **(extra_settings or {})})
        for site in sites:
            process.crawl(spider_class(config, site), site=site, plan=plans[site.name], context=context)
        if keeper is not None:
            keeper.on_lost = lambda name: stopper.call_soon(lambda: stopper.stop_site(context, name, "lease_lost"))
        with display(report) if display is not None else contextlib.nullcontext(), stopper.signals(process):
            process.start(install_signal_handlers=False)
        writer.close()  # what the pipeline handed over is committed (or given up) before the runs are read
        stopper.record_abandoned(context)
        report.stopped_by = stopper.signal_name
        report.unwritable = context.writer.given_up
        workers.close()
        if report.stopped_by is None and report.unwritable is None:  # a stopped crawl leaves these for the next
            if config.works.match_after_crawl:
                match_works(archive, config, report)
            if config.archive.keep_raw:
                finished = [name for name, site in report.sites.items() if site.status == "finished"]
                train_due_dictionaries(archive, finished, config.archive.dictionary_min_pages)
    finally:
        if writer is not None:
            writer.close()
        if workers is not None:
            workers.close()
        archive.close()
    return report


def _pause(context: CrawlContext, paused: bool) -> None:
    """Pause (or resume) every site of the crawl: no new requests while the archive cannot be written."""
    for crawler in context.crawlers.values():
        if crawler.engine is not None:
            if paused:
                crawler.engine.pause()
            else:
                crawler.engine.unpause()
