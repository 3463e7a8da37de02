"""Every fetched page becomes a capture: a write the database refuses is recorded, never dropped.

The database's refusal is real: a trigger in the archive (SQLite and PostgreSQL)
rejects the version of one page, as a constraint added by a DBA would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, cli, write_config
from services import ArchiveReader, clean_env, wait_until
from sqlalchemy import text

from archive.storage.engine import Archive

pytestmark = pytest.mark.slow


def refuse_versions_of(url: str, archive_url: str) -> None:
    """A trigger that refuses any version of the page at ``url``."""
    Archive(archive_url).close()
    reader = ArchiveReader(archive_url)
    with reader.engine.begin() as conn:
        if archive_url.startswith("sqlite"):
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON versions "
                    f"WHEN (SELECT url FROM pages WHERE id = NEW.page_id) = '{url}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
                    f"IF (SELECT url FROM pages WHERE id = NEW.page_id) = '{url}' THEN "
                    "RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text("CREATE TRIGGER refuse_one BEFORE INSERT ON versions FOR EACH ROW EXECUTE FUNCTION refuse_one()")
            )
    reader.close()


def test_a_capture_the_database_refuses_is_recorded_with_the_reason_and_counted(
    tmp_path: Path, replica: Any, archive_url: str
) -> None:
    config = write_config(tmp_path / "config.toml", replica, archive_url, sites=["zhongyi"])
    refused = replica.article_url("zhongyi", replica.article_ids("zhongyi")[3])
    refuse_versions_of(refused, archive_url)
    result = cli("crawl", "--config", str(config), "zhongyi")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "body=b" not in result.stderr and max(map(len, result.stderr.splitlines() or [""])) < 2000

    reader = ArchiveReader(archive_url)
    try:
        captures = reader.rows(
            "SELECT p.url, c.outcome, c.error, c.raw_sha256 FROM captures c JOIN pages p ON p.id = c.page_id"
        )
        assert len(captures) == 12, "every fetched page is a capture"
        bad = [c for c in captures if c["url"] == refused]
        assert [c["outcome"] for c in bad] == ["store_failed"]
        assert "refused by the test trigger" in bad[0]["error"]
        assert bad[0]["raw_sha256"] is not None, "the raw page of a refused capture is kept"
        assert {c["outcome"] for c in captures if c["url"] != refused} == {"new_version"}
        (stats,) = [r["stats"] for r in reader.rows("SELECT stats FROM crawl_runs")]
        stats = json.loads(stats) if isinstance(stats, str) else stats
        assert stats["pages"] == 12 and stats["new_versions"] == 11
        assert stats["new_pages"] == 12, "new pages are counted on PostgreSQL too (RETURNING, not rowcount)"
        assert stats["errors"] == 1 and stats["errors_by_kind"] == {"store_failed": 1} and stats["lost"] == 0
        assert reader.integrity_problems() == []
    finally:
        reader.close()


def test_a_killed_crawl_keeps_the_stats_it_had_written(tmp_path: Path) -> None:
    from replica import ReplicaServer

    db = tmp_path / "archive.sqlite3"
    url = f"sqlite:///{db}"
    with ReplicaServer(articles_per_site=60, per_page=60, seed=3, sites=["lixin"]) as server:
        config = write_config(tmp_path / "config.toml", server, db, delay=0.1, concurrency=1, concurrency_per_domain=1)
        proc = subprocess.Popen(
            [sys.executable, "-m", "speech_archive", "crawl", "--config", str(config), "lixin"],
            cwd=REPO, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        reader = ArchiveReader(url)
        try:
            wait_until("the archive", db.exists, timeout=60)
            wait_until(
                "20 captures",
                lambda: (
                    reader.rows("SELECT count(*) AS n FROM captures")[0]["n"] >= 20
                    if reader.rows("SELECT name FROM sqlite_master WHERE name = 'captures'")
                    else False
                ),
                timeout=120,
            )
            time.sleep(2.5)  # past one stats interval
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            stored = reader.rows("SELECT count(*) AS n FROM captures")[0]["n"]
            assert stored < 60, "the kill should land mid-crawl"
            (run,) = reader.rows("SELECT status, stats FROM crawl_runs")
            stats = json.loads(run["stats"]) if isinstance(run["stats"], str) else run["stats"]
            assert run["status"] == "running"
            assert 15 <= stats.get("pages", 0) <= stored, stats
            assert stats["new_versions"] == stats["pages"]
        finally:
            reader.close()


def test_a_version_number_taken_by_another_writer_is_decided_again(archive_url: str) -> None:
    """Two writers of one page at once (a crawl that lost its lease and the new holder): both captures kept."""
    import datetime as dt
    import threading

    from archive.cleaning.core import Extraction
    from archive.cleaning.normalize import content_hash
    from archive.records import Fetched, ProcessedPage
    from archive.storage.capture import store_capture
    from archive.storage.ingest import ingest
    from archive.storage.models import Site
    from archive.storage.rawstore import pack_raw

    url = "http://127.0.0.1:1/a.html"

    def page(text: str) -> tuple[Fetched, ProcessedPage]:
        ext = Extraction("ok", text=text, char_count=len(text), title="讲话", extractor_version="sa-test")
        body = text.encode()
        fetched = Fetched(site="one", url=url, fetched_at=dt.datetime.now(dt.UTC), status=200, body=body)
        return fetched, ProcessedPage(ext, content_hash(text), pack_raw(body))

    first, second, third = ("同志们:今天我们召开会议。" * 20 + tail for tail in ("一", "二", "三"))
    with Archive(archive_url) as archive:
        with archive.session() as s:
            s.add(Site(name="one", base_url="http://127.0.0.1:1"))
        with archive.session() as s:
            site = s.query(Site).one()
        store_capture(archive, site, *page(first))
        holding, release = threading.Event(), threading.Event()

        def other_writer() -> None:  # writes version 2 and holds its transaction open
            with Archive(archive_url, upgrade=False) as other, other.session() as s:
                ingest(s, site, *page(second))
                holding.set()
                release.wait(30)

        thread = threading.Thread(target=other_writer)
        thread.start()
        assert holding.wait(30)
        racer = threading.Thread(target=lambda: results.append(store_capture(archive, site, *page(third))))
        results: list[Any] = []
        racer.start()  # decides "version 2" too, then waits on the other writer's row
        time.sleep(1.0)
        release.set()
        thread.join(30)
        racer.join(60)
        assert [r.outcome for r in results] == ["new_version"] and results[0].version_number == 3
    reader = ArchiveReader(archive_url)
    try:
        rows = reader.rows(
            "SELECT v.number, c.text FROM versions v JOIN contents c ON c.hash = v.content_hash ORDER BY v.number"
        )
        assert [(r["number"], r["text"][-1]) for r in rows] == [(1, "一"), (2, "二"), (3, "三")]
        assert reader.rows("SELECT count(*) AS n FROM captures")[0]["n"] == 3
    finally:
        reader.close()


def test_a_page_in_a_log_line_is_short() -> None:
    """Scrapy logs an item it could not process with its repr: never the whole page again."""
    import datetime as dt

    from archive.records import Fetched

    page = Fetched(site="s", url="http://127.0.0.1:1/a.html", fetched_at=dt.datetime.now(dt.UTC), status=200,
                   body=b"<html>" + b"x" * 1_000_000)  # fmt: skip
    assert len(repr(page)) < 200 and "1000006 bytes" in repr(page)
