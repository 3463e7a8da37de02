"""The one place a crawl persists: each fetched page is processed by a worker, then stored by the writer.

Scrapy deep-copies its settings, so live objects (the archive, the worker pool,
the report) do not belong there: they travel as the spider argument
``context`` (the documented way to parameterise a crawl) and the pipeline picks
them up in ``from_crawler``. Spider counters go through Scrapy's stats
collector, under ``speech_archive/`` keys, and are read back when the spider
closes.

The reactor thread only fetches: cleaning, hashing, compression and the search
tokens happen in a worker process (crawler/workers.py), the database writes on
the writer's thread, in batches (crawler/writer.py), each page all or nothing.
Nothing escapes ``process_item``: Scrapy would log the item (once the whole
page body) and drop it. Every page becomes a capture (archive.storage.capture:
a refused one is ``store_failed``), or, when the archive cannot be written for
longer than ``write_retry_seconds``, counts as *lost* and stops the crawl with
the run ``failed``. A page is counted when its batch has committed, and the
run's stats are written with the batches every few seconds, so a killed run
still says what it did (never more than it stored).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.spiders import Spider
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.config import Config
from archive.records import NOT_PROCESSED, Fetched, ProcessedPage
from archive.storage import Archive, RecheckPolicy
from archive.storage.capture import CaptureRefusedError, store_capture
from archive.storage.dberrors import describe
from archive.storage.ingest import ACCEPT_SHRINK_AFTER, Ingested, ingest
from archive.storage.models import Site
from archive.storage.runs import finish_run, start_run, update_run_stats
from crawler.report import CrawlReport, SiteReport
from crawler.spider import STAT_FIRST_LIST_ERROR, STAT_LIST_ERRORS, STAT_LIST_OK, SiteSpider
from crawler.stopping import drop_queued_requests
from crawler.workers import PageJob, WorkerPool
from crawler.writer import ArchiveUnwritableError, ArchiveWriter

log = logging.getLogger(__name__)

STATS_EVERY_SECONDS = 2.0
"""How often a running run's stats are written (with the next page after this long)."""
CLOSE_REASONS = {
    "finished": ("finished", None),
    "shutdown": ("interrupted", "stopped before the end (shutdown)"),
    "cancelled": ("interrupted", "stopped before the end (cancelled)"),
    "lease_lost": ("interrupted", "lease lost: another process took the site's crawl lease; stopped"),
}


@dataclass
class CrawlContext:
    """What one crawl process shares between its spiders: the archive, the worker pool, the report."""

    config: Config
    archive: Archive
    workers: WorkerPool
    report: CrawlReport
    sites: dict[str, Site]
    profiles: dict[str, str]
    """Site name -> the profile its pages are cleaned with (resolved once, when the crawl starts)."""
    trigger: str = "manual"
    policy: RecheckPolicy = field(default_factory=RecheckPolicy)
    accept_shrink_after: int = ACCEPT_SHRINK_AFTER
    writer: ArchiveWriter = field(default_factory=lambda: ArchiveWriter(None, 120.0))
    crawlers: dict[str, Crawler] = field(default_factory=dict)
    """The Scrapy crawler of each site, so the writer can pause them all and a lost lease can stop one."""
    closing: set[str] = field(default_factory=set)
    """Sites whose spider this crawl is closing itself (archive unwritable, lease lost)."""


