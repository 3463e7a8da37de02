"""End to end: the real CLI crawls the replica, whose re-posts are its true works; the archive finds exactly those."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli, crawl_ok, query, write_config

pytestmark = pytest.mark.slow


def works_by_url(db: Path) -> dict[str, str]:
    """Page URL -> the work of its latest text, read from the file with plain sqlite3."""
    rows = query(
        db,
        "SELECT p.url, m.work_id FROM pages p "
        "JOIN versions v ON v.page_id = p.id AND v.number = (SELECT max(number) FROM versions WHERE page_id = p.id) "
        "JOIN work_contents wc ON wc.content_hash = v.content_hash "
        "JOIN work_members m ON m.content_id = wc.id",
    )
    return dict(rows)


def found_works(db: Path) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for url, work in works_by_url(db).items():
        groups.setdefault(work, set()).add(url)
    return {frozenset(urls) for urls in groups.values()}


def canonical_url_of(db: Path, work_id: str) -> set[str]:
    rows = query(
        db,
        "SELECT p.url FROM work_members m JOIN work_contents wc ON wc.id = m.content_id "
        "JOIN versions v ON v.content_hash = wc.content_hash JOIN pages p ON p.id = v.page_id "
        "WHERE m.work_id = ? AND m.role = 'canonical'",
        work_id,
    )
    return {u for (u,) in rows}


def test_a_crawl_finds_the_replicas_true_works_and_a_later_complete_copy_becomes_canonical(
    replica, archive_paths
) -> None:
    config, db = archive_paths
    # One speech on four sites: its own masks, the destination's, names spelled out, and wm114's (maybe paywalled).
    zhongyi = replica.article_ids("zhongyi")[2]
    replica.repost("zhongyi", zhongyi, "lixin", mask="site")
    replica.repost("zhongyi", zhongyi, "sanweiyuan", mask="")
    replica.repost("zhongyi", zhongyi, "wm114", mask="site")
    # A wm114 speech re-posted as it is (one content on two pages) and with names spelled out.
    wm114 = replica.article_ids("wm114")[4]
    replica.repost("wm114", wm114, "zhongyi")
    replica.repost("wm114", wm114, "lixin", mask="")
    # A speech known only from partial copies: two biganzi previews cut at different places.
    preview = replica.article_ids("biganzi")[1]
    replica.repost("biganzi", preview, "biganzi", mask="site")
    write_config(config, replica, db)

    result = crawl_ok(config)
    assert "works: matched" in result.stderr
    truth = {frozenset(urls) for urls in replica.true_works()}
    assert sum(len(w) > 1 for w in truth) == 3
    assert found_works(db) == truth

    preview_url = replica.article_url("biganzi", preview)
    work_id = works_by_url(db)[preview_url]
    assert query(db, "SELECT complete FROM works WHERE id = ?", work_id) == [(0,)]
    assert canonical_url_of(db, work_id) <= {u for w in truth if preview_url in w for u in w}

    # A later crawl brings a complete copy of the preview-only speech: it becomes the canonical copy.
    complete = replica.repost("biganzi", preview, "lixin", mask="site")
    crawl_ok(config)
    truth = {frozenset(urls) for urls in replica.true_works()}
    assert found_works(db) == truth
    assert works_by_url(db)[preview_url] == work_id, "the work keeps its id (its earliest member's)"
    assert query(db, "SELECT complete FROM works WHERE id = ?", work_id) == [(1,)]
    assert canonical_url_of(db, work_id) == {replica.article_url("lixin", complete)}
    roles = dict(
        query(
            db,
            "SELECT p.url, m.role FROM work_members m JOIN work_contents wc ON wc.id = m.content_id "
            "JOIN versions v ON v.content_hash = wc.content_hash JOIN pages p ON p.id = v.page_id "
            "WHERE m.work_id = ?",
            work_id,
        )
    )
    assert roles[preview_url] == "partial copy"

    # The surfaces name it: `work URL` (JSON) and `history URL`.
    shown = cli("work", "--config", str(config), "--json", preview_url)
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["id"] == work_id and detail["complete"] is True
    assert {p["url"] for c in detail["copies"] for p in c["pages"]} == next(w for w in truth if preview_url in w)
    history = cli("history", "--config", str(config), preview_url)
    assert f"work {work_id[:12]}" in history.stdout and "partial copy" in history.stdout
