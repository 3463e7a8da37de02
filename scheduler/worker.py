"""One crawl child process per scheduled run: start it, bound it, stop it, record how it ended.

A child is ``python -m crawler`` (crawler/child.py): it receives the
configuration the daemon validated as one JSON request on stdin, takes the
site's lease, records its own run row exactly like a manual crawl, and answers
with one JSON result on stdout (Scrapy's reactor cannot restart in one process,
and a leak or crash in a crawl must not take the daemon down). The parent only
steps in when the child could not speak for itself: it was killed (``failed``),
overran ``crawl_timeout`` (``timed_out``) or was stopped by a daemon shutdown
(``interrupted``). Then the parent writes the reason into the child's run row
(or a new one if the child died before making one) and releases the child's
lease, so the next run need not wait for it to expire.

Children get their own session (process group): a Ctrl-C at the daemon's
terminal reaches the daemon only, which decides how to stop them; a stop that
needs force kills the child's whole group (its cleaning workers too).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.config import Config
from archive.storage.dberrors import describe
from archive.storage.engine import Archive
from archive.storage.leases import release_process_lease
from archive.storage.models import CrawlRun, Site, utcnow
from archive.storage.runs import start_run
from crawler.child import CrawlRequest, CrawlResult

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
MAX_LINE = 2000


def crawl_command(python: str = sys.executable) -> list[str]:
    """The command of a crawl child: the crawl layer's own entry point, never the command line."""
    return [python, "-m", "crawler"]


@dataclass(frozen=True)
class RunResult:
    """How one scheduled run ended, as the metrics and the log need it."""

    site: str
    outcome: str
    """finished / failed / timed_out / interrupted / skipped."""
    reason: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    finished_at: dt.datetime | None = None
    pid: int | None = None


