"""The daemon end to end: a real `speech-archive daemon` process, real crawl children, the real replica.

Every test runs on SQLite and on PostgreSQL (``archive_url``). Times are short
(3-second intervals, 5-second leases) and every wait polls against a deadline,
so a slow machine makes a test slower, not flaky.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import tomli_w
from conftest import REPO, cli
from prometheus_client.parser import text_string_to_metric_families
from services import ArchiveReader, DaemonProcess, PostgresServer, clean_env, wait_until
from sqlalchemy.engine import make_url

from archive.storage.engine import Archive
from replica.config import replica_config
from scheduler.health import CACHE_SECONDS

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # schedules and lease expiry are measured in seconds

SITES = ["wm114", "zhongyi"]


@pytest.fixture
def server() -> Iterator[Any]:
    from replica import ReplicaServer

    with ReplicaServer(articles_per_site=4, per_page=5, seed=7, sites=SITES) as replica:
        yield replica


@pytest.fixture
def reader(archive_url: str) -> Iterator[ArchiveReader]:
    """Plain-SQL access to the test's archive, created first so tests can poll it from the start."""
    Archive(archive_url).close()
    archive = ArchiveReader(archive_url)
    yield archive
    for run in archive.runs():  # a failed test must not leave crawl processes behind
        if run["status"] == "running" and run["pid"]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(run["pid"], signal.SIGKILL)
    archive.close()


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path, name: str = "daemon") -> DaemonProcess:
        daemon = DaemonProcess(config, tmp_path / f"{name}.log")
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        try:
            daemon.stop(timeout=40)
        except subprocess.TimeoutExpired:
            daemon.kill()


def write_daemon_config(
    path: Path,
    server: Any,
    url: str,
    *,
    schedule: str = "every 3s",
    delay: float = 0.0,
    sites: list[str] | None = None,
    **daemon: Any,
) -> Path:
    """Replica sites on a short schedule, no jitter; `delay` slows a crawl down to seconds."""
    doc = replica_config([server.site_spec(n) for n in sites or SITES], url, delay=delay)
    doc["crawl"].update({"autothrottle": False, "clean_workers": 0, "retries": 0})
    if delay:  # one request at a time: a stopped crawl then has one page in flight, not a queue of them
        doc["crawl"].update({"concurrency": 1, "concurrency_per_domain": 1})
    for site in doc["sites"]:
        site.update({"schedule": schedule, "jitter": 0})
    doc["daemon"] = {"shutdown_grace": 10, "misfire_grace": 60, "lease_seconds": 5, **daemon}
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


def finished(reader: ArchiveReader, site: str, after: dt.datetime | None = None) -> list[dict[str, Any]]:
    return [r for r in reader.runs(site) if r["status"] == "finished" and (after is None or r["started_at"] > after)]


def running(reader: ArchiveReader, site: str) -> dict[str, Any] | None:
    return next((r for r in reader.runs(site) if r["status"] == "running" and r["trigger"] == "scheduled"), None)


def assert_no_overlap(reader: ArchiveReader) -> None:
    for site in SITES:
        runs = [r for r in reader.runs(site) if r["finished_at"] is not None]
        for a, b in itertools.pairwise(runs):
            assert a["finished_at"] <= b["started_at"], f"runs of {site} overlap: {a} / {b}"


class Due(NamedTuple):
    scheduled: dt.datetime
    late: float
    runs: int


def due_lines(log: str, site: str) -> list[Due]:
    """Every submission of a run of ``site``: its scheduled time, lateness and number of run times."""
    pattern = rf"crawl due site={site} scheduled=(\S+) late=(-?[\d.]+)s runs=(\d+)"
    return [Due(dt.datetime.fromisoformat(a), float(b), int(c)) for a, b, c in re.findall(pattern, log)]


def on_grid(when: dt.datetime, anchor: dt.datetime, seconds: int = 3) -> bool:
    steps = (when - anchor).total_seconds() / seconds
    return abs(steps - round(steps)) < 0.01


