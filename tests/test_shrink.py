"""A page that really became shorter (an editor cut it, a new paywall) is stored once it stays that way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, crawl_ok, query, write_config

pytestmark = pytest.mark.slow


def test_a_page_cut_for_good_is_stored_as_a_shrink_after_two_captures(tmp_path: Path, replica: Any) -> None:
    config, db = tmp_path / "config.toml", tmp_path / "archive.sqlite3"
    write_config(config, replica, db, sites=["lixin"])
    crawl_ok(config)
    aid = replica.article_ids("lixin")[1]
    url = replica.article_url("lixin", aid)
    paragraphs = replica.paragraphs("lixin", aid)
    replica.set_paragraphs("lixin", aid, paragraphs[:4])  # cut to well under half, for good
    for _ in range(3):  # three re-checks, each a conditional request with what the last capture left
        query(db, "UPDATE pages SET next_check_at = '2000-01-01 00:00:00' WHERE url = ?", url)
        crawl_ok(config)
    rows = query(
        db,
        "SELECT c.outcome, v.change FROM captures c JOIN pages p ON p.id = c.page_id "
        "LEFT JOIN versions v ON v.capture_id = c.id WHERE p.url = ? ORDER BY c.id",
        url,
    )
    assert rows == [
        ("new_version", "first"),
        ("extraction_failed", None),  # once could be a broken layout: held back
        ("new_version", "shrink"),  # twice the same shorter text: a real cut
        ("not_modified", None),
    ]
    status = json.loads(cli("status", "--json", "--config", str(config)).stdout)
    assert status["lixin"]["shrunk_pages"] == 1