@dataclass
class _Child:
    site: str
    proc: subprocess.Popen[str]
    spawned_at: dt.datetime
    deadline: float
    stop_reason: str | None = None
    """Set when the parent stops the child: 'timed_out' or 'interrupted'."""
    kill_at: float | None = None
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=20))
    stdout: list[str] = field(default_factory=list)
    run_id: int | None = None
    """The run the daemon recorded for this child before starting it."""

    def result(self) -> CrawlResult | None:
        """The child's JSON result (its last stdout line), or None when it did not write one."""
        for line in reversed(self.stdout):
            if line.strip().startswith("{"):
                try:
                    return CrawlResult.from_json(line)
                except (ValueError, TypeError):
                    return None
        return None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class CrawlSupervisor:
    """Starts crawl children, enforces the timeout, and stops them all on shutdown.

    ``run`` blocks its (scheduler worker) thread until the child ends; ``stop_all``
    and ``kill_all`` are called from the daemon's main thread on a signal.
    """

    def __init__(
        self, archive: Archive, config: Config, *, timeout: float, stop_grace: float, command: Sequence[str] = ()
    ) -> None:
        self.archive = archive
        self.config = config
        """The validated configuration every child crawls with (sent to it, never re-read from a file)."""
        self.command = list(command) or crawl_command()
        self.timeout = timeout
        self.stop_grace = stop_grace
        self.host = socket.gethostname()
        self._children: dict[int, _Child] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stopping = False

    # --- running one crawl ------------------------------------------------------------
    def run(self, site: str) -> RunResult:
        """Crawl ``site`` in a child process and return how the run ended."""
        with self._lock:
            if self._stopping:
                log.info("crawl skipped site=%s: the daemon is shutting down", site)
                return RunResult(site, "skipped", "the daemon is shutting down")
            proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            child = _Child(site, proc, utcnow(), time.monotonic() + self.timeout)
            self._children[proc.pid] = child
        child.run_id = self._record_start(child)
        log.info("crawl started site=%s pid=%d run=%s", site, proc.pid, child.run_id)
        readers = [
            threading.Thread(target=self._forward_output, args=(child,), name=f"crawl-{site}-log", daemon=True),
            threading.Thread(target=self._collect_result, args=(child,), name=f"crawl-{site}-out", daemon=True),
        ]
        for reader in readers:
            reader.start()
        self._send_request(child)
        try:
            self._wait(child)
            for reader in readers:
                reader.join(timeout=5)
            return self._record(child)
        finally:
            with self._lock:  # only now is the run's end on record: shutdown waits for this
                del self._children[proc.pid]
                self._idle.notify_all()

    def _record_start(self, child: _Child) -> int | None:
        """The run's row, written before the child gets its request: a child killed at once (with its
        daemon, say) still leaves a run, which the next start closes as interrupted (its pid is dead)."""
        try:
            with self.archive.session() as session:
                site_row = session.execute(select(Site).where(Site.name == child.site)).scalar_one_or_none()
                if site_row is None:
                    return None
                return start_run(session, site_row, "scheduled", pid=child.proc.pid).id
        except SQLAlchemyError as exc:
            log.warning("the run of %s could not be recorded before its start (%s); the crawl records it", child.site,
                        describe(exc))  # fmt: skip
            return None

    def _send_request(self, child: _Child) -> None:
        assert child.proc.stdin is not None
        run_ids = {child.site: child.run_id} if child.run_id is not None else {}
        try:
            child.proc.stdin.write(CrawlRequest.of(self.config, [child.site], run_ids=run_ids).to_json())
            child.proc.stdin.close()
        except (BrokenPipeError, OSError) as exc:  # the child died at once; its exit code tells the rest
            log.warning("could not send the crawl request to pid %d: %s", child.proc.pid, exc)

    def _collect_result(self, child: _Child) -> None:
        assert child.proc.stdout is not None
        for line in child.proc.stdout:
            if line.strip():
                child.stdout[-4:] = [*child.stdout[-3:], line.rstrip("\n")]

    def _forward_output(self, child: _Child) -> None:
        """Relay the child's log lines into the daemon's log, keeping the last ones for a failure reason.

        A child's warnings and errors stay warnings in the daemon's log (so ``-q`` keeps them);
        very long lines (an item's repr in a Scrapy error) are cut.
        """
        assert child.proc.stderr is not None
        for raw in child.proc.stderr:
            line = raw.rstrip()
            if not line:
                continue
            if len(line) > MAX_LINE:
                line = f"{line[:MAX_LINE]}… ({len(line) - MAX_LINE} more characters)"
            child.tail.append(line)
            loud = any(f"level={lv}" in line for lv in ("WARNING", "ERROR", "CRITICAL"))
            log.log(logging.WARNING if loud else logging.INFO, "[%s %d] %s", child.site, child.proc.pid, line)

    def _wait(self, child: _Child) -> None:
        while True:
            try:
                child.proc.wait(timeout=POLL_SECONDS)
                return
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            with self._lock:
                if child.stop_reason is None and now >= child.deadline:
                    log.warning("crawl of %s exceeded crawl_timeout (%d s); stopping it", child.site, self.timeout)
                    self._terminate(child, "timed_out", self.stop_grace)
                if child.kill_at is not None and now >= child.kill_at:
                    log.warning("crawl of %s did not stop within %.0f s; killing it", child.site, self.stop_grace)
                    self._kill(child)

    def _terminate(self, child: _Child, reason: str, grace: float) -> None:
        """Ask a child to stop (Scrapy closes its spiders and records 'interrupted'); force it after ``grace``."""
        child.stop_reason = child.stop_reason or reason
        child.kill_at = time.monotonic() + grace
        with contextlib.suppress(ProcessLookupError):
            child.proc.send_signal(signal.SIGTERM)

    def _kill(self, child: _Child) -> None:
        child.kill_at = None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.proc.pid, signal.SIGKILL)

    # --- stopping everything ----------------------------------------------------------
    def stop_all(self, grace: float) -> int:
        """Refuse new runs; ask running children to stop, killing those still alive after ``grace``."""
        with self._lock:
            self._stopping = True
            for child in self._children.values():
                self._terminate(child, "interrupted", grace)
            return len(self._children)

    def kill_all(self) -> None:
        with self._lock:
            self._stopping = True
            for child in self._children.values():
                child.stop_reason = child.stop_reason or "interrupted"
                self._kill(child)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no run is in progress (its record written); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._children:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._children)

    # --- recording the end ------------------------------------------------------------
    def _reason(self, child: _Child, result: CrawlResult | None) -> tuple[str, str] | None:
        """The status and reason the parent must record, or None when the child's own record stands."""
        rc, pid = child.proc.returncode, child.proc.pid
        if child.stop_reason == "timed_out":
            return "timed_out", f"crawl exceeded [daemon] crawl_timeout ({self.timeout:.0f} s); process {pid} stopped"
        if child.stop_reason == "interrupted":
            return "interrupted", f"the daemon shut down; crawl process {pid} was stopped before the end"
        if rc < 0:
            return "failed", f"crawl process {pid} was killed by {_signal_name(-rc)}"
        if result is None:
            last = child.tail[-1] if child.tail else "no output"
            return "failed", f"crawl process {pid} exited with code {rc} without a result: {last}"
        if result.error and not result.sites:
            return "failed", f"crawl process {pid} could not crawl: {result.error}"
        return None

    def _record(self, child: _Child) -> RunResult:
        pid, site = child.proc.pid, child.site
        answer = child.result()
        own = answer.sites.get(site) if answer is not None else None
        if own is not None and own.status == "skipped" and child.stop_reason is None:
            log.info("crawl skipped site=%s: %s", site, own.error)
            self._forget_start(child)
            return RunResult(site, "skipped", own.error, pid=pid)
        override = self._reason(child, answer)
        if override is None and own is not None and own.status not in ("running", "skipped"):
            # The child's verdict, for a run row it could not close itself (the archive was away).
            override = (own.status, own.error or "")
        try:
            with self.archive.session() as session:
                release_process_lease(session, site, pid, self.host)
                rows = list(
                    session.execute(
                        select(CrawlRun)
                        .where(
                            CrawlRun.pid == pid,
                            CrawlRun.host == self.host,
                            CrawlRun.started_at >= child.spawned_at - dt.timedelta(seconds=2),
                        )
                        .order_by(CrawlRun.id)
                    ).scalars()
                )
                if override is not None:
                    rows = self._apply(session, child, rows, override)
                results = [RunResult(site, r.status, r.error, dict(r.stats or {}), r.finished_at, pid) for r in rows]
        except SQLAlchemyError as exc:
            log.error("could not record the end of the crawl of %s: %s", site, describe(exc))
            status, reason = override or ("failed", "the run could not be read back from the archive")
            return RunResult(site, status, reason, pid=pid)
        if not results:
            return RunResult(site, "failed", f"crawl process {pid} ended without recording a run", pid=pid)
        result = results[-1]
        level = logging.INFO if result.outcome == "finished" else logging.WARNING
        stats = result.stats
        log.log(
            level,
            "crawl ended site=%s pid=%d outcome=%s pages=%s new_versions=%s errors=%s%s",
            site,
            pid,
            result.outcome,
            stats.get("pages", 0),
            stats.get("new_versions", 0),
            stats.get("errors", 0),
            f" reason={result.reason}" if result.reason else "",
        )
        return result

    def _forget_start(self, child: _Child) -> None:
        """A child that did not crawl (another process held the lease) leaves no run: drop the one made for it."""
        if child.run_id is None:
            return
        try:
            with self.archive.session() as session:
                run = session.get(CrawlRun, child.run_id)
                if run is not None and run.status == "running":
                    session.delete(run)
        except SQLAlchemyError as exc:
            log.warning("could not remove the unused run %d: %s", child.run_id, describe(exc))

    def _apply(self, session: Session, child: _Child, rows: list[CrawlRun], verdict: tuple[str, str]) -> list[CrawlRun]:
        """Write the parent's verdict into the child's unfinished runs (or a new run if it made none)."""
        site, pid = child.site, child.proc.pid
        status, reason = verdict
        if not rows:
            site_row = session.execute(select(Site).where(Site.name == site)).scalar_one_or_none()
            if site_row is None:
                return []
            rows = [start_run(session, site_row, "scheduled", pid=pid)]
        own = child.result()
        stats = own.sites[site].stats if own is not None and site in own.sites else {}
        for run in rows:
            # A SIGKILLed child cannot have closed its run; 'interrupted' then came from another
            # process's dead-run sweep, and the parent knows better why it ended.
            if run.status == "running" or (run.status == "interrupted" and status != "interrupted"):
                run.status, run.error, run.finished_at = status, reason or None, utcnow()
                if stats:
                    run.stats = dict(stats)
        session.flush()
        return rows
