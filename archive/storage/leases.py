"""Per-site crawl leases: one crawl of a site at a time, across processes and hosts.

The daemon's crawl children and a manual ``speech-archive crawl`` both take the
lease of each site they crawl before starting, so neither can crawl a site the
other is crawling. A lease is a row in ``leases`` with an expiry: its holder
renews it while the crawl runs (:class:`LeaseKeeper`), so a holder that dies
(SIGKILL, power loss, a lost container) blocks the site only until it expires.

Taking a lease is one ``INSERT … ON CONFLICT DO UPDATE … WHERE expired`` (the
same statement on SQLite and PostgreSQL), then a read of who holds the row: the
database decides the race, not a read-then-write in Python. Times are the
holders' UTC clocks, so hosts sharing a PostgreSQL archive need synchronised
clocks (NTP); the expiry is minutes, skew is milliseconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.errors import LeaseHeldError
from archive.storage.dberrors import describe
from archive.storage.engine import Archive
from archive.storage.models import Lease, utcnow
from archive.storage.runs import pid_alive

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: a name for people, and (for a process) its pid and host as data.

    The pid and host are stored in their own columns, so a lease left by a dead
    process is recognised without parsing the name back.
    """

    name: str
    pid: int | None = None
    host: str | None = None

    @classmethod
    def process(cls, kind: str, pid: int | None = None, host: str | None = None) -> Holder:
        """This process (or the given one) as a holder: ``manual crawl pid 42 on box``."""
        pid = os.getpid() if pid is None else pid
        host = host or socket.gethostname()
        return cls(f"{kind} pid {pid} on {host}", pid, host)

    def __str__(self) -> str:
        return self.name


def holder_name(trigger: str, pid: int | None = None, host: str | None = None) -> Holder:
    """The holder of a crawl process started by ``trigger`` (manual, scheduled, reclean)."""
    return Holder.process(f"{trigger} crawl" if trigger != "reclean" else "reclean", pid, host)


@dataclass(frozen=True)
class LeaseInfo:
    site: str
    holder: str
    acquired_at: dt.datetime
    expires_at: dt.datetime
    pid: int | None = None
    host: str | None = None


def _held_message(info: LeaseInfo, now: dt.datetime) -> str:
    left = max(0, round((info.expires_at - now).total_seconds()))
    return (
        f"site {info.site!r} is already being crawled by {info.holder} (lease expires "
        f"{info.expires_at:%Y-%m-%d %H:%M:%S} UTC, in {left} s); wait for that crawl to end, "
        "or for the lease to expire if that process is dead"
    )


def holder_is_dead(pid: int | None, host: str | None) -> bool:
    """True when a holder is a process of this host that no longer exists.

    Such a lease is taken over at once instead of at expiry: after a SIGKILL on
    one machine the next crawl must not wait out the lease.
    """
    return pid is not None and host == socket.gethostname() and not pid_alive(pid)


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def acquire_lease(
    session: Session, site: str, holder: Holder, seconds: float, now: dt.datetime | None = None
) -> LeaseInfo:
    """Take (or re-take) the lease of ``site`` for ``seconds``; raise LeaseHeldError if another holds it.

    An expired lease is taken over whoever held it. The caller's transaction
    must commit for the lease to count (``Archive.session()`` does).
    """
    now = now or utcnow()
    expires = now + dt.timedelta(seconds=seconds)
    existing = session.execute(
        select(Lease.holder, Lease.holder_pid, Lease.holder_host).where(Lease.site_name == site)
    ).first()
    if existing is not None and existing.holder != holder.name and holder_is_dead(existing[1], existing[2]):
        log.warning("site %s: taking over the lease of %s, which is no longer running", site, existing.holder)
        session.execute(delete(Lease).where(Lease.site_name == site, Lease.holder == existing.holder))
    columns = {"holder": holder.name, "holder_pid": holder.pid, "holder_host": holder.host}
    stmt = _insert(session)(Lease).values(site_name=site, acquired_at=now, expires_at=expires, **columns)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Lease.site_name],
        set_={**columns, "acquired_at": now, "expires_at": expires},
        where=(Lease.expires_at <= now) | (Lease.holder == holder.name),
    )
    session.execute(stmt)
    row = session.execute(select(Lease).where(Lease.site_name == site)).scalar_one()
    info = _info(row)
    session.expunge(row)
    if info.holder != holder.name:
        raise LeaseHeldError(_held_message(info, now))
    return info


