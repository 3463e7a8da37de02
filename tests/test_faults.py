"""Faults of the machine under a running crawl: a full disk, a lock held past the busy timeout, PostgreSQL
restarted, a read-only data directory. The crawl pauses and retries; when the fault passes it goes on, when
it lasts past [archive] write_retry_seconds it stops with one line; nothing half-written, nothing archived
lost, and the next crawl continues where it stopped.

Real parts: a small tmpfs (mounted by the test; needs root), a real SQLite lock, a real PostgreSQL server
stopped and started by the test.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from conftest import REPO, crawl_ok, write_config
from services import ArchiveReader, PostgresServer, clean_env, find_pg_bin, remount, tmpfs, wait_until

pytestmark = pytest.mark.slow

ARTICLES = 30


@pytest.fixture
def site() -> Iterator[Any]:
    from replica import ReplicaServer

    with ReplicaServer(articles_per_site=ARTICLES, per_page=ARTICLES, seed=6, sites=["zhongyi"]) as server:
        yield server


class Crawl:
    """`speech-archive crawl` in a subprocess, its stderr in a file the test can watch."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "speech_archive", "crawl", "--config", str(config), "--all"],
            cwd=REPO, env=clean_env(), stdout=subprocess.DEVNULL, stderr=self._out, start_new_session=True,
        )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        wait_until(f"{needle!r} in the crawl's log", lambda: needle in self.text() or None, timeout=timeout)

    def finish(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
            self._out.close()

    def error_lines(self) -> list[str]:
        return [line for line in self.text().splitlines() if line.startswith("error:")]


def count(reader: ArchiveReader, table: str) -> int:
    try:
        return int(reader.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"])
    except Exception:  # not created yet, or the database is away this moment
        return -1


def slow(server: Any, config: Path, db: Path | str, **archive: Any) -> Path:
    """One article at a time, a fifth of a second apart: a crawl of ~10 s that a fault can land in.

    ``archive`` are [archive] settings (busy_timeout, write_retry_seconds).
    """
    write_config(config, server, db, sites=["zhongyi"], delay=0.2, concurrency=1, concurrency_per_domain=1)
    doc = tomllib.loads(config.read_text(encoding="utf-8"))
    doc["archive"].update(archive)
    config.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return config


def settle_archive(reader: ArchiveReader) -> None:
    assert reader.integrity_problems() == [] or all("run left running" in p for p in reader.integrity_problems())


def test_a_full_disk_pauses_the_crawl_until_there_is_room(tmp_path: Path, site: Any) -> None:
    with tmpfs(tmp_path / "data", size="6m") as data:
        db = data / "archive.sqlite3"
        config = slow(site, tmp_path / "config.toml", db, write_retry_seconds=60)
        reader = ArchiveReader(f"sqlite:///{db}")
        crawl = Crawl(config, tmp_path / "crawl.log")
        try:
            wait_until("5 versions", lambda: count(reader, "versions") >= 5, timeout=60)
            filler = data / "filler"
            subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True, check=False)
            crawl.wait_for("pausing the crawl")
            assert "disk is full" in crawl.text()
            time.sleep(2)
            filler.unlink()  # room again
            crawl.wait_for("writable again")
            assert crawl.finish() == 0, crawl.text()
            assert "Traceback" not in crawl.text()
            assert count(reader, "versions") == ARTICLES and count(reader, "captures") == ARTICLES
            assert reader.integrity_problems() == []
        finally:
            crawl.finish()
            reader.close()


def test_a_disk_that_stays_full_stops_the_crawl_with_one_line_and_the_next_crawl_continues(
    tmp_path: Path, site: Any
) -> None:
    with tmpfs(tmp_path / "data", size="6m") as data:
        db = data / "archive.sqlite3"
        config = slow(site, tmp_path / "config.toml", db, write_retry_seconds=3)
        reader = ArchiveReader(f"sqlite:///{db}")
        crawl = Crawl(config, tmp_path / "crawl.log")
        try:
            wait_until("5 versions", lambda: count(reader, "versions") >= 5, timeout=60)
            filler = data / "filler"
            subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True, check=False)
            assert crawl.finish(timeout=60) == 4, crawl.text()
            text = crawl.text()
            assert "Traceback" not in text
            (line,) = crawl.error_lines()
            assert "could not be written for" in line and "disk is full" in line and "not stored" in line, line
            kept = count(reader, "versions")
            assert 5 <= kept < ARTICLES
            filler.unlink()
            crawl_ok(config)  # the next crawl continues where this one stopped
            assert count(reader, "versions") == ARTICLES and count(reader, "captures") >= ARTICLES
            runs = reader.rows("SELECT status, error FROM crawl_runs ORDER BY id")
            assert [r["status"] for r in runs][-1] == "finished"
            assert runs[0]["status"] in ("failed", "interrupted"), runs  # closed by the next crawl if it could not
            assert reader.integrity_problems() == []
        finally:
            crawl.finish()
            reader.close()


