"""Live counters of a crawl, its terminal display and its end-of-run summary.

On a terminal a rich table refreshes in place; otherwise a structured log
line per site is written every few seconds, so a daemon's log shows progress.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

log = logging.getLogger(__name__)

ERROR_OUTCOMES = ("fetch_error", "extraction_failed", "blocked")


@dataclass
class SiteReport:
    site: str
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    new_pages: int = 0
    bytes: int = 0
    status: str = "running"
    error: str | None = None
    run_id: int | None = None
    list_ok: int = 0
    list_errors: list[str] = field(default_factory=list)
    requests: int = 0
    bytes_received: int = 0

    @property
    def pages(self) -> int:
        return sum(self.outcomes.values())

    @property
    def errors(self) -> int:
        return sum(self.outcomes[o] for o in ERROR_OUTCOMES)

    @property
    def rate(self) -> float:
        elapsed = (self.finished or time.monotonic()) - self.started
        return self.pages / elapsed if elapsed > 0 else 0.0

    def stats(self) -> dict[str, Any]:
        """The run record's stats: counts by outcome plus totals."""
        return {
            "pages": self.pages,
            "new_pages": self.new_pages,
            "new_versions": self.outcomes["new_version"],
            "unchanged": self.outcomes["unchanged"],
            "not_modified": self.outcomes["not_modified"],
            "errors": self.errors,
            "errors_by_kind": {o: self.outcomes[o] for o in ERROR_OUTCOMES if self.outcomes[o]},
            "bytes": self.bytes,
            "requests": self.requests,
            "bytes_received": self.bytes_received,
            "seconds": round((self.finished or time.monotonic()) - self.started, 3),
            "list_pages": self.list_ok,
            "list_errors": len(self.list_errors),
        }


class CrawlReport:
    """All sites of one crawl command."""

    def __init__(self, sites: list[str]) -> None:
        self.sites = {name: SiteReport(name) for name in sites}

    def table(self) -> Table:
        table = Table(title="speech-archive crawl", expand=False)
        for col in (
            "site",
            "status",
            "pages",
            "new pages",
            "new versions",
            "unchanged",
            "not mod.",
            "errors",
            "pages/s",
        ):
            table.add_column(col, justify="left" if col in ("site", "status") else "right")
        for r in self.sites.values():
            table.add_row(
                r.site,
                r.status,
                str(r.pages),
                str(r.new_pages),
                str(r.outcomes["new_version"]),
                str(r.outcomes["unchanged"]),
                str(r.outcomes["not_modified"]),
                str(r.errors),
                f"{r.rate:.1f}",
            )
        return table

    def log_progress(self) -> None:
        for r in self.sites.values():
            log.info(
                "progress site=%s status=%s pages=%d new_pages=%d new_versions=%d unchanged=%d errors=%d rate=%.1f",
                r.site,
                r.status,
                r.pages,
                r.new_pages,
                r.outcomes["new_version"],
                r.outcomes["unchanged"],
                r.errors,
                r.rate,
            )


class ProgressDisplay:
    """A live table on a terminal, periodic log lines elsewhere; a context manager."""

    def __init__(self, report: CrawlReport, console: Console, interval: float = 10.0) -> None:
        self.report = report
        self.console = console
        self.interval = interval
        self._live: Live | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.console.is_terminal:
            self._live = Live(get_renderable=self.report.table, console=self.console, refresh_per_second=4)
            self._live.__enter__()
        else:
            self._thread = threading.Thread(target=self._log_loop, name="progress", daemon=True)
            self._thread.start()
        return self

    def _log_loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.report.log_progress()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._live is not None:
            self._live.__exit__(None, None, None)