def test_two_sites_run_on_time_and_a_restart_neither_loses_nor_doubles_a_run(
    tmp_path: Path, server: Any, archive_url: str, reader: ArchiveReader, start_daemon: Callable[..., DaemonProcess]
) -> None:
    config = write_daemon_config(tmp_path / "config.toml", server, archive_url)
    first = start_daemon(config, "first")
    for site in SITES:  # crawled at once (never crawled before), then on the 3 s grid
        wait_until(
            f"a finished and a second run of {site}",
            lambda s=site: finished(reader, s) and len(reader.runs(s)) >= 2,
            timeout=60,
        )
    assert first.stop() == 0
    stored = reader.jobs()
    assert set(stored) == {f"crawl:{s}" for s in SITES}
    next_runs = {jid: job["next_run_time"] for jid, job in stored.items()}
    anchors = {jid: job["trigger"].start_date for jid, job in stored.items()}
    first_due = {site: due_lines(first.text(), site) for site in SITES}
    for site, due in first_due.items():
        assert len(due) >= 2 and all(d.late < 1.0 and d.runs == 1 for d in due), due  # on time
        assert all(on_grid(d.scheduled, anchors[f"crawl:{site}"]) for d in due[1:]), due  # every 3 s after the first
    # Stay down long enough to miss at least two runs of each site.
    time.sleep(max(0.0, max(next_runs.values()) + 4 - time.time()))
    restart = dt.datetime.now(dt.UTC)

    second = start_daemon(config, "second")
    second.wait_for_log(r"schedule: 0 added, 0 changed, 0 removed, 2 unchanged")
    for site in SITES:
        wait_until(f"a run of {site} after the restart", lambda s=site: finished(reader, s, after=restart), timeout=40)
    assert second.stop() == 0
    log = second.text()
    assert {jid: job["trigger"].start_date for jid, job in reader.jobs().items()} == anchors  # same jobs, same grid
    for site in SITES:
        due = due_lines(log, site)
        catch_up = due[0]
        # The persisted next run is honoured (not lost), the missed ones made up once, as the latest of them:
        assert catch_up.scheduled.timestamp() >= next_runs[f"crawl:{site}"] - 0.001, (catch_up, next_runs)
        assert catch_up.late < 3.5 and catch_up.runs == 1, catch_up
        assert on_grid(catch_up.scheduled, anchors[f"crawl:{site}"]), (catch_up, anchors)
        assert all(d.runs == 1 for d in due)
        times = [d.scheduled for d in first_due[site] + due]
        assert len(times) == len(set(times)), times  # no scheduled run is started twice, across the restart
    assert "missed by more than misfire_grace" not in log
    assert_no_overlap(reader)
    assert reader.integrity_problems() == []


def test_manual_crawl_is_refused_while_the_daemon_crawls_and_a_dead_holders_lease_is_taken_over_at_once(
    tmp_path: Path, archive_url: str, reader: ArchiveReader, start_daemon: Callable[..., DaemonProcess]
) -> None:
    from replica import ReplicaServer

    # Ten articles at one a second: the daemon's crawl lasts long enough to be caught holding the lease.
    with ReplicaServer(articles_per_site=10, per_page=10, seed=7, sites=["wm114"]) as server:
        _lease_scenario(tmp_path, server, archive_url, reader, start_daemon)


