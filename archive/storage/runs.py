"""Crawl-run records and the sites table, kept in step with the config."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.config import SiteConfig
from archive.storage.models import CrawlRun, Site, utcnow

log = logging.getLogger(__name__)

RUN_STATUSES = ("running", "finished", "failed", "timed_out", "interrupted")


def sync_sites(session: Session, sites: Iterable[SiteConfig]) -> dict[str, Site]:
    """Create or update a row per configured site; rows of removed sites stay (their pages do)."""
    existing = {s.name: s for s in session.execute(select(Site)).scalars()}
    for cfg in sites:
        row = existing.get(cfg.name)
        if row is None:
            row = Site(name=cfg.name, title=cfg.title, base_url=cfg.base_url)
            session.add(row)
            existing[cfg.name] = row
        else:
            row.title, row.base_url = cfg.title, cfg.base_url
    session.flush()
    return existing


def pid_alive(pid: int) -> bool:
    """Whether a process of this host exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def close_dead_runs(session: Session, now: dt.datetime | None = None) -> int:
    """Mark runs left 'running' by a process of this host that no longer exists as interrupted."""
    host = socket.gethostname()
    count = 0
    for run in session.execute(select(CrawlRun).where(CrawlRun.status == "running")).scalars():
        if run.host == host and run.pid and not pid_alive(run.pid):
            run.status = "interrupted"
            run.finished_at = now or utcnow()
            run.error = f"process {run.pid} ended without finishing the run (killed or crashed)"
            count += 1
    return count


def start_run(session: Session, site: Site, trigger: str, pid: int | None = None) -> CrawlRun:
    run = CrawlRun(
        site_id=site.id,
        trigger=trigger,
        status="running",
        started_at=utcnow(),
        pid=pid if pid is not None else os.getpid(),
        host=socket.gethostname(),
        stats={},
    )
    session.add(run)
    session.flush()
    return run


def update_run_stats(session: Session, run_id: int, stats: Mapping[str, Any]) -> None:
    """Write a running run's stats so far (with a page's capture, so they match what is stored).

    A crawl writes them every few seconds: a run killed by SIGKILL then still says what it did.
    """
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(stats=dict(stats)))


def finish_run(session: Session, run_id: int, status: str, stats: Mapping[str, Any], error: str | None = None) -> None:
    run = session.get(CrawlRun, run_id)
    if run is None:
        return
    run.status = status
    run.finished_at = utcnow()
    run.stats = dict(stats)
    run.error = error