def test_a_lock_held_past_the_busy_timeout_pauses_the_crawl(tmp_path: Path, site: Any) -> None:
    db = tmp_path / "archive.sqlite3"
    config = slow(site, tmp_path / "config.toml", db, busy_timeout=0.5, write_retry_seconds=60)
    reader = ArchiveReader(f"sqlite:///{db}")
    crawl = Crawl(config, tmp_path / "crawl.log")
    released = threading.Event()
    try:
        wait_until("5 versions", lambda: count(reader, "versions") >= 5, timeout=60)
        holder = sqlite3.connect(db, timeout=30, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's long write transaction (WAL: one writer at a time)
        crawl.wait_for("database is locked")
        time.sleep(2)
        holder.execute("COMMIT")
        holder.close()
        released.set()
        crawl.wait_for("writable again")
        assert crawl.finish() == 0, crawl.text()
        assert "Traceback" not in crawl.text()
        assert count(reader, "versions") == ARTICLES
        assert reader.integrity_problems() == []
    finally:
        crawl.finish()
        reader.close()


def test_a_read_only_data_directory_is_one_line_and_the_next_crawl_continues(tmp_path: Path, site: Any) -> None:
    """The directory turns read-only between two crawls (a volume remounted, a disk the kernel gave up on).

    Mid-crawl the kernel refuses to remount a file system that has files open for writing, so the
    fault lands between crawls here; a write refused mid-crawl takes the same pause-retry-stop path as
    a full disk (the tests above).
    """
    with tmpfs(tmp_path / "data", size="32m") as data:
        db = data / "archive.sqlite3"
        config = slow(site, tmp_path / "config.toml", db, write_retry_seconds=3)
        reader = ArchiveReader(f"sqlite:///{db}")
        crawl = Crawl(config, tmp_path / "first.log")
        try:
            wait_until("5 versions", lambda: count(reader, "versions") >= 5, timeout=60)
            os.killpg(crawl.proc.pid, signal.SIGTERM)
            assert crawl.finish() == 130
            kept = count(reader, "versions")
            before = {p.name: p.read_bytes() for p in data.iterdir()}
            remount(data, "ro")
            again = Crawl(config, tmp_path / "second.log")
            assert again.finish(timeout=60) == 4, again.text()
            assert "Traceback" not in again.text()
            (line,) = again.error_lines()
            assert "read-only" in line and str(data) in line, line
            remount(data, "rw")
            assert {p.name: p.read_bytes() for p in data.iterdir()} == before, "nothing was touched"
            crawl_ok(config)
            assert kept < ARTICLES and count(reader, "versions") == ARTICLES
            assert reader.integrity_problems() == []
        finally:
            crawl.finish()
            reader.close()


@pytest.mark.postgres
def test_postgresql_restarted_mid_crawl_pauses_the_crawl_and_it_goes_on(tmp_path: Path, site: Any) -> None:
    bindir = find_pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not found")
    server = PostgresServer(bindir)  # its own server: this test stops it
    server.start()
    try:
        url = server.create_database()
        config = slow(site, tmp_path / "config.toml", url, write_retry_seconds=60)
        reader = ArchiveReader(url)
        crawl = Crawl(config, tmp_path / "crawl.log")
        try:
            wait_until("5 versions", lambda: count(reader, "versions") >= 5, timeout=60)
            server.halt()
            crawl.wait_for("pausing the crawl")
            time.sleep(3)
            server.resume()
            crawl.wait_for("writable again")
            assert crawl.finish() == 0, crawl.text()
            assert "Traceback" not in crawl.text()
            assert count(reader, "versions") == ARTICLES and count(reader, "captures") == ARTICLES
            (run,) = reader.rows("SELECT status, stats FROM crawl_runs")
            assert run["status"] == "finished"
            assert run["stats"]["new_pages"] == ARTICLES and run["stats"]["lost"] == 0
            assert reader.integrity_problems() == []
        finally:
            crawl.finish()
            reader.close()
    finally:
        server.stop()