def _info(row: Lease) -> LeaseInfo:
    return LeaseInfo(row.site_name, row.holder, row.acquired_at, row.expires_at, row.holder_pid, row.holder_host)


def renew_lease(session: Session, site: str, holder: Holder, seconds: float, now: dt.datetime | None = None) -> bool:
    """Push the expiry of a lease we hold; False if it is no longer ours (it expired and was taken)."""
    now = now or utcnow()
    result = session.execute(
        update(Lease)
        .where(Lease.site_name == site, Lease.holder == holder.name)
        .values(expires_at=now + dt.timedelta(seconds=seconds))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_lease(session: Session, site: str, holder: Holder) -> bool:
    """Give a lease back; only its holder's release counts (a late release never frees another's)."""
    result = session.execute(delete(Lease).where(Lease.site_name == site, Lease.holder == holder.name))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_process_lease(session: Session, site: str, pid: int, host: str) -> bool:
    """Release the lease a process held, found by its pid and host (a parent cleaning up after its child)."""
    result = session.execute(
        delete(Lease).where(Lease.site_name == site, Lease.holder_pid == pid, Lease.holder_host == host)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def current_lease(session: Session, site: str, now: dt.datetime | None = None) -> LeaseInfo | None:
    """The unexpired lease of a site, if any (for a pre-check and for `status`)."""
    now = now or utcnow()
    row = session.execute(select(Lease).where(Lease.site_name == site, Lease.expires_at > now)).scalar_one_or_none()
    return None if row is None else _info(row)


class LeaseKeeper:
    """Hold the leases of some sites for the life of a crawl, renewing them on a thread.

    Used as a context manager around a crawl: ``acquire`` takes what it can and
    reports the sites another process holds; on exit the leases are released.
    Renewal runs every third of the lease time, so two missed renewals still
    leave the lease valid. A lease that is lost (another process took it after
    it expired) or that could not be renewed before its expiry (the database
    was away) is reported through ``on_lost`` (called on the renewal thread):
    the crawl must stop that site, since another process may now crawl it.
    """

    def __init__(self, archive: Archive, holder: Holder, seconds: float) -> None:
        self.archive = archive
        self.holder = holder
        self.seconds = seconds
        self.held: list[str] = []
        self.on_lost: Callable[[str], None] | None = None
        self._valid_until: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, sites: Iterable[str]) -> dict[str, LeaseHeldError]:
        """Take each site's lease; return the refusals by site (the caller decides if that is fatal)."""
        refused: dict[str, LeaseHeldError] = {}
        for site in sites:
            try:
                with self.archive.session() as session:
                    acquire_lease(session, site, self.holder, self.seconds)
            except LeaseHeldError as exc:
                refused[site] = exc
            else:
                self.held.append(site)
                self._valid_until[site] = time.monotonic() + self.seconds
        if self.held and self._thread is None:
            self._thread = threading.Thread(target=self._renew_loop, name="lease-renewal", daemon=True)
            self._thread.start()
        return refused

    def _renew_loop(self) -> None:
        interval = max(1.0, self.seconds / 3)
        while not self._stop.wait(interval):
            for site in list(self.held):
                try:
                    with self.archive.session() as session:
                        still_ours = renew_lease(session, site, self.holder, self.seconds)
                except SQLAlchemyError as exc:
                    if time.monotonic() < self._valid_until[site]:
                        log.warning("could not renew the crawl lease of %s: %s", site, describe(exc))
                        continue
                    self._lost(site, f"it expired while the database was away ({describe(exc)})")
                    continue
                if not still_ours:
                    self._lost(site, "it expired and another process took it")
                else:
                    self._valid_until[site] = time.monotonic() + self.seconds

    def _lost(self, site: str, why: str) -> None:
        log.error("lost the crawl lease of %s (%s); stopping that site", site, why)
        self.held.remove(site)
        if self.on_lost is not None:
            self.on_lost(site)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for site in self.held:
            try:
                with self.archive.session() as session:
                    release_lease(session, site, self.holder)
            except SQLAlchemyError as exc:
                log.warning("could not release the crawl lease of %s (it will expire): %s", site, describe(exc))
        self.held = []

    def __enter__(self) -> LeaseKeeper:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
