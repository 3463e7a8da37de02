"""Where a site's traffic may go: its ``base_url`` host and its ``host_aliases``, nothing else.

Article and pagination patterns are written as paths (``/fanwen/gongwen/\\d+\\.html$``),
so they match the same path on any host. The spider therefore checks a link's
host before it builds a Request (:meth:`SiteScope.on_site`), and
:class:`ScopeMiddleware`, first among the downloader middlewares, refuses any
request that still leaves the site: a redirect to another host or scheme (the
original request's answer is then recorded as ``offsite_redirect`` with its
target), a meta refresh, or a robots.txt that moved. Because the refusal
happens before Scrapy's robots.txt middleware, another host's robots.txt is
never fetched either; the site's own robots.txt governs every request.

Scrapy's own OffsiteMiddleware works on domains without ports and lets
redirects through to the spider; sites here are ``host:port`` pairs (the
replica's loopback ports) and a redirect's target must be recorded, so this
small check is our own.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from archive.config import SiteConfig
from archive.urls import canonical_url, url_netloc


class OffsiteRequest(IgnoreRequest):
    """A request off the site's hosts was refused before it was sent."""

    def __init__(self, url: str, redirected_from: str | None = None, status: int | None = None) -> None:
        self.url = url
        self.redirected_from = redirected_from
        self.status = status
        """The status of the redirect that pointed here (301/302/…); 200 for a meta refresh."""
        what = f"redirect from {redirected_from} to {url}" if redirected_from else f"request to {url}"
        super().__init__(f"{what} leaves the site; not followed")


@dataclass(frozen=True)
class SiteScope:
    """The hosts (``host[:port]``) of one site, and the scheme its base_url uses."""

    scheme: str
    home: str
    hosts: frozenset[str]

    @classmethod
    def of(cls, site: SiteConfig) -> SiteScope:
        home = url_netloc(site.base_url)
        assert home is not None, "base_url is validated as an absolute http(s) URL"
        aliases = {a.strip().lower() for a in site.host_aliases}
        return cls(urlsplit(site.base_url).scheme.lower(), home, frozenset({home, *aliases}))

    def contains(self, url: str) -> bool:
        return url_netloc(url) in self.hosts

    def on_site(self, url: str) -> str | None:
        """The canonical URL of a link of this site (alias hosts and the other scheme mapped to base_url's),
        or None when the link leaves the site."""
        if not self.contains(url):
            return None
        parts = urlsplit(canonical_url(url))
        return urlunsplit((self.scheme, self.home, parts.path, parts.query, ""))


class ScopeMiddleware:
    """Refuse, before robots.txt or the network, every request of a site spider that leaves its site.

    A followed redirect is a new request carrying ``redirect_urls``: if it goes to another host,
    or to another scheme than the request it came from, it is refused as an :class:`OffsiteRequest`
    naming the target, which reaches the request's errback (the spider records it).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        scope: SiteScope | None = getattr(self.crawler.spider, "scope", None)
        if scope is None:
            return
        chain: list[str] = request.meta.get("redirect_urls", [])
        if not chain:
            if not scope.contains(request.url):
                raise OffsiteRequest(request.url)
            return
        scheme_changed = urlsplit(request.url).scheme.lower() != urlsplit(chain[0]).scheme.lower()
        if scheme_changed or not scope.contains(request.url):
            reasons = request.meta.get("redirect_reasons") or [None]
            status = reasons[-1] if isinstance(reasons[-1], int) else 200
            raise OffsiteRequest(request.url, chain[-1], status)
