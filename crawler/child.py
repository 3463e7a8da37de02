"""One crawl as a child process: the contract between the daemon and the crawl layer.

The daemon starts ``python -m crawler`` and writes one JSON :class:`CrawlRequest`
on its stdin: the configuration it validated (so a file edited under a running
daemon never reaches a crawl), the sites and the trigger. The child takes the
sites' leases, crawls, and writes one JSON :class:`CrawlResult` as the last
line of its stdout; its log goes to stderr. No side parses the other's log text.

``crawl_sites`` is also what the ``crawl`` command runs in-process, so a manual
and a scheduled crawl take leases and report the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from archive.config import Config, SiteConfig, parse_config
from archive.errors import ArchiveError, CrawlError, LeaseHeldError, SpeechArchiveError
from archive.storage import Archive
from archive.storage.leases import LeaseKeeper, holder_name
from crawler.report import CrawlReport
from crawler.run import Display, run_crawl

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrawlRequest:
    """What the daemon asks of one crawl child."""

    config: dict[str, Any]
    """The validated configuration, as JSON data (``Config.model_dump(mode="json")``)."""
    source: str
    sites: list[str]
    trigger: str = "scheduled"
    full: bool = False
    run_ids: dict[str, int] = field(default_factory=dict)
    """Runs the daemon recorded for this child before starting it (site -> run id): the child
    continues them, so a child killed before it could record anything still leaves its run."""

    @classmethod
    def of(
        cls,
        config: Config,
        sites: list[str],
        trigger: str = "scheduled",
        *,
        full: bool = False,
        run_ids: dict[str, int] | None = None,
    ) -> CrawlRequest:
        return cls(config.model_dump(mode="json"), config.source, sites, trigger, full, dict(run_ids or {}))

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CrawlRequest:
        data = json.loads(text)
        return cls(**data)

    def load_config(self) -> Config:
        return parse_config(self.config, source=self.source)


@dataclass(frozen=True)
class SiteResult:
    status: str
    """finished / failed / interrupted (the run's status) or skipped (another process held the lease)."""
    run_id: int | None = None
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CrawlResult:
    """What one crawl child reports: per site, and overall."""

    sites: dict[str, SiteResult]
    error: str | None = None
    """Set when the crawl could not run at all (bad configuration, database unreachable)."""
    exit_code: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CrawlResult:
        data = json.loads(text)
        sites = {name: SiteResult(**row) for name, row in data.get("sites", {}).items()}
        return cls(sites, data.get("error"), int(data.get("exit_code", 0)))


@dataclass
class CrawlOutcome:
    """``crawl_sites``' answer: the report of what ran, and the sites another process held."""

    report: CrawlReport
    refused: dict[str, LeaseHeldError]

    def result(self) -> CrawlResult:
        sites = {name: SiteResult("skipped", error=str(exc)) for name, exc in self.refused.items()}
        for name, r in self.report.sites.items():
            sites[name] = SiteResult(r.status, r.run_id, r.error, r.stats())
        return CrawlResult(sites)


def crawl_sites(
    config: Config,
    sites: list[SiteConfig],
    *,
    trigger: str,
    full: bool = False,
    display: Display | None = None,
    on_refused: Callable[[LeaseHeldError], None] | None = None,
    run_ids: dict[str, int] | None = None,
) -> CrawlOutcome:
    """Take each site's lease (one crawl of a site at a time, whoever starts it), then crawl those taken.

    Raises LeaseHeldError when every site is held by another process.
    """
    with (
        Archive(config.archive.database_url, busy_timeout=config.archive.busy_timeout) as archive,
        LeaseKeeper(archive, holder_name(trigger), config.daemon.lease_seconds) as keeper,
    ):
        refused = keeper.acquire(s.name for s in sites)
        if len(refused) == len(sites):
            raise next(iter(refused.values()))
        for exc in refused.values():
            if on_refused is not None:
                on_refused(exc)
        chosen = [s for s in sites if s.name not in refused]
        report = run_crawl(config, chosen, trigger=trigger, full=full, display=display, keeper=keeper, run_ids=run_ids)
    return CrawlOutcome(report, refused)


def run_request(request: CrawlRequest) -> CrawlResult:
    """Serve one request in this process; every error becomes a result, never a traceback."""
    try:
        config = request.load_config()
        sites = [config.site(name) for name in request.sites]
        outcome = crawl_sites(config, sites, trigger=request.trigger, full=request.full, run_ids=request.run_ids)
    except LeaseHeldError as exc:
        return CrawlResult({name: SiteResult("skipped", error=str(exc)) for name in request.sites}, None, 0)
    except SpeechArchiveError as exc:
        return CrawlResult({}, str(exc), exc.exit_code)
    result = outcome.result()
    if outcome.report.unwritable is not None:
        return CrawlResult(result.sites, outcome.report.unwritable, ArchiveError.exit_code)
    if result.sites and all(s.status == "failed" for s in result.sites.values()):
        return CrawlResult(result.sites, "every site failed", CrawlError.exit_code)
    return result
