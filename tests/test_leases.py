"""Per-site crawl leases: one contract suite on SQLite and on a real PostgreSQL (archive_url).

Time is passed in (`now=`), so expiry is tested without sleeping; the race and the
keeper's renewal use real threads and the real clock.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest
import tomli_w
from conftest import cli
from sqlalchemy import select

from archive.errors import LeaseHeldError
from archive.storage.engine import Archive
from archive.storage.leases import (
    Holder,
    LeaseKeeper,
    acquire_lease,
    current_lease,
    holder_name,
    release_lease,
    renew_lease,
)
from archive.storage.models import Lease

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def archive(archive_url: str):
    with Archive(archive_url) as arch:
        yield arch


def take(archive: Archive, holder: str | Holder, seconds: float = 60, now: dt.datetime = T0, site: str = "wm114"):
    with archive.session() as session:
        return acquire_lease(session, site, Holder(holder) if isinstance(holder, str) else holder, seconds, now=now)


def test_a_held_lease_refuses_another_holder_naming_holder_and_expiry(archive: Archive) -> None:
    take(archive, "scheduled crawl pid 41 on box")
    with pytest.raises(LeaseHeldError) as info:
        take(archive, "manual crawl pid 42 on box", now=T0 + dt.timedelta(seconds=10))
    message = str(info.value)
    assert "'wm114'" in message and "scheduled crawl pid 41 on box" in message
    assert "2026-03-01 08:01:00 UTC" in message and "in 50 s" in message
    assert "\n" not in message
    assert info.value.exit_code == 5


def test_an_expired_lease_is_taken_over(archive: Archive) -> None:
    take(archive, "old holder", seconds=30)
    info = take(archive, "new holder", seconds=30, now=T0 + dt.timedelta(seconds=30))
    assert info.holder == "new holder"
    assert info.expires_at == T0 + dt.timedelta(seconds=60)
    with archive.session() as session:
        assert session.execute(select(Lease.holder)).scalars().all() == ["new holder"]


def test_sites_have_separate_leases(archive: Archive) -> None:
    take(archive, "a", site="wm114")
    assert take(archive, "b", site="zhongyi").holder == "b"


def test_renew_extends_only_for_the_holder_and_release_frees_only_for_the_holder(archive: Archive) -> None:
    take(archive, "me", seconds=60)
    with archive.session() as session:
        assert renew_lease(session, "wm114", Holder("me"), 60, now=T0 + dt.timedelta(seconds=50))
        assert not renew_lease(session, "wm114", Holder("someone else"), 60, now=T0 + dt.timedelta(seconds=50))
    with archive.session() as session:
        lease = current_lease(session, "wm114", now=T0 + dt.timedelta(seconds=100))
        assert lease is not None and lease.expires_at == T0 + dt.timedelta(seconds=110)
        assert not release_lease(session, "wm114", Holder("someone else"))
        assert release_lease(session, "wm114", Holder("me"))
    with archive.session() as session:
        assert current_lease(session, "wm114", now=T0) is None
    assert take(archive, "someone else").holder == "someone else"


def test_the_same_holder_may_take_its_lease_again(archive: Archive) -> None:
    take(archive, "me", seconds=60)
    assert take(archive, "me", seconds=60, now=T0 + dt.timedelta(seconds=5)).expires_at == T0 + dt.timedelta(seconds=65)


def test_of_many_concurrent_takers_exactly_one_wins(archive_url: str) -> None:
    with Archive(archive_url):
        pass  # migrate once before the race
    winners: list[str] = []
    losers: list[str] = []
    barrier = threading.Barrier(6)

    def contend(i: int) -> None:
        with Archive(archive_url, upgrade=False) as arch:
            barrier.wait()
            try:
                with arch.session() as session:
                    acquire_lease(session, "wm114", Holder(f"holder {i}"), 60)
                winners.append(f"holder {i}")
            except LeaseHeldError:
                losers.append(f"holder {i}")

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(winners) == 1 and len(losers) == 5
    with Archive(archive_url) as arch, arch.session() as session:
        assert session.execute(select(Lease.holder)).scalars().all() == winners


def test_keeper_takes_what_is_free_renews_while_held_and_releases_on_exit(archive: Archive) -> None:
    with archive.session() as session:
        acquire_lease(session, "zhongyi", Holder("another crawl"), 600)
    with LeaseKeeper(archive, holder_name("manual"), seconds=3) as keeper:
        refused = keeper.acquire(["wm114", "zhongyi"])
        assert list(refused) == ["zhongyi"] and keeper.held == ["wm114"]
        with archive.session() as session:
            first = current_lease(session, "wm114")
        assert first is not None and first.holder == holder_name("manual").name
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # renewed every second (a third of 3 s)
            with archive.session() as session:
                lease = current_lease(session, "wm114")
            if lease is not None and lease.expires_at > first.expires_at:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the keeper never renewed its lease")
    with archive.session() as session:
        assert current_lease(session, "wm114") is None
        held = current_lease(session, "zhongyi")
        assert held is not None and held.holder == "another crawl"


def test_manual_crawl_is_refused_in_one_line_while_another_process_holds_the_lease(
    tmp_path: Path, archive_url: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        tomli_w.dumps(
            {
                "archive": {"database_url": archive_url},
                "sites": [
                    {
                        "name": "wm114",
                        "base_url": "http://127.0.0.1:9",
                        "start_urls": ["http://127.0.0.1:9/"],
                        "article_pattern": r"\d+\.html$",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    with Archive(archive_url) as arch, arch.session() as session:
        acquire_lease(session, "wm114", Holder.process("scheduled crawl", 4242, "elsewhere"), 300)
    result = cli("crawl", "--config", str(config), "wm114", timeout=120)
    assert result.returncode == 5, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: site 'wm114' is already being crawled by scheduled crawl pid 4242 on elsewhere")
    assert "Traceback" not in result.stderr


def test_a_dead_holder_on_this_host_is_found_by_its_pid_and_host_columns(archive: Archive) -> None:
    """The holder's pid and host are data: a lease of a dead process here is taken over at once."""
    import socket
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    pid = int(dead.stdout)
    here = socket.gethostname()
    take(archive, Holder("a crawl that was killed", pid, here), seconds=600)
    info = take(archive, Holder.process("manual crawl"), seconds=60, now=T0 + dt.timedelta(seconds=1))
    assert info.pid == os.getpid() and info.host == here
    take(archive, Holder("alive elsewhere", pid, "another-host"), seconds=600, site="zhongyi")
    with pytest.raises(LeaseHeldError):
        take(archive, Holder.process("manual crawl"), now=T0 + dt.timedelta(seconds=1), site="zhongyi")


def test_a_parent_releases_its_childs_lease_by_pid_and_host(archive: Archive) -> None:
    from archive.storage.leases import release_process_lease

    take(archive, Holder.process("scheduled crawl", 4343, "box"))
    with archive.session() as session:
        assert not release_process_lease(session, "wm114", 4343, "other-box")
        assert release_process_lease(session, "wm114", 4343, "box")
        assert current_lease(session, "wm114") is None
