"""The one place a crawl persists: each fetched page is processed off-thread, then ingested in one transaction.

Scrapy deep-copies its settings, so live objects (the archive, the worker pool,
the report) do not belong there: they travel as the spider argument
``context`` (the documented way to parameterise a crawl) and the pipeline picks
them up in ``from_crawler``. Spider counters go through Scrapy's stats
collector, under ``speech_archive/`` keys, and are read back when the spider
closes.
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

from archive.config import Config
from archive.records import NOT_PROCESSED, Fetched
from archive.storage import Archive, RecheckPolicy, ingest
from archive.storage.models import Site
from archive.storage.runs import finish_run, start_run
from crawler.report import CrawlReport
from crawler.spider import STAT_FIRST_LIST_ERROR, STAT_LIST_ERRORS, STAT_LIST_OK, SiteSpider
from crawler.workers import PageJob, WorkerPool

log = logging.getLogger(__name__)


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


class ArchivePipeline:
    """Turns each :class:`Fetched` into a capture (+ version + content)."""

    def __init__(self, crawler: Crawler, context: CrawlContext) -> None:
        self.crawler = crawler
        self.context = context
        self.run_id: int | None = None
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
        with self.context.archive.session() as session:
            site = session.merge(self.context.sites[name])
            self.run_id = start_run(session, site, self.context.trigger).id
        self.context.report.sites[name].run_id = self.run_id

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Fetched):
            return item
        ctx = self.context
        site_cfg = self._spider.site
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
            )
            processed = await ctx.workers.process(job)
        fetched = dataclasses.replace(item, run_id=self.run_id, body=None)  # the body now travels packed
        with ctx.archive.session() as session:
            result = ingest(session, ctx.sites[site_cfg.name], fetched, processed, policy=ctx.policy)
        report = ctx.report.sites[site_cfg.name]
        report.outcomes[result.outcome] += 1
        ext = processed.extraction
        if ext is not None:
            report.cleaning_errors += ext.cleaner_error
            report.body_from["failed" if ext.outcome == "extraction_failed" else ext.method or ext.outcome] += 1
        report.new_pages += result.new_page
        report.bytes += len(item.body or b"")
        return None

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
        if reason == "finished" and report.list_ok == 0 and report.list_error_count:
            status, error = "failed", f"no list page could be fetched: {report.first_list_error}"
        elif reason == "finished":
            status, error = "finished", None
        elif reason in ("shutdown", "cancelled"):
            status, error = "interrupted", f"stopped before the end ({reason})"
        else:
            status, error = "failed", f"spider closed: {reason}"
        report.status, report.error = status, error
        report.finished = time.monotonic()
        if self.run_id is not None:
            with self.context.archive.session() as session:
                finish_run(session, self.run_id, status, report.stats(), error)
