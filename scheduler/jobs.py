"""Sites' schedules as APScheduler jobs, and bringing the persisted jobs in line with the config.

Jobs live in the archive database (APScheduler's SQLAlchemy job store), so a
restart keeps each site's ``next_run_time`` and trigger. At start-up
:func:`reconcile_jobs` compares the stored jobs with ``config.toml``: new sites
get a job, sites whose schedule changed are rescheduled, removed or disabled
sites lose theirs. A job's *name* carries the schedule it was made from, which is
how a change is recognised without comparing pickled triggers.

Persisted jobs refer to their function by name (``scheduler.jobs:crawl_job``),
so the function cannot close over the daemon; it finds it through
:func:`install_runner`, the one module-level hook.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archive.config import SiteConfig
from scheduler.jobstore import job_id, site_of_job

log = logging.getLogger(__name__)

CRON_TIMEZONE = ZoneInfo("Asia/Shanghai")
"""Cron lines are read in the sites' own time zone; the job store keeps UTC timestamps."""
JOB_FUNC = "scheduler.jobs:crawl_job"

_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DOW_PART = re.compile(r"^(?:(\*)|(\d)(?:-(\d))?)(?:/(\d+))?$")

_runner: Callable[[str], None] | None = None


def install_runner(runner: Callable[[str], None] | None) -> None:
    """Point the persisted jobs at the running daemon's crawl function (None on shutdown)."""
    global _runner
    _runner = runner


def crawl_job(site: str) -> None:
    """What every stored job calls: crawl one site through the daemon's runner."""
    if _runner is None:
        log.error("crawl of %s was due but no daemon runner is installed; skipped", site)
        return
    _runner(site)


def stop_scheduler(scheduler: BaseScheduler, jobstores: Iterable[str] = ("default",)) -> None:
    """Shut APScheduler 3 down without its last pass over the due jobs.

    On ``shutdown()`` its thread wakes and processes due jobs once more; the
    executor is already closed, so each due job fails to submit *and* has its
    ``next_run_time`` advanced: a run due at that moment would be lost. Pausing
    and detaching the job stores first leaves the stored jobs as they were, so
    the next start makes that run up.
    """
    scheduler.pause()
    for alias in jobstores:
        scheduler.remove_jobstore(alias)
    scheduler.shutdown(wait=False)


def _crontab_day_of_week(value: str) -> str:
    """Translate crontab weekdays (0 or 7 = Sunday) to names; APScheduler 3 numbers Monday as 0.

    Names and ``*`` pass through; numbers, ranges and steps are expanded to an
    explicit list of day names, so ``1-5`` means Monday to Friday as in crontab.
    """
    parts: list[str] = []
    for part in value.split(","):
        match = _DOW_PART.match(part)
        if not match:
            parts.append(part)  # names (mon-fri) mean the same to both
            continue
        star, first, last, step = match.groups()
        if star and not step:
            parts.append("*")
            continue
        start = 0 if star else int(first)
        end = 6 if star else int(last) if last else start if not step else 6
        days = range(start, end + 1, int(step or 1))
        parts.extend(_CRONTAB_DAYS[d] for d in days if d < len(_CRONTAB_DAYS))
    return ",".join(dict.fromkeys(parts))


def build_trigger(site: SiteConfig) -> BaseTrigger:
    """The APScheduler trigger of a site's ``schedule`` and ``jitter``.

    The jitter of an interval is capped at half the interval, so the default
    60 s on ``every 30s`` cannot make runs bunch up or overlap.
    """
    schedule = site.schedule
    jitter = site.jitter or None
    if schedule.interval_seconds is not None:
        if jitter and jitter > schedule.interval_seconds / 2:
            jitter = max(1, schedule.interval_seconds // 2) if schedule.interval_seconds > 1 else None
        return IntervalTrigger(seconds=schedule.interval_seconds, jitter=jitter, timezone=dt.UTC)
    assert schedule.cron is not None
    minute, hour, day, month, dow = schedule.cron.split()
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_crontab_day_of_week(dow),
        timezone=CRON_TIMEZONE,
        jitter=jitter,
    )


def job_name(site: SiteConfig) -> str:
    """Human name of a site's job; also the fingerprint a schedule change is detected by."""
    return f"crawl {site.name} ({site.schedule.expression}, jitter {site.jitter}s)"


@dataclass
class Reconciled:
    """What start-up changed in the job store, by site name."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    run_now: list[str] = field(default_factory=list)


def reconcile_jobs(
    scheduler: BaseScheduler,
    sites: Iterable[SiteConfig],
    never_crawled: set[str],
    misfire_grace: int,
    now: dt.datetime,
) -> Reconciled:
    """Make the scheduler's stored jobs match the enabled sites of the config.

    ``never_crawled`` sites are due at ``now`` (their first crawl should not
    wait six hours); every other job keeps the ``next_run_time`` it was stored
    with unless its schedule changed. The scheduler must be started (paused is
    best, so nothing runs half-way through) for changes to reach the store.
    """
    out = Reconciled()
    wanted = {job_id(s.name): s for s in sites if s.enabled}
    stored = {job.id: job for job in scheduler.get_jobs()}
    for jid in sorted(set(stored) - set(wanted)):
        scheduler.remove_job(jid)
        out.removed.append(site_of_job(jid) or jid)
    for jid, site in wanted.items():
        job = stored.get(jid)
        first = site.name in never_crawled
        if job is None:
            extra = {"next_run_time": now} if first else {}
            scheduler.add_job(
                JOB_FUNC,
                trigger=build_trigger(site),
                args=[site.name],
                id=jid,
                name=job_name(site),
                misfire_grace_time=misfire_grace,
                coalesce=True,
                max_instances=1,
                **extra,
            )
            out.added.append(site.name)
        elif job.name != job_name(site):
            scheduler.modify_job(jid, name=job_name(site), misfire_grace_time=misfire_grace)
            scheduler.reschedule_job(jid, trigger=build_trigger(site))
            if first:
                scheduler.modify_job(jid, next_run_time=now)
            out.changed.append(site.name)
        else:
            if job.misfire_grace_time != misfire_grace:
                scheduler.modify_job(jid, misfire_grace_time=misfire_grace)
            if first and (job.next_run_time is None or job.next_run_time > now):
                scheduler.modify_job(jid, next_run_time=now)
            out.unchanged.append(site.name)
        if first:
            out.run_now.append(site.name)
    return out


def log_reconciled(result: Reconciled) -> None:
    for name in result.added:
        log.info("schedule: added site %s", name)
    for name in result.changed:
        log.info("schedule: site %s has a new schedule; rescheduled", name)
    for name in result.removed:
        log.info("schedule: site %s is no longer configured (or disabled); its job was removed", name)
    if result.run_now:
        log.info("schedule: never crawled, crawling now: %s", ", ".join(result.run_now))
    log.info(
        "schedule: %d added, %d changed, %d removed, %d unchanged",
        len(result.added),
        len(result.changed),
        len(result.removed),
        len(result.unchanged),
    )
