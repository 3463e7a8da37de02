"""Live counters of a crawl and its end-of-run summary (a rich table, and structured lines for logs).

The command line shows them while the crawl runs (speech_archive/progress.py).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

log = logging.getLogger(__name__)

ERROR_OUTCOMES = ("fetch_error", "extraction_failed", "blocked", "offsite_redirect", "store_failed")


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
    list_error_count: int = 0
    first_list_error: str | None = None
    requests: int = 0
    bytes_received: int = 0
    body_from: Counter[str] = field(default_factory=Counter)
    """Cleaned pages by the path that found their body (``extraction_failed`` counted as ``failed``)."""
    cleaning_errors: int = 0
    """Pages the cleaner itself failed on (a bug, logged with the URL), among the extraction_failed ones."""
    lost: int = 0
    """Pages fetched but not stored (the archive could not be written); a run with any is not finished cleanly."""
    dead_links: int = 0
    """404/410 answers for URLs the archive never had: counted, not captured."""
    shrinks: int = 0

    @property
    def pages(self) -> int:
        return sum(self.outcomes.values())

    @property
    def errors(self) -> int:
        return sum(self.outcomes[o] for o in ERROR_OUTCOMES) + self.lost

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
            "not_html": self.outcomes["not_html"],
            "shrinks": self.shrinks,
            "errors": self.errors,
            "errors_by_kind": {o: self.outcomes[o] for o in ERROR_OUTCOMES if self.outcomes[o]},
            "cleaning_errors": self.cleaning_errors,
            "body_from": dict(self.body_from),
            "bytes": self.bytes,
            "requests": self.requests,
            "bytes_received": self.bytes_received,
            "seconds": round((self.finished or time.monotonic()) - self.started, 3),
            "list_pages": self.list_ok,
            "list_errors": self.list_error_count,
            "dead_links": self.dead_links,
            "lost": self.lost,
        }


class CrawlReport:
    """All sites of one crawl command."""

    def __init__(self, sites: list[str]) -> None:
        self.sites = {name: SiteReport(name) for name in sites}
        self.works: dict[str, Any] | None = None
        """What matching the new contents to works did after the spiders closed (archive.works)."""
        self.stopped_by: str | None = None
        """The signal (SIGTERM, SIGINT) that stopped the crawl before its end, if one did."""
        self.unwritable: str | None = None
        """Why the crawl stopped because the archive could not be written (crawler/writer.py), if it did."""

    @property
    def lost(self) -> int:
        return sum(r.lost for r in self.sites.values())

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
            "cleaner errors",
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
                str(r.cleaning_errors),
                f"{r.rate:.1f}",
            )
        return table

    def progress_lines(self) -> list[str]:
        """One structured line per site, for logs off a terminal."""
        return [
            f"progress site={r.site} status={r.status} pages={r.pages} new_pages={r.new_pages} "
            f"new_versions={r.outcomes['new_version']} unchanged={r.outcomes['unchanged']} errors={r.errors} "
            f"cleaning_errors={r.cleaning_errors} rate={r.rate:.1f}"
            for r in self.sites.values()
        ]
