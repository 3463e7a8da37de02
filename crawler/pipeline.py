"""The one place a crawl persists: clean (off-thread), hash, ingest in one transaction."""

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
from archive.db import Archive
from archive.ingest import Fetched, RecheckPolicy, ingest
from archive.models import Site
from archive.runs import finish_run, start_run
from crawler.cleaning import Cleaner
from crawler.report import CrawlReport

log = logging.getLogger(__name__)

RUNTIME_KEY = "SPEECH_ARCHIVE_RUNTIME"


@dataclass
class CrawlRuntime:
    """What a crawl process shares between its spiders: handed over in the settings."""

    config: Config
    archive: Archive
    cleaner: Cleaner
    report: CrawlReport
    sites: dict[str, Site]
    trigger: str = "manual"
    policy: RecheckPolicy = field(default_factory=RecheckPolicy)

    def __deepcopy__(self, memo: dict[int, Any]) -> CrawlRuntime:
        # Scrapy deep-copies its settings; the runtime holds a pool and a DB engine, shared by reference.
        return self


class ArchivePipeline:
    """Turns each :class:`Fetched` into a capture (+ version + content)."""

    def __init__(self, crawler: Crawler, runtime: CrawlRuntime) -> None:
        self.crawler = crawler
        self.runtime = runtime
        self.run_id: int | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        runtime = crawler.settings.get(RUNTIME_KEY)
        if runtime is None:
            raise NotConfigured("no archive runtime in the settings; crawls start through crawler.run")
        return cls(crawler, runtime)

    @property
    def _spider(self) -> Any:
        return self.crawler.spider

    def open_spider(self) -> None:
        name = self._spider.site.name
        with self.runtime.archive.session() as session:
            site = session.merge(self.runtime.sites[name])
            self.run_id = start_run(session, site, self.runtime.trigger).id
        self.runtime.report.sites[name].run_id = self.run_id

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Fetched):
            return item
        rt = self.runtime
        site_cfg = self._spider.site
        extraction = digest = None
        if item.body is not None and item.status is not None and 200 <= item.status < 300:
            profile = rt.cleaner.book.for_site(site_cfg.name, site_cfg.profile).name
            content_type = next((v for k, v in item.headers.items() if k.lower() == "content-type"), None)
            extraction, digest = await rt.cleaner.clean(profile, item.body, content_type, site_cfg.title or None)
        fetched = dataclasses.replace(item, run_id=self.run_id)
        with rt.archive.session() as session:
            result = ingest(
                session,
                rt.sites[site_cfg.name],
                fetched,
                extraction,
                digest,
                keep_raw=rt.config.archive.keep_raw,
                policy=rt.policy,
            )
        report = rt.report.sites[site_cfg.name]
        report.outcomes[result.outcome] += 1
        report.new_pages += result.new_page
        report.bytes += len(item.body or b"")
        return None

    def spider_closed(self, spider: Spider, reason: str) -> None:
        name = spider.name
        report = self.runtime.report.sites[name]
        state = getattr(spider, "state_out", {})
        report.list_ok = state.get("list_ok", 0)
        report.list_errors = list(state.get("list_errors", []))
        stats = self.crawler.stats
        if stats is not None:
            report.requests = int(stats.get_value("downloader/request_count", 0) or 0)
            report.bytes_received = int(stats.get_value("downloader/response_bytes", 0) or 0)
        if reason == "finished" and report.list_ok == 0 and report.list_errors:
            status, error = "failed", f"no list page could be fetched: {report.list_errors[0]}"
        elif reason == "finished":
            status, error = "finished", None
        elif reason in ("shutdown", "cancelled"):
            status, error = "interrupted", f"stopped before the end ({reason})"
        else:
            status, error = "failed", f"spider closed: {reason}"
        report.status, report.error = status, error
        report.finished = time.monotonic()
        if self.run_id is not None:
            with self.runtime.archive.session() as session:
                finish_run(session, self.run_id, status, report.stats(), error)
