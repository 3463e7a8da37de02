"""End to end: crawl the replica with the real CLI, export every format, read it back with the real readers.

The truth is the SQLite file itself, read with plain sqlite3 (not our ORM).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import cli, crawl_ok, query, write_config
from export_helpers import READERS, read_warc, typed_row

pytestmark = pytest.mark.slow

SITES = ["zhongyi", "lixin"]


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def archived_versions(db: Path) -> dict[tuple[str, int], dict[str, object]]:
    """Every version with its text and metadata, straight from the SQLite file."""
    rows = query(
        db,
        "SELECT s.name, p.url, v.number, v.content_hash, c.text, v.title, v.partial, v.category, v.outline, "
        "v.gaps, v.char_count, v.declared_chars, v.shown_chars, v.published_at, cap.fetched_at "
        "FROM versions v JOIN pages p ON p.id = v.page_id JOIN sites s ON s.id = p.site_id "
        "JOIN contents c ON c.hash = v.content_hash LEFT JOIN captures cap ON cap.id = v.capture_id",
    )
    out: dict[tuple[str, int], dict[str, object]] = {}
    for (
        site,
        url,
        number,
        digest,
        text,
        title,
        partial,
        category,
        outline,
        gaps,
        chars,
        declared,
        shown,
        published,
        fetched,
    ) in rows:
        out[(url, number)] = {
            "site": site,
            "content_hash": digest,
            "text": text,
            "title": title,
            "partial": bool(partial),
            "category": json.loads(category),
            "outline": json.loads(outline),
            "gaps": json.loads(gaps),
            "char_count": chars,
            "declared_chars": declared,
            "shown_chars": shown,
            "published_at": _time(published) if published else None,
            "captured_at": _time(fetched),
        }
    return out


def export_ok(config: Path, *args: str) -> dict[str, object]:
    result = cli("export", "--config", str(config), "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_crawled_replica_exports_in_every_format_and_reads_back_equal(replica, archive_paths, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config, db = archive_paths
    write_config(config, replica, db, sites=SITES)
    crawl_ok(config)
    first = export_ok(config, "-o", str(tmp_path / "first.jsonl"), "--since-last", "e2e")
    assert first["rows"] == len(archived_versions(db)) == 24, "12 articles on each of the two sites"

    # Between crawls: one speech re-posted on the other site, one edited (and later reverted).
    src, dst = SITES
    reposted = replica.article_ids(src)[0]
    replica.repost(src, reposted, dst)
    edited = replica.article_ids(src)[1]
    original = replica.paragraphs(src, edited)
    replica.edit_article(src, edited)
    crawl_ok(config, "--all", "--full")
    replica.set_paragraphs(src, edited, original)  # byte-identical to the first fetch again
    crawl_ok(config, "--all", "--full")

    truth = archived_versions(db)
    second = export_ok(config, "-o", str(tmp_path / "second.jsonl"), "--since-last", "e2e")
    assert first["rows"] + second["rows"] == len(truth)
    assert second["rows"] == 3, "the re-post, the edit and the revert"

    for name, reader in [
        ("all.jsonl.gz", "jsonl"),
        ("all.csv", "csv"),
        ("all.parquet", "parquet"),
        ("all.parquet", "duckdb"),
    ]:
        if reader != "duckdb":
            export_ok(config, "-o", str(tmp_path / name))
        rows = READERS[reader](tmp_path / name)
        got = {(r["url"], r["version"]): r for r in rows}
        assert set(got) == set(truth), name
        for key, want in truth.items():
            for field, value in want.items():
                assert got[key][field] == value, f"{name} {key} {field}"

    # The re-posted speech: one content row naming both pages.
    export_ok(config, "-o", str(tmp_path / "unique.jsonl"), "--unique-content")
    src_url = replica.article_url(src, reposted)
    rows = [r for r in READERS["jsonl"](tmp_path / "unique.jsonl") if src_url in r["urls"]]
    assert len(rows) == 1 and rows[0]["sites"] == sorted(SITES) and rows[0]["page_count"] == 2

    # WARC: the reverted page's third fetch has the first fetch's payload: a revisit, not a second body.
    report = export_ok(config, "-o", str(tmp_path / "all.warc.gz"))
    records = read_warc(tmp_path / "all.warc.gz")
    kinds = Counter(r["type"] for r in records)
    stored = query(db, "SELECT count(*), count(DISTINCT raw_sha256) FROM captures WHERE raw_sha256 IS NOT NULL")[0]
    assert (kinds["response"], kinds["response"] + kinds["revisit"]) == (stored[1], stored[0])
    assert kinds["conversion"] == kinds["metadata"] == len(truth) == report["counts"]["versions"]
    edited_url = replica.article_url(src, edited)
    fetches = [
        r["type"]
        for r in records
        if r["warc"].get("WARC-Target-URI") == edited_url and r["type"] in ("response", "revisit")
    ]
    assert fetches == ["response", "response", "revisit"]
    conversions = {r["warc"]["WARC-Record-ID"]: r for r in records if r["type"] == "conversion"}
    for meta in (r for r in records if r["type"] == "metadata"):
        row = typed_row(json.loads(meta["body"]), from_text=False)
        text = conversions[meta["warc"]["WARC-Refers-To"]]["body"].decode("utf-8")
        want = truth[(row["url"], row["version"])]
        assert text == want["text"] and row["content_hash"] == want["content_hash"]
