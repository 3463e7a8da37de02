"""Incremental, polite, fault-proof crawling against the replica's fault modes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import crawl_ok, query, scalar, write_config
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from archive.config import parse_config
from crawler.retry import retry_after_seconds
from crawler.spider import CrawlPlan, SiteSpider

pytestmark = pytest.mark.slow


def outcome_of(db: Path, url: str) -> list[tuple[str, int | None]]:
    return query(
        db,
        "SELECT c.outcome, c.status_code FROM captures c JOIN pages p ON p.id = c.page_id "
        "WHERE p.url = ? ORDER BY c.id",
        url,
    )


def test_recrawl_of_an_unchanged_site_fetches_lists_until_the_stop_rule_then_only_due_pages(tmp_path: Path) -> None:
    from replica import ReplicaServer

    config, db = tmp_path / "c.toml", tmp_path / "a.sqlite3"
    with ReplicaServer(articles_per_site=300, per_page=30, seed=11, sites=["zhongyi"]) as server:
        write_config(config, server, db, clean_workers=2)
        crawl_ok(config)
        assert scalar(db, "SELECT count(*) FROM pages") == 300
        server.reset_requests()
        crawl_ok(config)
        paths = [r.path for r in server.requests]
        assert sorted(paths) == sorted(["/robots.txt", "/fanwen/gongwen/", "/fanwen/gongwen/list_2.html"]), paths

        # Five pages fall due (the test moves their clock): they are asked for conditionally.
        urls = [server.article_url("zhongyi", aid) for aid in server.article_ids("zhongyi")[100:105]]
        for url in urls:
            query(db, "UPDATE pages SET next_check_at = '2000-01-01 00:00:00' WHERE url = ?", url)
        server.reset_requests()
        versions = scalar(db, "SELECT count(*) FROM versions")
        crawl_ok(config)
        articles = [r for r in server.requests if r.path.endswith(".html") and "list_" not in r.path]
        assert len(articles) == 5
        assert {r.status for r in articles} == {304}
        assert len(server.requests) == 3 + 5
        assert scalar(db, "SELECT count(*) FROM versions") == versions
        assert all(outcome_of(db, url)[-1] == ("not_modified", 304) for url in urls)
        # Unchanged pages back off: the next check is later than the first interval.
        interval = scalar(db, "SELECT check_interval FROM pages WHERE url = ?", urls[0])
        assert interval == 2 * 86400


def test_new_articles_on_page_one_are_found_by_the_next_incremental_crawl(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["sanweiyuan"])
    crawl_ok(config)
    new = replica.add_articles("sanweiyuan", 3)
    replica.reset_requests()
    crawl_ok(config)
    assert scalar(db, "SELECT count(*) FROM pages") == 15
    for aid in new:
        assert outcome_of(db, replica.article_url("sanweiyuan", aid)) == [("new_version", 200)]
    fetched = [
        r.path for r in replica.requests if r.path.startswith("/news/") and "list" not in r.path and r.path != "/news/"
    ]
    assert len(fetched) == 3, "only the new articles are fetched"


def test_robots_disallowing_articles_is_obeyed(replica, archive_paths) -> None:
    config, db = archive_paths
    replica.set_robots("biganzi", "User-agent: *\nDisallow: /p-\n")
    write_config(config, replica, db, sites=["biganzi"])
    crawl_ok(config)
    assert not [r for r in replica.requests if r.path.startswith("/p-")]
    assert scalar(db, "SELECT count(*) FROM pages") == 0
    assert any(r.path == "/doc/jianghua/" for r in replica.requests)


def test_retry_after_is_waited_out_and_the_page_archived(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["lixin"], retry_backoff=0.1)
    url = replica.article_url("lixin", replica.article_ids("lixin")[4])
    path = url.split(replica.base_url("lixin"))[1]
    replica.set_fault("lixin", path, "status", times=1, status=429, headers={"Retry-After": "2"})
    started = time.monotonic()
    crawl_ok(config)
    assert time.monotonic() - started >= 2
    assert [r.status for r in replica.requests if r.path == path] == [429, 200]
    assert outcome_of(db, url) == [("new_version", 200)]


def test_faults_are_recorded_and_the_rest_of_the_run_is_archived(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["wm114"], retry_backoff=0.1, retries=2, timeout=2)
    ids = replica.article_ids("wm114")
    faults = {
        "status": ("fetch_error", 500),
        "redirect_loop": ("fetch_error", None),
        "huge": ("fetch_error", None),
        "bad_bytes": ("extraction_failed", 200),
        "truncated": ("fetch_error", None),
        "slow": ("fetch_error", None),
    }
    faulty = {}
    for aid, kind in zip(ids, faults, strict=False):
        url = replica.article_url("wm114", aid)
        params = {"status": 500} if kind == "status" else {"delay": 5.0} if kind == "slow" else {}
        replica.set_fault("wm114", url.split(replica.base_url("wm114"))[1], kind, **params)
        faulty[url] = faults[kind]
    crawl_ok(config)
    for url, expected in faulty.items():
        assert outcome_of(db, url) == [expected], url
    burst = [r for r in replica.requests if r.path == next(iter(faulty)).split(replica.base_url("wm114"))[1]]
    assert [r.status for r in burst] == [500, 500, 500], "a burst of 500s is retried twice, then recorded"
    assert scalar(db, "SELECT count(*) FROM versions") == len(ids) - len(faulty)
    assert scalar(db, "SELECT count(*) FROM captures") == len(ids)


def test_a_challenge_page_is_blocked_never_a_version(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["zhongyi"])
    crawl_ok(config)
    url = replica.article_url("zhongyi", replica.article_ids("zhongyi")[0])
    replica.set_fault("zhongyi", url.split(replica.base_url("zhongyi"))[1], "challenge")
    crawl_ok(config, "--all", "--full")
    assert outcome_of(db, url) == [("new_version", 200), ("blocked", 200)]
    assert scalar(db, "SELECT count(*) FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url = ?", url) == 1


def test_a_page_answering_404_twice_is_gone_and_keeps_its_versions(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["zhongyi"])
    crawl_ok(config)
    aid = replica.article_ids("zhongyi")[1]
    url = replica.article_url("zhongyi", aid)
    replica.remove_article("zhongyi", aid, status=410)
    for _ in range(2):
        query(db, "UPDATE pages SET next_check_at = '2000-01-01 00:00:00' WHERE url = ?", url)
        crawl_ok(config)
    assert outcome_of(db, url) == [("new_version", 200), ("fetch_error", 410), ("fetch_error", 410)]
    assert scalar(db, "SELECT gone_at IS NOT NULL FROM pages WHERE url = ?", url) == 1
    assert scalar(db, "SELECT count(*) FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url = ?", url) == 1


def test_url_variants_of_one_article_become_one_request() -> None:
    site = parse_config(
        {
            "sites": [
                {
                    "name": "s",
                    "base_url": "http://127.0.0.1:9",
                    "start_urls": ["http://127.0.0.1:9/news/"],
                    "article_pattern": r"/news/\d+\.html$",
                    "host_aliases": ["m.127.0.0.1:9"],
                }
            ]
        }
    ).sites[0]
    spider = SiteSpider.from_crawler(get_crawler(SiteSpider), site=site, plan=CrawlPlan(full=True))
    body = (
        b'<a href="/news/7.html?from=timeline">a</a><a href="/news/7.html#top">b</a>'
        b'<a href="http://127.0.0.1:9/news/7.html?utm_source=wx">c</a><a href="/news/8.html">d</a>'
    )
    response = HtmlResponse("http://127.0.0.1:9/news/", body=body, encoding="utf-8")
    urls = [r.url for r in spider.parse_list(response)]
    assert urls == ["http://127.0.0.1:9/news/7.html", "http://127.0.0.1:9/news/8.html"]


def test_retry_after_parses_seconds_and_dates() -> None:
    assert retry_after_seconds(b"2") == 2.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds(b"soon") is None


def test_incremental_walk_follows_next_not_the_last_page_link() -> None:
    site = parse_config(
        {"sites": [{"name": "s", "base_url": "http://127.0.0.1:9", "start_urls": ["http://127.0.0.1:9/list/"],
                    "article_pattern": r"/a/\d+\.html$", "pagination_pattern": r"/list/\d+\.html$"}]}
    ).sites[0]  # fmt: skip
    spider = SiteSpider.from_crawler(get_crawler(SiteSpider), site=site, plan=CrawlPlan(full=False))
    spider.list_pages_seen.add("http://127.0.0.1:9/list/")
    body = '<a href="/a/1.html">x</a><a href="/list/9.html">尾页</a><a href="/list/2.html">下一页&gt;</a>'.encode()
    response = HtmlResponse("http://127.0.0.1:9/list/", body=body, encoding="utf-8")
    lists = [r.url for r in spider.parse_list(response) if "/list/" in r.url]
    assert lists == ["http://127.0.0.1:9/list/2.html"]


@pytest.mark.parametrize("workers", [0, 1])
def test_a_cleaning_failure_is_an_extraction_failure_not_a_lost_capture(workers: int) -> None:
    import asyncio

    from crawler.workers import PageJob, WorkerPool

    pool = WorkerPool({}, workers)
    try:
        processed = asyncio.run(pool.process(PageJob("no-such-profile", b"<html><p>x</p></html>", None, None)))
    finally:
        pool.close()
    extraction = processed.extraction
    assert extraction is not None and extraction.outcome == "extraction_failed" and processed.content_hash is None
    assert processed.raw is not None and processed.raw.data is not None, "the raw page is still kept"
    assert "no-such-profile" in (extraction.reason or "")