def _lease_scenario(
    tmp_path: Path, server: Any, archive_url: str, reader: ArchiveReader, start_daemon: Callable[..., DaemonProcess]
) -> None:
    # A long lease: a dead holder's lease must be taken over at once (same host, its pid is gone),
    # never waited out, or a crash costs the site its schedule until the lease expires.
    config = write_daemon_config(
        tmp_path / "config.toml", server, archive_url, schedule="every 2s", delay=1.0, sites=["wm114"],
        lease_seconds=600,
    )  # fmt: skip
    command = [sys.executable, "-m", "speech_archive", "crawl", "--config", str(config), "wm114"]
    holder = subprocess.Popen(
        command, cwd=REPO, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_until(
            "the manual crawl's lease",
            lambda: reader.rows(
                "SELECT holder FROM leases WHERE holder LIKE :h", h=f"manual crawl pid {holder.pid} on %"
            ),
        )
        daemon = start_daemon(config)
        daemon.wait_for_log(rf"crawl skipped site=wm114: manual crawl pid {holder.pid} on \S+ holds its lease")
    finally:
        os.killpg(holder.pid, signal.SIGKILL)  # the holder dies without releasing its lease
        holder.wait(timeout=30)
    killed_at = dt.datetime.now(dt.UTC)
    expiry = reader.rows("SELECT expires_at FROM leases")[0]["expires_at"]
    expiry = dt.datetime.fromisoformat(expiry) if isinstance(expiry, str) else expiry
    expiry = expiry if expiry.tzinfo else expiry.replace(tzinfo=dt.UTC)
    assert expiry >= killed_at + dt.timedelta(seconds=500)  # nobody released it, and it is far from expiring

    run = wait_until("the daemon's crawl after the holder died", lambda: running(reader, "wm114"), timeout=30)
    assert run["started_at"] < killed_at + dt.timedelta(seconds=15), "taken over at once, not at expiry"
    wait_until(
        "the daemon's crawl to hold the lease",
        lambda: reader.rows("SELECT holder FROM leases WHERE holder LIKE 'scheduled crawl pid %'"),
        timeout=30,
    )
    daemon.wait_for_log(r"site wm114: the lease holder manual crawl pid \d+ on \S+ is no longer running")
    refused = subprocess.run(
        command, cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert refused.returncode == 5, refused.stderr
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()]  # one line
    expected = f"error: site 'wm114' is already being crawled by scheduled crawl pid {run['pid']} on "
    assert refused.stderr.startswith(expected), refused.stderr

    assert daemon.stop() == 0
    statuses = {r["trigger"]: r["status"] for r in reader.runs("wm114")}
    assert statuses.get("manual") in (None, "interrupted")  # the killed holder's run (if begun): closed as dead
    assert next(r for r in reader.runs() if r["id"] == run["id"])["status"] in ("finished", "interrupted")


def test_a_run_killed_with_its_daemon_is_recorded_by_the_next_daemon(
    tmp_path: Path, server: Any, archive_url: str, reader: ArchiveReader, start_daemon: Callable[..., DaemonProcess]
) -> None:
    config = write_daemon_config(
        tmp_path / "config.toml", server, archive_url, schedule="every 5s", delay=1.0, sites=["wm114"],
        lease_seconds=600,
    )  # fmt: skip
    first = start_daemon(config, "first")
    started = first.wait_for_log(r"crawl started site=wm114 pid=(\d+)")
    child = int(started.group(1))
    # The machine loses power, or an operator SIGKILLs the service: daemon and crawl die at once,
    # before the crawl could write anything of its own.
    first.proc.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child, signal.SIGKILL)
    first.proc.wait(timeout=30)
    wait_until("the crawl to die", lambda: not Path(f"/proc/{child}").exists(), timeout=30)
    (left,) = reader.runs("wm114")
    assert left["status"] == "running" and left["pid"] == child, "the daemon recorded the run before starting it"
    time.sleep(6)  # down long enough to miss a run

    second = start_daemon(config, "second")
    second.wait_for_log(r"marked 1 run\(s\) left by dead crawl processes as interrupted")
    row = next(r for r in reader.runs("wm114") if r["id"] == left["id"])
    assert row["status"] == "interrupted" and f"process {child}" in row["error"], row
    # The missed run is made up at once, whatever the dead crawl left behind.
    wait_until("a finished run after the restart", lambda: finished(reader, "wm114"), timeout=60)
    assert second.stop() == 0
    assert reader.integrity_problems() == []


def test_a_killed_crawl_is_recorded_failed_and_scheduling_goes_on(
    tmp_path: Path, server: Any, archive_url: str, reader: ArchiveReader, start_daemon: Callable[..., DaemonProcess]
) -> None:
    config = write_daemon_config(tmp_path / "config.toml", server, archive_url, delay=0.5)
    daemon = start_daemon(config)
    victim = wait_until("a running crawl of wm114", lambda: running(reader, "wm114"), timeout=30)
    os.kill(victim["pid"], signal.SIGKILL)
    killed_at = dt.datetime.now(dt.UTC)

    def recorded() -> dict[str, Any] | None:
        row = next(r for r in reader.runs() if r["id"] == victim["id"])
        return row if row["status"] != "running" else None

    row = wait_until("the killed run's record", recorded, timeout=20)
    assert row["status"] == "failed"
    assert row["error"] == f"crawl process {victim['pid']} was killed by SIGKILL"
    for site in SITES:  # both sites keep being scheduled, the one whose crawl was killed too
        wait_until(
            f"a later run of {site}",
            lambda s=site: [r for r in reader.runs(s) if r["started_at"] > killed_at and r["trigger"] == "scheduled"],
            timeout=45,
        )
    assert daemon.get("/healthz")[0] == 200
    assert daemon.stop() == 0
    assert_no_overlap(reader)


