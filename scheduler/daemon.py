"""The always-on daemon: start-up, the wait for a signal, and an orderly shutdown.

Start-up order matters: the listen address is bound first and the archive opened
(and migrated) second, so a busy port or a bad database URL fails before anything
is scheduled. One uvicorn server on that address serves ``/healthz``, ``/metrics``
and the read-only archive browser (archive/browse/), with its connection limit and
timeouts. The scheduler starts *paused*, the stored jobs are reconciled with the
config, and only then does it resume, so a removed site never gets one last run.
Runs missed while the daemon was down are due at resume; APScheduler coalesces
each job's missed runs into one if the latest is within ``misfire_grace``.

On SIGTERM or SIGINT: stop scheduling, ask running crawls to stop (they finish
the page in flight and record ``interrupted``), kill those still running after
``shutdown_grace``, record them, exit 0. A second signal kills the crawls now.
Page writes are one transaction each, so no stop leaves half a page.

On SIGHUP the configuration file is read and validated again (scheduler/reload.py):
the changes are logged and applied to the jobs; an invalid file is logged and
changes nothing (the running configuration stays, and so do the crawls).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette

from archive.browse import BrowseOptions, ReadOnlyArchive, WebServer, bind, create_app, is_local
from archive.config import Config
from archive.errors import ConfigError, SpeechArchiveError, UsageError
from archive.storage.dberrors import archive_error, describe
from archive.storage.engine import Archive, make_engine
from archive.storage.leases import current_lease, holder_is_dead
from archive.storage.models import CrawlRun
from archive.storage.queries import sites_losing_captures
from archive.storage.runs import close_dead_runs, sync_sites
from scheduler.health import HEALTH_PATHS, Cached, DatabaseProbe, health_routes
from scheduler.jobs import install_runner, log_reconciled, reconcile_jobs, stop_scheduler
from scheduler.jobstore import JOBS_TABLE, site_of_job
from scheduler.metrics import DaemonMetrics, LiveValues
from scheduler.reload import config_changes, keep_fixed
from scheduler.worker import CrawlSupervisor, RunResult

log = logging.getLogger(__name__)

RECORD_SLACK = 15.0
"""Seconds after the kill deadline that shutdown waits for the runs' records to be written."""


