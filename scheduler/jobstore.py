"""The daemon's APScheduler job store: its table in the archive database and its job ids.

The job store shares the archive database (so a restart keeps each site's next
run); its table name and the id format of a site's job are known here only.
``status`` reads each site's next run through :func:`next_run_times`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import column, inspect, select, table
from sqlalchemy.orm import Session

JOBS_TABLE = "apscheduler_jobs"
_JOB_PREFIX = "crawl:"


def job_id(site: str) -> str:
    """The id of a site's job in the daemon's job store."""
    return f"{_JOB_PREFIX}{site}"


def site_of_job(jid: str) -> str | None:
    return jid.removeprefix(_JOB_PREFIX) if jid.startswith(_JOB_PREFIX) else None


def next_run_times(session: Session) -> dict[str, dt.datetime | None]:
    """Each scheduled site's next run (UTC), or None when its job is paused; {} before any daemon ran."""
    if not inspect(session.get_bind()).has_table(JOBS_TABLE):
        return {}
    jobs = table(JOBS_TABLE, column("id"), column("next_run_time"))
    out: dict[str, dt.datetime | None] = {}
    for jid, ts in session.execute(select(jobs.c.id, jobs.c.next_run_time)):
        site = site_of_job(jid)
        if site is not None:
            out[site] = None if ts is None else dt.datetime.fromtimestamp(float(ts), dt.UTC)
    return out
