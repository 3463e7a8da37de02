"""The plain-library baselines of the crawl benchmark: what Scrapy and trafilatura do without us.

Three scripts anyone would write, on the same pages, URL patterns and Scrapy
concurrency as our crawl, so the ratios say what our pipeline costs or saves:

- ``fetch_only``: a minimal Scrapy spider (list pages -> article requests), items dropped.
- ``plain_pool``: the same spider; each body goes to ``trafilatura.extract`` in a process pool
  of the size ours uses; the text is stored trivially (one JSON line per page).
- ``naive``: the same spider; ``trafilatura.extract`` in the pipeline, on the reactor thread,
  and one SQLAlchemy ORM commit per item (to a SQLite file).

Nothing here imports our cleaner, storage or crawler: the baselines must stay plain.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TextIO

import scrapy
import trafilatura
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Response
from sqlalchemy import String, Text, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

PLAIN_MODES = ("fetch_only", "plain_pool", "naive")
STAT_PAGES = "bench/pages"
STAT_EXTRACTED = "bench/extracted"


class PlainSpider(scrapy.Spider):
    """List pages -> article pages, by the site's two URL patterns; nothing else."""

    name = "plain"

    def __init__(self, start_url: str, article_pattern: str, pagination_pattern: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start_url]
        self.article_re = re.compile(article_pattern)
        self.pagination_re = re.compile(pagination_pattern)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if self.article_re.search(url):
                yield scrapy.Request(url, callback=self.parse_article)
            elif self.pagination_re.search(url):
                yield scrapy.Request(url, callback=self.parse)

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        yield {"url": response.url, "body": response.body}


def _extract(body: bytes) -> str | None:
    """One page through plain trafilatura, defaults and all (run in a pool worker)."""
    return trafilatura.extract(body)


class FetchOnlyPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchOnlyPipeline:
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(STAT_PAGES)


class PlainPoolPipeline(FetchOnlyPipeline):
    """``trafilatura.extract`` in the spider's process pool; the text appended to a JSON-lines file."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PlainPoolPipeline:
        return cls(crawler)

    async def process_item(self, item: dict[str, Any]) -> None:  # type: ignore[override]
        spider = self.crawler.spider
        assert self.crawler.stats is not None and isinstance(spider, PlainSpider)
        pool: ProcessPoolExecutor = spider.pool  # type: ignore[attr-defined]
        sink: TextIO = spider.sink  # type: ignore[attr-defined]
        text = await asyncio.wrap_future(pool.submit(_extract, item["body"]))
        sink.write(json.dumps({"url": item["url"], "text": text}, ensure_ascii=False) + "\n")
        self.crawler.stats.inc_value(STAT_PAGES)
        self.crawler.stats.inc_value(STAT_EXTRACTED, int(bool(text)))


class _NaiveBase(DeclarativeBase):
    pass


class NaivePage(_NaiveBase):
    """The naive script's one table."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    text: Mapped[str | None] = mapped_column(Text)


class NaivePipeline(FetchOnlyPipeline):
    """``trafilatura.extract`` on the reactor thread, then ``session.add`` + ``commit`` per item."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NaivePipeline:
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> None:
        spider = self.crawler.spider
        assert self.crawler.stats is not None and isinstance(spider, PlainSpider)
        session: Session = spider.session  # type: ignore[attr-defined]
        text = trafilatura.extract(item["body"])
        session.add(NaivePage(url=item["url"], text=text))
        session.commit()
        self.crawler.stats.inc_value(STAT_PAGES)
        self.crawler.stats.inc_value(STAT_EXTRACTED, int(bool(text)))


PIPELINES = {"fetch_only": FetchOnlyPipeline, "plain_pool": PlainPoolPipeline, "naive": NaivePipeline}


def plain_settings(concurrency: int, per_domain: int, pipeline: type) -> dict[str, Any]:
    """Scrapy's defaults, but for the concurrency and politeness every mode of the benchmark shares."""
    return {
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "RETRY_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "ITEM_PIPELINES": {pipeline: 300},
    }


def run_plain(
    mode: str, site: dict[str, str], *, concurrency: int, per_domain: int, workers: int, out: Path
) -> dict[str, int]:
    """Crawl once with a plain script; the pages it took in and the texts it got out."""
    process = CrawlerProcess(plain_settings(concurrency, per_domain, PIPELINES[mode]))
    crawler = process.create_crawler(PlainSpider)
    extra: dict[str, Any] = {}
    pool: ProcessPoolExecutor | None = None
    sink: TextIO | None = None
    session: Session | None = None
    try:
        if mode == "plain_pool":
            pool = ProcessPoolExecutor(workers)
            for future in [pool.submit(os.getpid) for _ in range(workers)]:  # fork now, before the reactor
                future.result()
            sink = (out / "plain_pool.jsonl").open("w", encoding="utf-8")
            extra = {"pool": pool, "sink": sink}
        elif mode == "naive":
            engine = create_engine(f"sqlite:///{out / 'naive.sqlite3'}")
            _NaiveBase.metadata.create_all(engine)
            session = Session(engine)
            extra = {"session": session}
        process.crawl(
            crawler,
            start_url=site["start_url"],
            article_pattern=site["article_pattern"],
            pagination_pattern=site["pagination_pattern"],
            **extra,
        )
        process.start()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)  # joined, so their CPU time is in RUSAGE_CHILDREN
        if sink is not None:
            sink.close()
        if session is not None:
            session.close()
    assert crawler.stats is not None
    return {
        "pages": int(crawler.stats.get_value(STAT_PAGES, 0) or 0),
        "extracted": int(crawler.stats.get_value(STAT_EXTRACTED, 0) or 0),
    }
