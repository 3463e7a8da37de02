"""The soak (`speech-archive soak --minutes N`, and a two-minute run in `make test`): a daemon for a while.

A real daemon process crawls the five replica sites on a few-second schedule
while faults come and go (500s, slow bodies, truncated bodies, bad bytes,
challenge pages, redirect loops, new and edited articles, a write lock held on
the archive), then gets SIGTERM. What it checks, from the daemon's log and the
archive:

- every scheduled run that was started is recorded exactly once (a ``crawl
  started … run=R`` line per run row, no row without a start), and every due run
  was started or logged as skipped;
- no two runs of one site overlap;
- no run is left ``running`` after SIGTERM, and the daemon exits 0 within
  ``shutdown_grace`` plus a margin;
- the daemon's RSS and open file descriptors stay flat after warm-up.

The daemon is started as ``python -m speech_archive daemon``: a process, not an
import of the command line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from replica import ReplicaServer, replica_config

RSS_GROWTH_LIMIT_MB = 15.0
"""RSS may grow this much from warm-up to the end (allocator noise, caches filling) and still be flat."""
FD_GROWTH_LIMIT = 5
POOLED_CONNECTIONS = 5 + 5 + 8
"""SQLite connections the daemon may keep open: the archive's and the job store's
engines (SQLAlchemy's default pool of 5 each) and the browser's read-only one (8).
Each holds the database and its WAL open, and a pool grows to its size only when
that many requests overlap, so its files are judged against this bound, not as a leak."""
FAULTS = ("status", "slow", "truncated", "bad_bytes", "challenge", "redirect_loop")


@dataclass
class SoakReport:
    """What a soak saw; ``problems()`` is empty when it held."""

    seconds: float = 0.0
    sites: int = 0
    due: dict[str, int] = field(default_factory=dict)
    started: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    recorded: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    left_running: int = 0
    faults: int = 0
    stop_seconds: float = 0.0
    exit_code: int | None = None
    rss_mb: list[float] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)
    """Open files other than the archive database's (its pooled connections are counted apart) and the pipes
    to crawl children running at the sample."""
    db_connections: list[int] = field(default_factory=list)
    warm_samples: int = 0

    def _median(self, values: list[float], last: bool) -> float:
        part = values[self.warm_samples :]
        window = part[-3:] if last else part[:3]
        return statistics.median(window) if window else 0.0

    @property
    def rss_growth_mb(self) -> float:
        return round(self._median(self.rss_mb, True) - self._median(self.rss_mb, False), 1)

    @property
    def fd_growth(self) -> int:
        """How far the floor of open files rose after warm-up.

        The pipes to crawl children running at a sample are not counted, but a child
        can start between the two reads of a sample; a leak raises every later sample,
        so it shows in the floor: the fewest open in the last third of the samples
        against the first third.
        """
        after = self.fds[self.warm_samples :]
        if len(after) < 3:
            return 0
        third = max(len(after) // 3, 1)
        return min(after[-third:]) - min(after[:third])

    def problems(self) -> list[str]:
        found: list[str] = []
        for site, due in sorted(self.due.items()):
            accounted = self.started.get(site, 0) + self.skipped.get(site, 0)
            if accounted != due:
                found.append(f"{site}: {due} runs due, {accounted} started or skipped")
            if self.started.get(site, 0) != self.recorded.get(site, 0):
                found.append(f"{site}: {self.started.get(site, 0)} runs started, {self.recorded.get(site, 0)} recorded")
        if not any(self.started.values()):
            found.append("no run was started")
        found += [f"run not matched to a start: {u}" for u in self.unmatched]
        found += [f"overlap: {o}" for o in self.overlaps]
        if self.left_running:
            found.append(f"{self.left_running} run(s) left running after SIGTERM")
        if self.exit_code != 0:
            found.append(f"the daemon exited {self.exit_code}")
        if self.rss_growth_mb > RSS_GROWTH_LIMIT_MB:
            found.append(f"RSS grew {self.rss_growth_mb} MB after warm-up (limit {RSS_GROWTH_LIMIT_MB})")
        if self.fd_growth > FD_GROWTH_LIMIT:
            found.append(f"open files grew by {self.fd_growth} after warm-up (limit {FD_GROWTH_LIMIT})")
        if max(self.db_connections, default=0) > POOLED_CONNECTIONS:
            found.append(
                f"{max(self.db_connections)} database connections open at once (pools keep {POOLED_CONNECTIONS})"
            )
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "rss_growth_mb": self.rss_growth_mb,
            "fd_growth": self.fd_growth,
            "problems": self.problems(),
        }

    def _fd_range(self) -> str:
        after = self.fds[self.warm_samples :]
        return f"{min(after)}-{max(after)}" if after else "not sampled"

    def lines(self) -> list[str]:
        rss_from, rss_to = self._median(self.rss_mb, False), self._median(self.rss_mb, True)
        return [
            f"soak: {self.seconds:.0f} s, {self.sites} sites, {self.faults} faults toggled",
            f"runs: {sum(self.due.values())} due, {sum(self.started.values())} started, "
            f"{sum(self.skipped.values())} skipped, {sum(self.recorded.values())} recorded; by status {self.statuses}",
            f"daemon RSS after warm-up: {rss_from:.1f} -> {rss_to:.1f} MB "
            f"(growth {self.rss_growth_mb} MB); open files besides the database's {self._fd_range()}, floor grew by "
            f"{self.fd_growth}; database connections {min(self.db_connections, default=0)}-"
            f"{max(self.db_connections, default=0)} (pools keep up to {POOLED_CONNECTIONS})",
            f"SIGTERM: exit {self.exit_code} in {self.stop_seconds:.1f} s; runs left running: {self.left_running}",
            "result: " + ("held" if not self.problems() else "; ".join(self.problems())),
        ]


def _links(pid: str | int) -> list[str]:
    """What each open file of a process is; files closing meanwhile skipped."""
    found: list[str] = []
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                found.append(os.readlink(fd))
    return found


def _children_pipes(pid: int) -> set[str]:
    """The pipes a process's live children hold: the daemon's ends of them are the crawls' own, not leaks."""
    kids: list[str] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                kids += (task / "children").read_text().split()
    return {link for kid in kids for link in _links(kid) if link.startswith("pipe:")}


def _proc_sample(pid: int, db: Path) -> tuple[float, int, int] | None:
    """RSS in MB; open files other than the database's and the pipes to running crawls; database connections."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    links = _links(pid)
    children = _children_pipes(pid)
    rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    own = str(db)
    others = [link for link in links if not link.startswith(own) and link not in children]
    return rss / 1024, len(others), sum(1 for link in links if link == own)


class _Faults:
    """Toggles replica faults and a held write lock, one change at a time."""

    def __init__(self, server: ReplicaServer, db: Path, seed: int) -> None:
        self.server = server
        self.db = db
        self.rng = random.Random(seed)
        self.count = 0

    def toggle(self) -> None:
        self.count += 1
        server, rng = self.server, self.rng
        site = rng.choice(server.site_names())
        choice = rng.random()
        if choice < 0.15:
            server.clear_faults()
        elif choice < 0.3:
            server.add_articles(site, rng.randint(1, 3))
        elif choice < 0.4:
            server.edit_article(site, rng.choice(server.article_ids(site)[:5]))
        elif choice < 0.5:
            self._hold_lock(rng.uniform(0.5, 2.0))
        else:
            aid = rng.choice(server.article_ids(site))
            path = server.article_url(site, aid).removeprefix(server.base_url(site))
            kind = rng.choice(FAULTS)
            params: dict[str, Any] = {"delay": 2.0} if kind == "slow" else {}
            server.set_fault(site, path, kind, times=rng.randint(1, 3), **params)

    def _hold_lock(self, seconds: float) -> None:
        """Another process writing for a while: crawls wait on the busy timeout (or pause and retry)."""
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(self.db, timeout=5, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                time.sleep(seconds)
                conn.execute("COMMIT")
            finally:
                conn.close()


def _write_config(path: Path, server: ReplicaServer, db: Path, interval: int) -> None:
    doc = replica_config([server.site_spec(n) for n in server.site_names()], f"sqlite:///{db}")
    doc["crawl"].update({"autothrottle": False, "clean_workers": 0, "retries": 0, "timeout": 5, "retry_backoff": 0.2})
    doc["archive"].update({"write_retry_seconds": 60})
    doc["daemon"] = {"shutdown_grace": 10, "misfire_grace": 60, "lease_seconds": 30, "crawl_timeout": 120}
    for site in doc["sites"]:
        site.update({"schedule": f"every {interval}s", "jitter": 0})
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")


def _analyse(report: SoakReport, log: str, stop_at: int, db: Path) -> None:
    before_stop = log[:stop_at]
    for site in re.findall(r"crawl due site=(\S+) ", before_stop):
        report.due[site] = report.due.get(site, 0) + 1
    starts = re.findall(r"crawl started site=(\S+) pid=(\d+) run=(\S+)", log)
    for site, _pid, _run in starts:
        report.started[site] = report.started.get(site, 0) + 1
    for site in re.findall(r"crawl skipped site=(\S+?):", before_stop):
        report.skipped[site] = report.skipped.get(site, 0) + 1
    for site in re.findall(r"crawl of (\S+) (?:not started|could not be started)", before_stop):
        report.skipped[site] = report.skipped.get(site, 0) + 1
    engine = create_engine(f"sqlite:///{db}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT r.id, s.name, r.status, r.started_at, r.finished_at FROM crawl_runs r "
                    "JOIN sites s ON s.id = r.site_id WHERE r.trigger = 'scheduled' ORDER BY r.id"
                )
            ).all()
    finally:
        engine.dispose()
    started_ids = {int(run) for _s, _p, run in starts if run.isdigit()}
    report.statuses = dict(Counter(r.status for r in rows))
    report.left_running = sum(r.status == "running" for r in rows)
    for r in rows:
        report.recorded[r.name] = report.recorded.get(r.name, 0) + 1
        if r.id not in started_ids:
            report.unmatched.append(f"run {r.id} of {r.name}")
    by_site: dict[str, list[Any]] = {}
    for r in rows:
        by_site.setdefault(r.name, []).append(r)
    for site, runs in by_site.items():
        for a, b in itertools.pairwise(runs):
            if a.finished_at is not None and str(a.finished_at) > str(b.started_at):
                report.overlaps.append(f"{site}: run {a.id} ended after run {b.id} started")


def run_soak(
    minutes: float,
    workdir: Path,
    *,
    interval: int = 4,
    fault_every: float = 6.0,
    sample_every: float = 2.0,
    warm_up: float = 30.0,
    seed: int = 0,
    echo: Callable[[str], None] = lambda _msg: None,
) -> SoakReport:
    """Run a daemon on the five replica sites for ``minutes`` with faults toggled; report what held."""
    report = SoakReport()
    db, config, log_path = workdir / "soak.sqlite3", workdir / "soak.toml", workdir / "daemon.log"
    with ReplicaServer(articles_per_site=8, per_page=4, seed=seed, page_kb=10) as server:
        report.sites = len(server.site_names())
        _write_config(config, server, db, interval)
        faults = _Faults(server, db, seed)
        with log_path.open("wb") as out:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "speech_archive", "daemon", "--config", str(config), "--listen", "127.0.0.1:0"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            started = time.monotonic()
            deadline = started + minutes * 60
            next_fault, next_sample = started + fault_every, started
            try:
                while time.monotonic() < deadline and daemon.poll() is None:
                    now = time.monotonic()
                    if now >= next_sample:
                        sample = _proc_sample(daemon.pid, db)
                        if sample is not None:
                            report.rss_mb.append(round(sample[0], 1))
                            report.fds.append(sample[1])
                            report.db_connections.append(sample[2])
                            if now - started < warm_up:
                                report.warm_samples = len(report.rss_mb)
                        next_sample = now + sample_every
                    if now >= next_fault:
                        faults.toggle()
                        next_fault = now + fault_every
                    time.sleep(0.2)
                stop_at = len(log_path.read_bytes())
                stopping = time.monotonic()
                daemon.send_signal(signal.SIGTERM)
                report.exit_code = daemon.wait(timeout=120)
                report.stop_seconds = time.monotonic() - stopping
            finally:
                if daemon.poll() is None:
                    daemon.kill()
                    daemon.wait(timeout=30)
        report.seconds = time.monotonic() - started
        report.faults = faults.count
    log = log_path.read_text(encoding="utf-8", errors="replace")
    _analyse(report, log, len(log.encode()[:stop_at].decode(errors="replace")), db)
    echo(f"soak finished at {dt.datetime.now(dt.UTC):%H:%M:%S} UTC; daemon log: {log_path}")
    return report
