"""The daemon's Prometheus metrics, in their own registry.

Counters count what this daemon process saw (Prometheus expects counters to
restart with the process); the last-success time per site is read from the
archive at start so it survives restarts; next-run times and the number of
running crawls are read live at each scrape.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.storage.dberrors import describe
from archive.storage.models import CrawlRun, Site
from scheduler.worker import RunResult

log = logging.getLogger(__name__)

OUTCOMES = ("finished", "failed", "timed_out", "interrupted", "skipped", "missed")
PAGE_ERROR_KINDS = ("fetch_error", "extraction_failed", "blocked")


@dataclass(frozen=True, eq=False)  # registered by identity, as any collector
class LiveValues(Collector):
    """Values asked of the running daemon at scrape time, not kept in counters: they are true only now."""

    next_runs: Callable[[], dict[str, dt.datetime | None]]
    running: Callable[[], int]
    scheduler_up: Callable[[], bool]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("speech_archive_scheduler_up", "1 while the scheduler is running.")
        up.add_metric([], 1.0 if self.scheduler_up() else 0.0)
        yield up
        running = GaugeMetricFamily("speech_archive_crawls_running", "Crawl processes running now.")
        running.add_metric([], float(self.running()))
        yield running
        nxt = GaugeMetricFamily(
            "speech_archive_next_run_timestamp_seconds", "When each site is crawled next (Unix time).", labels=["site"]
        )
        try:
            times = self.next_runs()
        except Exception as exc:  # a scrape must answer even when the job store is unreachable
            log.warning("metrics: could not read next run times: %s", describe(exc))
            times = {}
        for site, when in sorted(times.items()):
            if when is not None:
                nxt.add_metric([site], when.timestamp())
        yield nxt


class DaemonMetrics:
    """Runs by outcome, pages and versions archived, errors by kind, last success per site."""

    def __init__(self, live: LiveValues) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "speech_archive_crawl_runs",
            "Scheduled crawl runs by site and outcome.",
            ["site", "outcome"],
            registry=self.registry,
        )
        self.pages = Counter(
            "speech_archive_pages_captured", "Pages captured by scheduled crawls.", ["site"], registry=self.registry
        )
        self.versions = Counter(
            "speech_archive_versions_archived",
            "New page versions archived by scheduled crawls.",
            ["site"],
            registry=self.registry,
        )
        self.errors = Counter(
            "speech_archive_errors",
            "Errors by kind: page outcomes (fetch_error, extraction_failed, blocked) and crawl ends "
            "(crawl_failed, crawl_timed_out, daemon).",
            ["site", "kind"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "speech_archive_last_success_timestamp_seconds",
            "End of each site's last finished crawl (Unix time).",
            ["site"],
            registry=self.registry,
        )
        self.registry.register(live)

    def seed(self, session: Session, sites: Iterable[str]) -> None:
        """Show every site from the first scrape: zero counters, last success from the archive."""
        names = list(sites)
        for site in names:
            for outcome in OUTCOMES:
                self.runs.labels(site, outcome)
            self.pages.labels(site)
            self.versions.labels(site)
        last = session.execute(
            select(Site.name, func.max(CrawlRun.finished_at))
            .join(CrawlRun, CrawlRun.site_id == Site.id)
            .where(CrawlRun.status == "finished", Site.name.in_(names))
            .group_by(Site.name)
        )
        for site, finished in last:
            if finished is not None:
                when = finished if finished.tzinfo else finished.replace(tzinfo=dt.UTC)
                self.last_success.labels(site).set(when.timestamp())

    def observe(self, result: RunResult) -> None:
        """Count one run's end."""
        site = result.site
        self.runs.labels(site, result.outcome).inc()
        stats = result.stats or {}
        self.pages.labels(site).inc(int(stats.get("pages", 0) or 0))
        self.versions.labels(site).inc(int(stats.get("new_versions", 0) or 0))
        for kind, n in (stats.get("errors_by_kind") or {}).items():
            self.errors.labels(site, kind).inc(int(n))
        if result.outcome == "failed":
            self.errors.labels(site, "crawl_failed").inc()
        elif result.outcome == "timed_out":
            self.errors.labels(site, "crawl_timed_out").inc()
        elif result.outcome == "finished":
            self.last_success.labels(site).set((result.finished_at or dt.datetime.now(dt.UTC)).timestamp())

    def daemon_error(self, site: str) -> None:
        self.errors.labels(site, "daemon").inc()