def test_sigterm_during_a_crawl_interrupts_it_within_the_grace_period(
    tmp_path: Path, server: Any, archive_url: str, reader: ArchiveReader, start_daemon: Callable[..., DaemonProcess]
) -> None:
    grace = 10
    config = write_daemon_config(
        tmp_path / "config.toml",
        server,
        archive_url,
        schedule="every 1h",
        delay=1.0,
        sites=["wm114"],
        shutdown_grace=grace,
    )
    daemon = start_daemon(config)
    run = wait_until(
        "a crawl with a page archived",
        lambda: next(
            (
                r
                for r in reader.runs("wm114")
                if r["status"] == "running" and reader.rows("SELECT id FROM captures WHERE run_id = :r", r=r["id"])
            ),
            None,
        ),
        timeout=40,
    )
    started = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.stop(timeout=grace + 20) == 0
    assert time.monotonic() - started < grace
    row = next(r for r in reader.runs() if r["id"] == run["id"])
    assert row["status"] == "interrupted", row
    with pytest.raises(ProcessLookupError):
        os.kill(run["pid"], 0)
    assert reader.rows("SELECT site_name FROM leases") == []
    assert reader.integrity_problems() == []
    assert "interrupted" in daemon.text()


def test_a_crawl_over_the_timeout_is_stopped_and_recorded_timed_out(
    tmp_path: Path, server: Any, archive_url: str, reader: ArchiveReader, start_daemon: Callable[..., DaemonProcess]
) -> None:
    config = write_daemon_config(
        tmp_path / "config.toml",
        server,
        archive_url,
        schedule="every 1h",
        delay=1.0,
        sites=["wm114"],
        crawl_timeout=3,
        shutdown_grace=5,
    )
    daemon = start_daemon(config)
    row = wait_until(
        "a timed-out run",
        lambda: next((r for r in reader.runs("wm114") if r["status"] == "timed_out"), None),
        timeout=40,
    )
    assert row["error"].startswith("crawl exceeded [daemon] crawl_timeout (3 s)")
    assert daemon.get("/healthz")[0] == 200
    assert daemon.stop() == 0
    assert reader.integrity_problems() == []


def test_healthz_follows_the_database_and_metrics_parse(
    tmp_path: Path,
    server: Any,
    archive_url: str,
    reader: ArchiveReader,
    start_daemon: Callable[..., DaemonProcess],
    request: pytest.FixtureRequest,
) -> None:
    config = write_daemon_config(tmp_path / "config.toml", server, archive_url, schedule="every 1h", sites=["wm114"])
    daemon = start_daemon(config)
    wait_until("the first crawl", lambda: finished(reader, "wm114"), timeout=40)
    wait_until("the daemon to record it", lambda: daemon.wait_for_log(r"crawl ended site=wm114 .*outcome=finished"))
    status, body = daemon.get("/healthz")
    assert status == 200 and '"database": "ok"' in body and '"scheduler": "ok"' in body

    status, text = daemon.get("/metrics")
    assert status == 200
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("speech_archive_crawl_runs_total", (("outcome", "finished"), ("site", "wm114")))] == 1
    assert samples[("speech_archive_pages_captured_total", (("site", "wm114"),))] == 4
    assert samples[("speech_archive_versions_archived_total", (("site", "wm114"),))] == 4
    assert samples[("speech_archive_last_success_timestamp_seconds", (("site", "wm114"),))] > time.time() - 120
    assert samples[("speech_archive_next_run_timestamp_seconds", (("site", "wm114"),))] > time.time() + 3000
    assert samples[("speech_archive_scheduler_up", ())] == 1
    status, sites = daemon.get("/?format=json")  # the archive browser, beside the health endpoints
    assert status == 200 and [s["name"] for s in json.loads(sites)["sites"]] == ["wm114"]
    assert "archive browser on http://127.0.0.1:" in daemon.text()

    with database_outage(archive_url, request):
        # The probe's answer is cached for health.CACHE_SECONDS: the outage shows within that, not later.
        status, body = wait_until(
            "an unhealthy answer", lambda: (r := daemon.get("/healthz"))[0] == 503 and r, timeout=CACHE_SECONDS + 2
        )
        assert status == 503 and '"database": "unreachable (the daemon\'s log says why)"' in body
        # The reason (which can name a host and port) goes to the log, once, not to whoever asks.
        assert not any(word in body for word in ("unable to open", "connection", 'database "', "port"))
        daemon.wait_for_log(r"health: the archive database is unreachable: \S")
    wait_until("healthy again", lambda: daemon.get("/healthz")[0] == 200, timeout=30)
    assert daemon.stop() == 0

    status = cli("status", "--json", "--config", str(config))
    assert status.returncode == 0, status.stderr
    row = json.loads(status.stdout)["wm114"]
    assert row["last_run"]["status"] == "finished"
    assert dt.datetime.fromisoformat(row["next_run"]) > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50)


