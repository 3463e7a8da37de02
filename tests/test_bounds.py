"""Unbounded input meets bounded work: a list page with thousands of links, dead links that never existed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, crawl_ok, query, write_config

pytestmark = pytest.mark.slow


def test_a_list_page_with_thousands_of_links_is_cut_at_the_default_bound(tmp_path: Path, replica: Any) -> None:
    config, db = tmp_path / "config.toml", tmp_path / "archive.sqlite3"
    start = replica.list_url("zhongyi", 1)
    replica.set_fault("zhongyi", start, "link_flood", count=3000)  # 3,000 article links, every one a 404
    write_config(config, replica, db, sites=["zhongyi"])
    result = crawl_ok(config, "zhongyi")
    fetched = [r for r in replica.requests if r.path.endswith(".html") and r.status == 404]
    assert len(fetched) == 500, "sites.max_articles_per_list defaults to 500"
    assert "links 2500 more article(s) than sites.max_articles_per_list (500)" in result.stderr
    # 404s of URLs the archive never had leave nothing permanent: no page rows, no captures.
    assert query(db, "SELECT count(*) FROM pages") == [(0,)]
    assert query(db, "SELECT count(*) FROM captures") == [(0,)]
    runs = cli("runs", "--json", "--config", str(config))
    stats = json.loads(runs.stdout.splitlines()[0])["stats"]
    assert stats["dead_links"] == 500 and stats["pages"] == 0


def test_a_page_the_archive_has_still_records_its_404(tmp_path: Path, replica: Any) -> None:
    config, db = tmp_path / "config.toml", tmp_path / "archive.sqlite3"
    write_config(config, replica, db, sites=["lixin"])
    crawl_ok(config)
    aid = replica.article_ids("lixin")[2]
    url = replica.article_url("lixin", aid)
    replica.remove_article("lixin", aid, status=404)  # unlisted too: only its re-check asks for it
    query(db, "UPDATE pages SET next_check_at = '2000-01-01 00:00:00' WHERE url = ?", url)
    crawl_ok(config)
    outcomes = query(
        db, "SELECT c.outcome, c.status_code FROM captures c JOIN pages p ON p.id = c.page_id WHERE p.url = ?", url
    )
    assert outcomes == [("new_version", 200), ("fetch_error", 404)]
