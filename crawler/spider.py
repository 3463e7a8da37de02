"""One config-driven spider for every site: a site is data, not a subclass.

List pages are parsed for links; a link matching the site's article pattern is
an article, one matching its pagination pattern another list page. Article
responses are yielded as raw :class:`archive.records.Fetched` records, whatever
their status: persistence happens only in the pipeline. Counters go to Scrapy's
stats collector under the ``speech_archive/`` keys below.

Incremental by default: lists are walked newest first and the walk stops after
``stop_after_known_pages`` list pages that hold only known articles; known
articles are not requested from list pages (a Request costs ~0.15 ms, so they
are filtered first) but only when their re-check is due, with
If-None-Match / If-Modified-Since. ``full=True`` walks and fetches everything.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.config import SiteConfig
from archive.records import Fetched
from crawler.scope import OffsiteRequest, SiteScope
from crawler.stopping import RequestDropped

if TYPE_CHECKING:
    from crawler.pipeline import CrawlContext

log = logging.getLogger(__name__)

STAT_LIST_OK = "speech_archive/list_pages"
STAT_LIST_ERRORS = "speech_archive/list_errors"
STAT_FIRST_LIST_ERROR = "speech_archive/first_list_error"
STAT_ARTICLES_NEW = "speech_archive/articles_requested"
STAT_ARTICLES_DUE = "speech_archive/articles_due"
STAT_ROBOTS_DENIED = "speech_archive/robots_denied"
STAT_OFFSITE_LINKS = "speech_archive/offsite_links"
STAT_ARTICLES_OVER = "speech_archive/articles_over_bounds"
MAX_URL_LENGTH = 2000
"""Longer links are not page URLs (the archive's URL column holds 2,000 characters)."""

_NEXT_WORDS = ("下一页", "下页", "next")
_LAST_LABELS = ("尾页", "末页", "最后一页", "last")


def _is_next(label: str) -> bool:
    """A pagination label meaning "next page": 下一页, 下一页>, Next », or arrows only."""
    bare = label.strip().lower()
    return any(word in bare for word in _NEXT_WORDS) or (bare != "" and set(bare) <= set(">»›"))


@dataclass(frozen=True)
class DuePage:
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class CrawlPlan:
    """What the archive already knows about a site when a crawl starts."""

    known: set[str] = field(default_factory=set)
    due: list[DuePage] = field(default_factory=list)
    full: bool = False
    stop_after_known_pages: int = 2


def flat_headers(response: Response) -> dict[str, str]:
    return {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}


def describe_failure(failure: Failure) -> str:
    """A short human reason for a failed request (DNS, refused, timeout, size cap…)."""
    exc = failure.value
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{name}: {text}"[:500] if text else name


class SiteSpider(scrapy.Spider):
    """Crawl one site's list pages and archive the articles they link to."""

    name = "site"

    def __init__(
        self, site: SiteConfig, plan: CrawlPlan | None = None, context: CrawlContext | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name=site.name, **kwargs)
        self.site = site
        self.plan = plan or CrawlPlan(full=True)
        self.context = context
        """The crawl's shared objects, for the pipeline (crawler.pipeline); the spider itself never uses them."""
        self.article_re = re.compile(site.article_pattern)
        self.pagination_re = re.compile(site.pagination_pattern) if site.pagination_pattern else None
        self.scope = SiteScope.of(site)
        """The site's hosts; read by crawler.scope.ScopeMiddleware too."""
        self.list_pages_seen: set[str] = set()
        self.requested: set[str] = set()
        self.known_streak = 0
        self.articles_new = 0

    def canonical(self, url: str) -> str | None:
        """The page URL of a link of this site; None when the link leaves the site (never requested)."""
        return self.scope.on_site(url)

    def count(self, key: str, value: int = 1) -> None:
        """Add to one of this spider's counters in Scrapy's stats collector."""
        self.crawler.stats.inc_value(key, value)  # type: ignore[union-attr]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.site.start_urls:
            request = self._list_request(url)
            if request is not None:
                yield request
        for due in self.plan.due:
            headers = {}
            if due.etag:
                headers["If-None-Match"] = due.etag
            if due.last_modified:
                headers["If-Modified-Since"] = due.last_modified
            self.count(STAT_ARTICLES_DUE)
            yield self._article_request(due.url, headers)

    def _list_request(self, link: str) -> scrapy.Request | None:
        url = self.canonical(link)
        if url is None:
            self.count(STAT_OFFSITE_LINKS)
            return None
        if url in self.list_pages_seen or len(self.list_pages_seen) >= self.site.max_list_pages:
            return None
        self.list_pages_seen.add(url)
        return scrapy.Request(url, callback=self.parse_list, errback=self.list_failed, dont_filter=True)

    def _article_request(self, url: str, headers: dict[str, str] | None = None) -> scrapy.Request:
        self.requested.add(url)
        return scrapy.Request(
            url,
            headers=headers,
            callback=self.parse_article,
            errback=self.article_failed,
            dont_filter=True,
            meta={"article_url": url},
        )

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        self.count(STAT_LIST_OK)
        if not hasattr(response, "css"):
            log.warning("%s: list page %s is not HTML", self.site.name, response.url)
            return
        per_page, per_crawl = self.site.max_articles_per_list, self.site.max_articles
        taken_here = new_here = over = 0
        pagination: list[tuple[str, str]] = []
        for anchor in response.css("a[href]"):
            href = (anchor.attrib.get("href") or "").strip()
            if not href or href.startswith(("javascript:", "mailto:", "#")) or len(href) > MAX_URL_LENGTH:
                continue
            if taken_here >= per_page or self.articles_new >= per_crawl:
                # Past a bound: article links are only counted (no canonical form, no Request), but a
                # pagination link further down must still be found.
                joined = response.urljoin(href)
                if self.article_re.search(joined):
                    over += 1
                    continue
            url = self.canonical(response.urljoin(href))
            if url is None:  # another host: never requested, whatever its path looks like
                if self.article_re.search(href) or (self.pagination_re and self.pagination_re.search(href)):
                    self.count(STAT_OFFSITE_LINKS)
                continue
            if self.article_re.search(url):
                if url in self.requested or (url in self.plan.known and not self.plan.full):
                    continue
                if taken_here >= per_page or self.articles_new >= per_crawl:
                    over += 1
                    continue
                new_here += url not in self.plan.known
                taken_here += 1
                self.articles_new += 1
                self.count(STAT_ARTICLES_NEW)
                yield self._article_request(url)
            elif self.pagination_re is not None and self.pagination_re.search(url):
                pagination.append((url, "".join(anchor.css("::text").getall()).strip()))
        if over:
            self.count(STAT_ARTICLES_OVER, over)
            bound = (
                f"sites.max_articles ({per_crawl}) for this crawl"
                if self.articles_new >= per_crawl
                else f"sites.max_articles_per_list ({per_page}) for one list page"
            )
            log.warning(
                "%s: list page %s links %d more article(s) than %s; not requested",
                self.site.name,
                response.url,
                over,
                bound,
            )
        yield from self._follow_pagination(pagination, new_here)

    def _follow_pagination(self, links: list[tuple[str, str]], new_here: int) -> Iterator[scrapy.Request]:
        if self.plan.full:
            for url, _label in links:
                request = self._list_request(url)
                if request is not None:
                    yield request
            return
        # Incremental: one list page at a time, newest first, until the stop rule.
        self.known_streak = 0 if new_here else self.known_streak + 1
        if self.known_streak >= self.plan.stop_after_known_pages:
            log.info(
                "%s: %d list page(s) in a row held only known articles; stopping the walk",
                self.site.name,
                self.known_streak,
            )
            return
        unseen = [(u, label) for u, label in links if u not in self.list_pages_seen]
        # The "next" link, else the first unseen list link that is not a jump to the last page.
        plain = [u for u, label in unseen if not any(w in label.lower() for w in _LAST_LABELS)]
        nxt = next((u for u, label in unseen if _is_next(label)), None) or (plain[0] if plain else None)
        if nxt is not None:
            request = self._list_request(nxt)
            if request is not None:
                yield request

    def parse_article(self, response: Response) -> Iterator[Fetched]:
        url = response.meta["article_url"]
        yield Fetched(
            site=self.site.name,
            url=url,
            fetched_at=dt.datetime.now(dt.UTC),
            status=response.status,
            headers=flat_headers(response),
            body=response.body,
            final_url=response.url if response.url != url else None,
        )

    def article_failed(self, failure: Failure) -> Iterator[Fetched]:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(RequestDropped):  # a stopping crawl never sent it: nothing happened to the page
            return
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            # Not fetched by our own choice: no capture, nothing happened to the page.
            self.count(STAT_ROBOTS_DENIED)
            return
        if isinstance(failure.value, OffsiteRequest):
            exc = failure.value
            yield Fetched(
                site=self.site.name,
                url=request.meta.get("article_url", request.url),
                fetched_at=dt.datetime.now(dt.UTC),
                status=exc.status,
                error=f"redirected off the site to {exc.url}; not followed",
                final_url=exc.url,
                offsite_redirect=True,
            )
            return
        response = failure.value.response if isinstance(failure.value, HttpError) else None
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
        if failure.check(RequestDropped):
            return
        request = failure.request  # type: ignore[attr-defined]
        reason = describe_failure(failure)
        self.count(STAT_LIST_ERRORS)
        if self.crawler.stats.get_value(STAT_FIRST_LIST_ERROR) is None:  # type: ignore[union-attr]
            self.crawler.stats.set_value(STAT_FIRST_LIST_ERROR, f"{request.url}: {reason}")  # type: ignore[union-attr]
        log.warning("%s: list page %s failed: %s", self.site.name, request.url, reason)
