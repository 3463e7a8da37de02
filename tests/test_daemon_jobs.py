"""Schedules as triggers, and reconciling the persisted jobs with the config, on both store backends.

These use the real APScheduler SQLAlchemy job store in a real archive database
(SQLite and PostgreSQL), with the scheduler started paused so nothing runs; a
second scheduler on the same database stands for the daemon after a restart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archive.config import SiteConfig
from archive.storage.engine import Archive, make_engine
from scheduler.jobs import CRON_TIMEZONE, build_trigger, job_name, reconcile_jobs, stop_scheduler
from scheduler.jobstore import JOBS_TABLE, next_run_times

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in Shanghai


def site(name: str, schedule: str = "every 6h", jitter: int = 0, **kw: object) -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "name": name,
            "base_url": "http://127.0.0.1:1",
            "start_urls": ["http://127.0.0.1:1/"],
            "article_pattern": r"\d+\.html$",
            "schedule": schedule,
            "jitter": jitter,
            **kw,
        }
    )


def fire_times(trigger: CronTrigger | IntervalTrigger, start: dt.datetime, n: int) -> list[dt.datetime]:
    out, previous, now = [], None, start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(previous, now)
        assert nxt is not None
        out.append(nxt)
        previous = now = nxt
    return out


def test_crontab_weekdays_mean_what_crontab_says() -> None:
    """APScheduler 3 numbers Monday 0; crontab numbers Sunday 0. `1-5` must be Monday to Friday."""
    trigger = build_trigger(site("a", "30 9 * * 1-5"))
    assert isinstance(trigger, CronTrigger)
    local = [t.astimezone(CRON_TIMEZONE) for t in fire_times(trigger, NOW, 6)]
    assert [t.strftime("%a %H:%M") for t in local] == [
        "Mon 09:30",
        "Tue 09:30",
        "Wed 09:30",
        "Thu 09:30",
        "Fri 09:30",
        "Mon 09:30",
    ]
    sunday = build_trigger(site("b", "0 3 * * 0"))
    assert fire_times(sunday, NOW, 1)[0].astimezone(CRON_TIMEZONE).strftime("%a %H:%M") == "Sun 03:00"


def test_interval_jitter_is_capped_at_half_the_interval() -> None:
    trigger = build_trigger(site("a", "every 3s", jitter=60))
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval == dt.timedelta(seconds=3) and trigger.jitter == 1
    assert build_trigger(site("b", "every 6h", jitter=60)).jitter == 60  # type: ignore[attr-defined]


@pytest.fixture
def make_scheduler(archive_url: str) -> Iterator[object]:
    """Start paused schedulers on the archive's job store; all shut down at the end."""
    Archive(archive_url).close()  # the archive schema exists, as when the daemon starts
    started: list[BackgroundScheduler] = []

    def make() -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=make_engine(archive_url), tablename=JOBS_TABLE)},
            timezone=dt.UTC,
        )
        scheduler.start(paused=True)
        started.append(scheduler)
        return scheduler

    yield make
    for scheduler in started:
        if scheduler.running:
            stop_scheduler(scheduler)


def jobs(scheduler: BackgroundScheduler) -> dict[str, tuple[str, dt.datetime | None]]:
    return {job.id: (job.name, job.next_run_time) for job in scheduler.get_jobs()}


def test_reconcile_adds_changes_and_removes_and_a_restart_keeps_next_run_times(
    make_scheduler, archive_url: str
) -> None:
    first = make_scheduler()
    result = reconcile_jobs(
        first,
        [site("a"), site("b", "every 1h"), site("off", enabled=False)],
        never_crawled={"a"},
        misfire_grace=600,
        now=NOW,
    )
    assert (result.added, result.removed, result.changed, result.run_now) == (["a", "b"], [], [], ["a"])
    stored = jobs(first)
    assert set(stored) == {"crawl:a", "crawl:b"}
    assert stored["crawl:a"] == (job_name(site("a")), NOW)  # never crawled: due now
    assert stored["crawl:b"][1] is not None and stored["crawl:b"][1] > NOW
    stop_scheduler(first)

    # The daemon restarts with an edited config: b's schedule changed, a removed, c added.
    second = make_scheduler()
    assert jobs(second) == stored  # persisted as they were
    edited = [site("b", "0 */6 * * *"), site("c", "every 2h")]
    result = reconcile_jobs(second, edited, never_crawled=set(), misfire_grace=600, now=NOW)
    assert (result.added, result.changed, result.removed, result.unchanged) == (["c"], ["b"], ["a"], [])
    after = jobs(second)
    assert set(after) == {"crawl:b", "crawl:c"}
    assert after["crawl:b"][0] == job_name(site("b", "0 */6 * * *"))
    assert isinstance(second.get_job("crawl:b").trigger, CronTrigger)
    stop_scheduler(second)

    # Unchanged config: nothing moves, and `status` reads the same next run times.
    third = make_scheduler()
    result = reconcile_jobs(third, edited, never_crawled=set(), misfire_grace=600, now=NOW)
    assert (result.added, result.changed, result.removed, result.unchanged) == ([], [], [], ["b", "c"])
    assert jobs(third) == after
    with Archive(archive_url) as arch, arch.session() as session:
        assert next_run_times(session) == {"b": after["crawl:b"][1], "c": after["crawl:c"][1]}


def test_a_stored_job_of_a_site_never_crawled_is_brought_forward(make_scheduler) -> None:
    scheduler = make_scheduler()
    reconcile_jobs(scheduler, [site("a")], never_crawled=set(), misfire_grace=60, now=NOW)
    assert scheduler.get_job("crawl:a").next_run_time > NOW
    result = reconcile_jobs(scheduler, [site("a")], never_crawled={"a"}, misfire_grace=120, now=NOW)
    job = scheduler.get_job("crawl:a")
    assert result.run_now == ["a"] and job.next_run_time == NOW and job.misfire_grace_time == 120