def parse_listen(value: str, where: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) → (host, port); ``where`` names the setting in the error."""
    host, sep, port = value.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        error = UsageError if where.startswith("--") else ConfigError
        raise error(f"{where}: {value!r} is not HOST:PORT; use e.g. '127.0.0.1:9464' (port 0 picks a free one)")
    return host, int(port)


class Daemon:
    """One daemon process: the scheduler, the crawl supervisor, the health server."""

    def __init__(
        self,
        config: Config,
        config_path: Path,
        listen: tuple[str, int],
        *,
        listen_setting: str,
        reload: Callable[[], Config] | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.reload = reload
        """Reads and validates the configuration again (the command line's loader), for SIGHUP."""
        self.reload_error: str | None = None
        self.settings = config.daemon
        self.sites = [s for s in config.sites if s.enabled]
        self.scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=make_engine(config.archive.database_url), tablename=JOBS_TABLE)
            },
            # Threads start only when needed; the headroom is for sites a reload adds.
            executors={"default": ThreadPoolExecutor(max_workers=max(1, len(self.sites)) + 16)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": self.settings.misfire_grace},
            timezone=dt.UTC,
        )
        live = LiveValues(self._next_runs, lambda: self.supervisor.running, self._scheduler_alive)
        self.metrics = DaemonMetrics(live)
        try:  # the port first: a busy port fails before the archive is touched
            sock = bind(listen[0], listen[1])
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {listen[0]}:{listen[1]} ({exc.strerror}); set {listen_setting} to a free address"
            ) from None
        try:
            self.archive = Archive(config.archive.database_url)
            self.web = WebServer(self._web_app(listen[0]), sock, config.web, access_log=False)
        except BaseException:
            sock.close()
            raise
        self.probe = DatabaseProbe(config.archive.database_url)
        self.behind = Cached(self._sites_behind, seconds=5.0)
        self.supervisor = CrawlSupervisor(
            self.archive, config, timeout=self.settings.crawl_timeout, stop_grace=self.settings.shutdown_grace
        )
        self._stop = threading.Event()
        self._reload_wanted = threading.Event()
        self._signals = 0
        self._reload_gauge = Gauge(
            "speech_archive_config_reload_failed",
            "1 when the last SIGHUP reload found an invalid configuration (the previous one still runs).",
            registry=self.metrics.registry,
        )

    def _web_app(self, host: str) -> Starlette:
        """/healthz and /metrics, and the archive browser beside them when it may be served here.

        Beyond localhost everything needs ``[web] token``, except the health endpoints for
        clients on this machine (a container's own HEALTHCHECK); without a token the browser
        is not served there and others get nothing (Prometheus sends the token as a bearer).
        """
        web = self.config.web
        local = is_local(host)
        self.browsing = web.in_daemon and (local or web.token is not None)
        if web.in_daemon and not self.browsing:
            log.warning("archive browser not served on %s: beyond localhost it needs [web] token", host)
        options = BrowseOptions(
            page_size=web.page_size,
            token=web.token,
            next_runs=lambda _conn: self._next_runs(),
            extra_routes=health_routes(self._health, self.metrics.registry, notes=self._health_notes),
            open_paths=HEALTH_PATHS if local else (),
            loopback_paths=() if local else HEALTH_PATHS,
            public=not local,
            browse=self.browsing,
        )
        return create_app(ReadOnlyArchive(self.config.archive.database_url), options)

    # --- what the scheduler and the health server call --------------------------------
    def crawl(self, site: str) -> None:
        """Run one scheduled crawl of ``site`` (on a scheduler worker thread)."""
        if self._stop.is_set():
            log.info("crawl skipped site=%s: the daemon is stopping", site)
            return
        try:
            with self.archive.session() as session:
                held = current_lease(session, site)
        except SQLAlchemyError as exc:
            log.error("crawl of %s not started: the archive is unreachable (%s)", site, describe(exc))
            self.metrics.daemon_error(site)
            return
        if held is not None and holder_is_dead(held.pid, held.host):
            log.info("site %s: the lease holder %s is no longer running; its lease is taken over", site, held.holder)
        elif held is not None:
            log.info(
                "crawl skipped site=%s: %s holds its lease until %s",
                site,
                held.holder,
                f"{held.expires_at:%H:%M:%S} UTC",
            )
            self.metrics.observe(RunResult(site, "skipped", f"lease held by {held.holder}"))
            return
        try:
            result = self.supervisor.run(site)
        except OSError as exc:
            log.error("crawl of %s could not be started: %s", site, exc)
            self.metrics.daemon_error(site)
            return
        self.metrics.observe(result)

    def _scheduler_alive(self) -> bool:
        thread = getattr(self.scheduler, "_thread", None)  # BackgroundScheduler keeps no public handle on it
        return self.scheduler.state == STATE_RUNNING and thread is not None and thread.is_alive()

    def _health(self) -> dict[str, str]:
        """What decides 200 or 503. The database's reason stays in the log: it can name hosts and ports."""
        problem = self.probe.problem()
        return {
            "scheduler": "ok" if self._scheduler_alive() else "not running",
            "database": "ok" if problem is None else "unreachable (the daemon's log says why)",
        }

    def _sites_behind(self) -> dict[str, str]:
        try:
            with self.archive.session() as session:
                return sites_losing_captures(session)
        except SQLAlchemyError:
            return {}  # the database check reports this

    def _health_notes(self) -> dict[str, Any]:
        """What an operator should see but a restart would not fix: sites behind, a config edit not applied."""
        notes: dict[str, Any] = {}
        behind = self.behind.value()
        if behind:
            notes["sites_behind"] = behind
        if self.reload_error:
            notes["config_reload"] = "the last SIGHUP found an invalid config; the previous one still runs"
        return notes

    def _next_runs(self) -> dict[str, dt.datetime | None]:
        return {site_of_job(job.id) or job.id: job.next_run_time for job in self.scheduler.get_jobs()}

    def _on_event(self, event: JobEvent) -> None:
        site = site_of_job(event.job_id) or event.job_id
        if event.code == EVENT_JOB_SUBMITTED and isinstance(event, JobSubmissionEvent):
            due = event.scheduled_run_times[-1]
            late = (dt.datetime.now(dt.UTC) - due).total_seconds()
            log.info(
                "crawl due site=%s scheduled=%s late=%.1fs runs=%d",
                site,
                due.astimezone(dt.UTC).isoformat(),
                late,
                len(event.scheduled_run_times),
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.metrics.observe(RunResult(site, "skipped", "the previous run is still going"))
        elif event.code == EVENT_JOB_MISSED and isinstance(event, JobExecutionEvent):
            log.warning(
                "crawl of %s due at %s missed by more than misfire_grace (%d s); not run",
                site,
                event.scheduled_run_time,
                self.settings.misfire_grace,
            )
            self.metrics.observe(RunResult(site, "missed"))
        elif event.code == EVENT_JOB_ERROR:
            self.metrics.daemon_error(site)

    # --- life cycle -------------------------------------------------------------------
    def _prepare(self) -> set[str]:
        """Sites rows, dead runs closed, metrics seeded; return the sites never crawled."""
        with self.archive.session() as session:
            rows = sync_sites(session, self.config.sites)
            closed = close_dead_runs(session)
            if closed:
                log.warning("marked %d run(s) left by dead crawl processes as interrupted", closed)
            crawled = set(session.execute(select(CrawlRun.site_id).distinct()).scalars())
            self.metrics.seed(session, [s.name for s in self.sites])
        return {name for name, row in rows.items() if row.id not in crawled}

    def run(self) -> int:
        never_crawled = self._prepare()
        install_runner(self.crawl)
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED | EVENT_JOB_ERROR
        )
        try:
            self.scheduler.start(paused=True)
            result = reconcile_jobs(
                self.scheduler, self.sites, never_crawled, self.settings.misfire_grace, dt.datetime.now(dt.UTC)
            )
        except SQLAlchemyError as exc:
            self._close()
            raise archive_error(exc, "cannot use the job store in the archive database") from None
        log_reconciled(result)
        previous = self._install_signals()
        self.scheduler.resume()
        self.web.start()
        host, port = self.web.address
        log.info(
            "daemon running: %d site(s); health and metrics on http://%s:%d/healthz and /metrics%s",
            len(self.sites),
            host,
            port,
            f"; archive browser on http://{host}:{port}/" if self.browsing else "",
        )
        if self.browsing and not is_local(host):
            log.warning("the archive browser is reachable beyond this machine; every page needs the [web] token")
        if not self.sites:
            log.warning("no enabled sites in %s; nothing will be crawled", self.config.source)
        try:
            while not self._stop.wait(1.0):
                if self._reload_wanted.is_set():
                    self._reload_wanted.clear()
                    self._reload()
            self._shutdown()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._close()
        return 0

    def _install_signals(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, self._on_signal)
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda _s, _f: self._reload_wanted.set())
        return previous

    def _reload(self) -> None:
        """Read the configuration again; apply it, or keep the running one when it is invalid."""
        log.info("received SIGHUP: reading %s again", self.config_path)
        if self.reload is None:
            log.warning("this daemon cannot reload its configuration; restart it to apply changes")
            return
        try:
            fresh = self.reload()
        except SpeechArchiveError as exc:
            self.reload_error = str(exc)
            self._reload_gauge.set(1)
            log.error("config reload failed, the running configuration stays: %s", exc)
            return
        fresh, notes = keep_fixed(self.config, fresh)
        for note in notes:
            log.warning("reload: %s", note)
        changes = config_changes(self.config, fresh)
        for line in changes:
            log.info("reload: %s", line)
        try:
            self._apply(fresh)
        except SQLAlchemyError as exc:
            self.reload_error = f"the archive could not be updated: {describe(exc)}"
            self._reload_gauge.set(1)
            log.error("config reload not applied, the running configuration stays: %s", self.reload_error)
            return
        self.reload_error = None
        self._reload_gauge.set(0)
        log.info("reload: done, %d change(s)", len(changes))

    def _apply(self, fresh: Config) -> None:
        sites = [s for s in fresh.sites if s.enabled]
        with self.archive.session() as session:
            rows = sync_sites(session, fresh.sites)
            crawled = set(session.execute(select(CrawlRun.site_id).distinct()).scalars())
            self.metrics.seed(session, [s.name for s in sites])
        never_crawled = {name for name, row in rows.items() if row.id not in crawled}
        self.scheduler.pause()
        try:
            result = reconcile_jobs(
                self.scheduler, sites, never_crawled, fresh.daemon.misfire_grace, dt.datetime.now(dt.UTC)
            )
        finally:
            self.scheduler.resume()
        log_reconciled(result)
        self.config, self.settings, self.sites = fresh, fresh.daemon, sites
        self.supervisor.config = fresh  # the next children crawl with it
        self.supervisor.timeout = fresh.daemon.crawl_timeout
        self.supervisor.stop_grace = fresh.daemon.shutdown_grace

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals == 1:
            log.info("received %s: shutting down", signal.Signals(signum).name)
            self._stop.set()
        else:
            log.warning("received %s again: killing running crawls now", signal.Signals(signum).name)
            self.supervisor.kill_all()

    def _shutdown(self) -> None:
        grace = self.settings.shutdown_grace
        stop_scheduler(self.scheduler)  # no new runs; the job store keeps each next_run_time
        running = self.supervisor.stop_all(grace)
        if running:
            log.info("waiting up to %d s for %d running crawl(s) to finish their page in flight", grace, running)
        if not self.supervisor.wait_idle(grace + RECORD_SLACK):
            log.error("some crawls did not end in time; their runs are closed by the next start")
        log.info("daemon stopped")

    def _close(self) -> None:
        install_runner(None)
        self.web.stop()
        self.probe.close()
        self.archive.close()


def run_daemon(
    config: Config,
    config_path: Path,
    listen: tuple[str, int],
    *,
    listen_setting: str,
    reload: Callable[[], Config] | None = None,
) -> int:
    """Run the daemon in the foreground until SIGTERM/SIGINT (SIGHUP reloads); return the exit code."""
    return Daemon(config, config_path, listen, listen_setting=listen_setting, reload=reload).run()


__all__: Sequence[str] = ("Daemon", "parse_listen", "run_daemon")