class database_outage:  # noqa: N801 - used as a context manager like a function
    """Make the archive unreachable for new connections: a vanished SQLite file, a closed PostgreSQL database."""

    def __init__(self, url: str, request: pytest.FixtureRequest) -> None:
        self.url = make_url(url)
        self.request = request

    def __enter__(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            path = Path(self.url.database or "")
            path.rename(path.with_suffix(".away"))
        else:
            server: PostgresServer = self.request.getfixturevalue("postgres")
            server.set_connections_allowed(self.url.database or "", False)

    def __exit__(self, *exc: object) -> None:
        if self.url.get_backend_name() == "sqlite":
            path = Path(self.url.database or "")
            path.with_suffix(".away").rename(path)
        else:
            server: PostgresServer = self.request.getfixturevalue("postgres")
            server.set_connections_allowed(self.url.database or "", True)


def test_sighup_reloads_the_config_and_an_invalid_file_changes_nothing(
    tmp_path: Path, archive_url: str, reader: ArchiveReader, start_daemon: Callable[..., DaemonProcess]
) -> None:
    from replica import ReplicaServer

    with ReplicaServer(articles_per_site=3, per_page=5, seed=7, sites=["wm114", "zhongyi", "lixin"]) as server:
        path = tmp_path / "config.toml"
        write_daemon_config(path, server, archive_url, sites=["wm114", "zhongyi"])
        daemon = start_daemon(path)
        for site in ("wm114", "zhongyi"):
            wait_until(f"a run of {site}", lambda s=site: finished(reader, s), timeout=60)

        doc = replica_config([server.site_spec(n) for n in ("wm114", "zhongyi", "lixin")], archive_url)
        doc["crawl"].update({"autothrottle": False, "clean_workers": 0, "retries": 0})
        doc["daemon"] = {"shutdown_grace": 10, "misfire_grace": 60, "lease_seconds": 5}
        for site in doc["sites"]:
            site.update({"schedule": "every 3s", "jitter": 0})
        doc["sites"][0]["enabled"] = False  # wm114
        doc["sites"][1]["schedule"] = "every 1h"  # zhongyi
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")  # lixin is new
        mark = len(daemon.text())
        daemon.proc.send_signal(signal.SIGHUP)
        for line in (
            r"reload: site lixin added \(every 3s, jitter 0s\)",
            r"reload: site wm114 disabled",
            r"reload: site zhongyi schedule every 3s, jitter 0s -> every 1h, jitter 0s",
            r"schedule: site wm114 is no longer configured \(or disabled\); its job was removed",
        ):
            daemon.wait_for_log(line, start=mark)
        reloaded = dt.datetime.now(dt.UTC)
        wait_until("a run of the new site", lambda: finished(reader, "lixin"), timeout=60)
        time.sleep(7)  # two intervals of the old schedule
        late = [r for r in reader.runs() if r["site"] in ("wm114", "zhongyi") and r["started_at"] > reloaded]
        assert late == [], f"a disabled or rescheduled site was crawled after the reload: {late}"

        path.write_text("[archive\nthis is not TOML", encoding="utf-8")
        mark = len(daemon.text())
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log(r"config reload failed, the running configuration stays: .*invalid TOML", start=mark)
        broken = dt.datetime.now(dt.UTC)
        wait_until("lixin crawled with the running config", lambda: finished(reader, "lixin", after=broken), timeout=30)
        _status, text = daemon.get("/metrics")
        assert "speech_archive_config_reload_failed 1.0" in text
        assert daemon.proc.poll() is None, "SIGHUP never stops the daemon"
        assert daemon.stop() == 0
        assert reader.integrity_problems() == []
