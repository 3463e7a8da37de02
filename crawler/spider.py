"""One config-driven spider for every site: a site is data, not a subclass.

List pages are parsed for links; a link matching the site's article pattern is
an article, one matching its pagination pattern another list page. Article
responses are yielded as raw :class:`archive.ingest.Fetched` records, whatever
their status: persistence happens only in the pipeline.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.config import SiteConfig
from archive.ingest import Fetched
from archive.urls import canonical_url

log = logging.getLogger(__name__)


def flat_headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): b", ".join(v).decode("latin-1")
        for k, v in response.headers.items()
    }


def describe_failure(failure: Failure) -> str:
    """A short human reason for a failed request (DNS, refused, timeout, size cap…)."""
    exc = failure.value
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{name}: {text}"[:500] if text else name


class SiteSpider(scrapy.Spider):
    """Crawl one site's list pages and archive the articles they link to."""

    name = "site"

    def __init__(self, site: SiteConfig, run_state: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(name=site.name, **kwargs)
        self.site = site
        self.article_re = re.compile(site.article_pattern)
        self.pagination_re = re.compile(site.pagination_pattern) if site.pagination_pattern else None
        self.list_pages_seen: set[str] = set()
        self.articles_seen: set[str] = set()
        self.state_out = run_state if run_state is not None else {}
        self.state_out.update({"list_ok": 0, "list_errors": [], "articles_queued": 0})

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.site.start_urls:
            request = self._list_request(url)
            if request is not None:
                yield request

    def _list_request(self, url: str) -> scrapy.Request | None:
        url = canonical_url(url)
        if url in self.list_pages_seen or len(self.list_pages_seen) >= self.site.max_list_pages:
            return None
        self.list_pages_seen.add(url)
        return scrapy.Request(url, callback=self.parse_list, errback=self.list_failed)

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        self.state_out["list_ok"] += 1
        if not hasattr(response, "css"):
            log.warning("%s: list page %s is not HTML", self.site.name, response.url)
            return
        limit = self.site.max_articles
        for href in response.css("a::attr(href)").getall():
            href = href.strip()
            if not href or href.startswith(("javascript:", "mailto:", "#")):
                continue
            url = canonical_url(response.urljoin(href))
            if self.article_re.search(url):
                if url in self.articles_seen or (limit is not None and len(self.articles_seen) >= limit):
                    continue
                self.articles_seen.add(url)
                self.state_out["articles_queued"] += 1
                yield scrapy.Request(
                    url,
                    callback=self.parse_article,
                    errback=self.article_failed,
                    meta={"handle_httpstatus_all": True, "article_url": url},
                )
            elif self.pagination_re is not None and self.pagination_re.search(url):
                request = self._list_request(url)
                if request is not None:
                    yield request

    def parse_article(self, response: Response) -> Iterator[Fetched]:
        yield Fetched(
            site=self.site.name,
            url=response.meta["article_url"],
            fetched_at=dt.datetime.now(dt.UTC),
            status=response.status,
            headers=flat_headers(response),
            body=response.body,
        )

    def article_failed(self, failure: Failure) -> Iterator[Fetched]:
        request = failure.request  # type: ignore[attr-defined]
        response = failure.value.response if failure.check(HttpError) else None
        yield Fetched(
            site=self.site.name,
            url=request.meta.get("article_url", request.url),
            fetched_at=dt.datetime.now(dt.UTC),
            status=response.status if response is not None else None,
            headers=flat_headers(response) if response is not None else {},
            body=None,
            error=describe_failure(failure),
        )

    def list_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        reason = describe_failure(failure)
        self.state_out["list_errors"].append(f"{request.url}: {reason}")
        log.warning("%s: list page %s failed: %s", self.site.name, request.url, reason)