class ArchivePipeline:
    """Turns each :class:`Fetched` into a capture (+ version + content)."""

    def __init__(self, crawler: Crawler, context: CrawlContext) -> None:
        self.crawler = crawler
        self.context = context
        self.run_id: int | None = None
        self.stats_written = time.monotonic()
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        spider = crawler.spider
        if not isinstance(spider, SiteSpider) or spider.context is None:
            raise NotConfigured("the spider carries no CrawlContext; crawls start through crawler.run")
        return cls(crawler, spider.context)

    @property
    def _spider(self) -> SiteSpider:
        assert isinstance(self.crawler.spider, SiteSpider)
        return self.crawler.spider

    def open_spider(self) -> None:
        name = self._spider.site.name
        self.context.crawlers[name] = self.crawler
        report = self.context.report.sites[name]
        with self.context.archive.session() as session:
            if report.run_id is not None:  # the daemon recorded the run before starting this process
                self.run_id = report.run_id
            else:
                site = session.merge(self.context.sites[name])
                self.run_id = start_run(session, site, self.context.trigger).id
        report.run_id = self.run_id

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Fetched):
            return item
        ctx = self.context
        site_cfg = self._spider.site
        report = ctx.report.sites[site_cfg.name]
        report.bytes += len(item.body or b"")
        if ctx.writer.given_up is not None:
            report.lost += 1
            self._stop_all(ctx.writer.given_up)
            return None
        processed = NOT_PROCESSED
        if item.succeeded:
            assert item.body is not None
            job = PageJob(
                profile=ctx.profiles[site_cfg.name],
                body=item.body,
                content_type=item.header("content-type"),
                site_title=site_cfg.title or None,
                keep_raw=ctx.config.archive.keep_raw,
                url=item.url,
                site=site_cfg.name,
            )
            processed = await ctx.workers.process(job)
        fetched = dataclasses.replace(item, run_id=self.run_id, body=None)  # the body now travels packed
        try:
            result = await ctx.writer.write(
                lambda session: self._ingest(session, fetched, processed), lambda: self._store(fetched, processed)
            )
        except ArchiveUnwritableError as exc:
            report.lost += 1
            self._stop_all(str(exc))
            return None
        except CaptureRefusedError as exc:
            report.lost += 1
            log.error("%s", exc)
            return None
        self._count(report, result, processed)
        await self._write_stats(report)
        return None

    def _ingest(self, session: Session, fetched: Fetched, processed: ProcessedPage) -> Ingested:
        """The page's capture inside the writer's batch transaction (any error: the batch goes page by page)."""
        ctx = self.context
        return ingest(
            session,
            ctx.sites[fetched.site],
            fetched,
            processed,
            policy=ctx.policy,
            accept_shrink_after=ctx.accept_shrink_after,
        )

    def _store(self, fetched: Fetched, processed: ProcessedPage) -> Ingested:
        """The page's capture in its own transaction, whatever the database answers (store_failed, races)."""
        ctx = self.context
        return store_capture(
            ctx.archive,
            ctx.sites[fetched.site],
            fetched,
            processed,
            policy=ctx.policy,
            accept_shrink_after=ctx.accept_shrink_after,
        )

    @staticmethod
    def _count(report: SiteReport, result: Ingested, processed: ProcessedPage) -> None:
        if result.page_id is None:
            report.dead_links += 1
            return
        report.outcomes[result.outcome] += 1
        ext = processed.extraction
        if ext is not None:
            report.cleaning_errors += ext.cleaner_error
            report.body_from["failed" if ext.outcome == "extraction_failed" else ext.method or ext.outcome] += 1
        report.new_pages += result.new_page
        report.shrinks += result.change == "shrink"

    async def _write_stats(self, report: SiteReport) -> None:
        """The run's stats so far, every few seconds: a SIGKILL then loses at most those seconds of counts."""
        if self.run_id is None or time.monotonic() - self.stats_written < STATS_EVERY_SECONDS:
            return
        self.stats_written = time.monotonic()
        run_id, stats = self.run_id, report.stats()

        def write() -> None:
            with self.context.archive.session() as session:
                update_run_stats(session, run_id, stats)

        try:
            await self.context.writer.write(lambda session: update_run_stats(session, run_id, stats), write)
        except ArchiveUnwritableError as exc:
            self._stop_all(str(exc))
        except SQLAlchemyError as exc:
            log.debug("run stats not written: %s", exc)

    def _stop_all(self, reason: str) -> None:
        """The archive is gone for good (for this run): every site of the crawl stops, its run failed."""
        for name, crawler in list(self.context.crawlers.items()):
            engine = crawler.engine
            if engine is None or engine.spider is None or name in self.context.closing:
                continue
            self.context.closing.add(name)
            log.debug("%s: stopping (%s)", name, reason)
            drop_queued_requests(crawler)
            deferred_from_coro(engine.close_spider_async(reason="archive_unwritable"))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        name = spider.name
        report = self.context.report.sites[name]
        stats = self.crawler.stats
        if stats is not None:
            report.list_ok = int(stats.get_value(STAT_LIST_OK, 0) or 0)
            report.list_error_count = int(stats.get_value(STAT_LIST_ERRORS, 0) or 0)
            report.first_list_error = stats.get_value(STAT_FIRST_LIST_ERROR)
            report.requests = int(stats.get_value("downloader/request_count", 0) or 0)
            report.bytes_received = int(stats.get_value("downloader/response_bytes", 0) or 0)
        status, error = self._verdict(report, reason)
        report.status, report.error = status, error
        report.finished = time.monotonic()
        if self.run_id is not None:
            self._finish(report)

    def _verdict(self, report: SiteReport, reason: str) -> tuple[str, str | None]:
        writer = self.context.writer
        if writer.given_up is not None and reason not in ("shutdown", "cancelled", "lease_lost"):
            lost = f"; {report.lost} page(s) fetched but not stored" if report.lost else ""
            return "failed", f"{writer.given_up}{lost}"
        if reason == "finished" and report.list_ok == 0 and report.list_error_count:
            return "failed", f"no list page could be fetched: {report.first_list_error}"
        if reason in CLOSE_REASONS:
            status, error = CLOSE_REASONS[reason]
            if report.lost:
                error = f"{error or 'finished'}; {report.lost} page(s) fetched but not stored (see the log)"
            return status, error
        return "failed", f"spider closed: {reason}"

    def _finish(self, report: SiteReport) -> None:
        """Close the run record; a database still away gets a few quick tries, then the next crawl closes it."""
        assert self.run_id is not None
        for attempt in range(3):
            try:
                with self.context.archive.session() as session:
                    finish_run(session, self.run_id, report.status, report.stats(), report.error)
                return
            except SQLAlchemyError as exc:
                if attempt == 2:
                    log.error(
                        "the end of run %d (%s) could not be recorded: %s; the next crawl marks it interrupted",
                        self.run_id,
                        report.status,
                        describe(exc),
                    )
                else:
                    time.sleep(0.5)
