"""A site's traffic stays on the site: its base_url host and host_aliases, nothing else.

The replica serves the site on 127.0.0.1 and a second copy of it on another
loopback host (127.0.0.2) whose article and list URLs match the site's own
patterns; the site's list pages link to it (absolute, scheme-relative, with
credentials) and some articles redirect to it. The second host must see zero
requests, robots.txt included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import crawl_ok, query, write_config
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from archive.config import parse_config
from archive.urls import canonical_url
from crawler.spider import CrawlPlan, SiteSpider

pytestmark = pytest.mark.slow


@pytest.fixture
def two_hosts() -> Iterator[tuple[Any, Any]]:
    from replica import ReplicaServer

    with (
        ReplicaServer(articles_per_site=8, per_page=10, seed=5, sites=["zhongyi"]) as home,
        ReplicaServer(articles_per_site=8, per_page=10, seed=9, sites=["zhongyi"], host="127.0.0.2") as other,
    ):
        yield home, other


def captures_of(db: Path, url: str) -> list[tuple[str, int | None, str | None, str | None]]:
    return query(
        db,
        "SELECT c.outcome, c.status_code, c.final_url, c.error FROM captures c JOIN pages p ON p.id = c.page_id "
        "WHERE p.url = ? ORDER BY c.id",
        url,
    )


def test_links_and_redirects_to_another_host_send_it_nothing(tmp_path: Path, two_hosts: tuple[Any, Any]) -> None:
    home, other = two_hosts
    config, db = tmp_path / "config.toml", tmp_path / "archive.sqlite3"
    ids, foreign_ids = home.article_ids("zhongyi"), other.article_ids("zhongyi")
    foreign_article = other.article_url("zhongyi", foreign_ids[0])
    foreign_netloc = foreign_article.split("/")[2]
    home.add_links(
        "zhongyi",
        [
            foreign_article,  # matches the article pattern: its path is the site's own shape
            "//" + foreign_article.split("://", 1)[1].replace(str(foreign_ids[0]), str(foreign_ids[1])),
            other.list_url("zhongyi", 1),  # matches the pagination pattern
            home.article_url("zhongyi", ids[0]).replace("http://", "http://editor:secret@"),
        ],
    )
    path = lambda aid: home.article_url("zhongyi", aid).split(home.base_url("zhongyi"))[1]  # noqa: E731
    home.set_fault("zhongyi", path(ids[1]), "redirect", location=other.article_url("zhongyi", foreign_ids[2]))
    foreign_path = other.article_url("zhongyi", foreign_ids[3]).split(foreign_netloc)[1]
    home.set_fault("zhongyi", path(ids[2]), "redirect", location=f"//{foreign_netloc}{foreign_path}")
    moved_to = home.article_url("zhongyi", ids[4])
    home.set_fault("zhongyi", path(ids[3]), "redirect", location=moved_to)  # on the site: followed
    write_config(config, home, db)
    crawl_ok(config)

    assert other.requests == [], f"the other host was contacted: {other.requests}"
    urls = [u for (u,) in query(db, "SELECT url FROM pages")]
    assert urls and all(u.startswith(home.base_url("zhongyi") + "/") for u in urls), urls
    assert not any("@" in u or "secret" in u for u in urls)
    assert sorted(urls) == sorted(home.article_url("zhongyi", a) for a in ids)

    off = captures_of(db, home.article_url("zhongyi", ids[1]))
    assert [(o, s) for o, s, _f, _e in off] == [("offsite_redirect", 302)]
    assert off[0][2] == other.article_url("zhongyi", foreign_ids[2])
    assert foreign_netloc in (off[0][3] or "")
    relative = captures_of(db, home.article_url("zhongyi", ids[2]))
    assert [(o, s) for o, s, _f, _e in relative] == [("offsite_redirect", 302)]
    assert relative[0][2] == f"http://{foreign_netloc}{foreign_path}"
    assert query(db, "SELECT count(*) FROM versions v JOIN captures c ON c.id = v.capture_id "
                 "WHERE c.outcome = 'offsite_redirect'") == [(0,)]  # fmt: skip
    moved = captures_of(db, home.article_url("zhongyi", ids[3]))
    assert [(o, s, f) for o, s, f, _e in moved] == [("new_version", 200, moved_to)], "the final URL is recorded"
    robots = [r for r in home.requests if r.path == "/robots.txt"]
    assert len(robots) == 1, "the site's own robots.txt is read once and governs"


def _spider(aliases: list[str] | None = None) -> SiteSpider:
    site = parse_config(
        {
            "sites": [
                {
                    "name": "s",
                    "base_url": "http://127.0.0.1:9",
                    "start_urls": ["http://127.0.0.1:9/news/"],
                    "article_pattern": r"/news/\d+\.html$",
                    "pagination_pattern": r"/news/list_\d+\.html$",
                    "host_aliases": aliases or [],
                }
            ]
        }
    ).sites[0]
    return SiteSpider.from_crawler(get_crawler(SiteSpider), site=site, plan=CrawlPlan(full=True))


def test_links_are_checked_against_the_sites_hosts_before_a_request_is_built() -> None:
    spider = _spider(["m.127.0.0.1:9"])
    body = (
        b'<a href="http://127.0.0.2:9/news/1.html">other host</a>'
        b'<a href="//127.0.0.1:10/news/2.html">other port</a>'
        b'<a href="http://127.0.0.1:9.evil.example/news/3.html">look-alike</a>'
        b'<a href="http://u:p@127.0.0.1:9/news/4.html">credentials</a>'
        b'<a href="http://m.127.0.0.1:9/news/5.html">alias</a>'
        b'<a href="https://127.0.0.1:9/news/6.html">other scheme, same host</a>'
        b'<a href="ftp://127.0.0.1:9/news/7.html">ftp</a>'
        b'<a href="http://127.0.0.2:9/news/list_2.html">other host list</a>'
    )
    response = HtmlResponse("http://127.0.0.1:9/news/", body=body, encoding="utf-8")
    urls = [r.url for r in spider.parse_list(response)]
    assert urls == [
        "http://127.0.0.1:9/news/4.html",
        "http://127.0.0.1:9/news/5.html",
        "http://127.0.0.1:9/news/6.html",
    ]


def test_credentials_never_reach_a_page_url() -> None:
    assert canonical_url("http://user:pw@example.com/a/1.html") == "http://example.com/a/1.html"
    assert canonical_url("http://user@example.com:8080/a/1.html") == "http://example.com:8080/a/1.html"
