"""A crawl stops promptly: on a signal, on a lost lease; queued requests are never drained."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, write_config
from services import ArchiveReader, clean_env, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # lease renewal and stop times are measured in seconds


@pytest.fixture
def slow_site() -> Iterator[Any]:
    from replica import ReplicaServer

    with ReplicaServer(articles_per_site=60, per_page=60, seed=4, sites=["zhongyi"]) as server:
        yield server


def start_crawl(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "speech_archive", "crawl", "--config", str(config), "zhongyi"],
        cwd=REPO, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def captures(reader: ArchiveReader) -> int:
    try:
        return int(reader.rows("SELECT count(*) AS n FROM captures")[0]["n"])
    except Exception:  # the schema is not there yet
        return 0


def articles(server: Any) -> list[Any]:
    return [r for r in server.requests if r.path.endswith(".html") and "list" not in r.path]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_scheduling_at_once_and_records_interrupted(tmp_path: Path, slow_site: Any, signum: int) -> None:
    db = tmp_path / "archive.sqlite3"
    # Sixteen requests may be taken from the scheduler at once, but the per-host delay sends one every 0.6 s:
    # a stop that drained the downloader's queue would send them all.
    config = write_config(tmp_path / "config.toml", slow_site, db, delay=0.6, concurrency_per_domain=1)
    proc = start_crawl(config)
    reader = ArchiveReader(f"sqlite:///{db}")
    try:
        wait_until("5 captures", lambda: captures(reader) >= 5, timeout=120)
        before = len(articles(slow_site))
        stopped_at = time.monotonic()
        os.killpg(proc.pid, signum)  # as a terminal's Ctrl-C does: the crawl and its cleaning workers
        _out, err = proc.communicate(timeout=60)
        took = time.monotonic() - stopped_at
        after = len(articles(slow_site)) - before
        assert after <= 1, f"{after} requests were sent after the signal"
        assert took < 10, f"the crawl took {took:.1f} s to stop"
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "KeyboardInterrupt" not in err
        lines = [line for line in err.splitlines() if "progress site=" not in line and line.strip()]
        name = signal.Signals(signum).name
        first = next(i for i, line in enumerate(lines) if name in line)
        assert len(lines[first:]) == 1, f"a stop prints one line: {lines[first:]}"
        (run,) = reader.rows("SELECT status, error FROM crawl_runs")
        assert run["status"] == "interrupted"
        assert captures(reader) < 60
        assert reader.integrity_problems() == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        reader.close()


def test_a_lost_lease_stops_the_site_and_is_recorded(tmp_path: Path, slow_site: Any) -> None:
    db = tmp_path / "archive.sqlite3"
    config = write_config(tmp_path / "config.toml", slow_site, db, delay=0.3, concurrency=1, concurrency_per_domain=1)
    text = config.read_text() + "\n[daemon]\nlease_seconds = 6\n"
    config.write_text(text)
    proc = start_crawl(config)
    reader = ArchiveReader(f"sqlite:///{db}")
    try:
        wait_until("5 captures", lambda: captures(reader) >= 5, timeout=120)
        later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S.%f")
        with reader.engine.begin() as conn:  # it expired while this crawl could not renew it, and was taken
            from sqlalchemy import text as sql

            conn.execute(
                sql(
                    "UPDATE leases SET holder = 'manual crawl pid 1 on elsewhere', holder_pid = 1, "
                    "holder_host = 'elsewhere', expires_at = :later"
                ),
                {"later": later},
            )
        taken_at = time.monotonic()
        _out, err = proc.communicate(timeout=60)
        assert time.monotonic() - taken_at < 6 + 3, "a lost lease is noticed at the next renewal"
        (run,) = reader.rows("SELECT status, error FROM crawl_runs")
        assert run["status"] == "interrupted" and "lease lost" in run["error"], run
        fetched = len(articles(slow_site))
        time.sleep(1.0)
        assert len(articles(slow_site)) == fetched, "no request after the crawl stopped"
        assert fetched < 60
        holder = reader.rows("SELECT holder FROM leases")
        assert holder == [{"holder": "manual crawl pid 1 on elsewhere"}], "the new holder's lease is left alone"
        assert "Traceback" not in err
        assert reader.integrity_problems() == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        reader.close()
