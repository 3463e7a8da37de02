"""Writing to an archive that may be away: pause the crawl, retry with backoff, give up after a bound.

A page's capture is one transaction (archive.storage.capture). When the
database cannot be written *now* (PostgreSQL restarting, SQLite locked past its
busy timeout, a full disk, a read-only data directory), dropping the page or
hammering the database are both wrong: the writer pauses every spider of the
crawl (no new requests; those in flight finish and wait here with their
pages), retries with exponential backoff, and resumes the crawl as soon as a
write succeeds. After ``write_retry_seconds`` without one it gives up: every
waiting page and every later one counts as lost, and the crawl stops with one
line naming the reason (the run ends ``failed``).

One writer per crawl process: the sites of one crawl share the database, so
they pause and resume together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from archive.errors import ArchiveError
from archive.storage.dberrors import describe, unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 10.0


class ArchiveUnwritableError(ArchiveError):
    """The archive could not be written for longer than ``write_retry_seconds``; the crawl stops."""


class ArchiveWriter:
    """Runs writes (synchronous calls on the reactor thread) through the pause-retry-give-up rule."""

    def __init__(
        self,
        budget: float,
        *,
        on_pause: Callable[[], None] = lambda: None,
        on_resume: Callable[[], None] = lambda: None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.budget = budget
        self.on_pause = on_pause
        self.on_resume = on_resume
        self.stopping = stopping
        self.down_since: float | None = None
        self.given_up: str | None = None
        """The reason, once the writer has given up; every later write fails at once with it."""
        self.pauses = 0

    async def write(self, call: Callable[[], T]) -> T:
        """Run ``call``; while the database is unavailable wait and retry; raise ArchiveUnwritableError at the bound."""
        delay = FIRST_BACKOFF
        while True:
            if self.given_up is not None:
                raise ArchiveUnwritableError(self.given_up)
            try:
                result = call()
            except Exception as exc:
                if not unavailable(exc):
                    raise
                self._wait_or_give_up(exc)
                await asyncio.sleep(min(delay, self._left()))
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            if self.down_since is not None:
                log.warning("the archive is writable again after %.0f s; the crawl goes on", self._down_for())
                self.down_since = None
                self.on_resume()
            return result

    def _down_for(self) -> float:
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    def _left(self) -> float:
        return max(0.05, self.budget - self._down_for())

    def _wait_or_give_up(self, exc: BaseException) -> None:
        reason = describe(exc)
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.pauses += 1
            log.warning(
                "the archive cannot be written (%s); pausing the crawl, retrying for up to %.0f s",
                reason,
                self.budget,
            )
            self.on_pause()
        if self._down_for() >= self.budget or self.stopping():
            waited = f"for {self._down_for():.0f} s" if not self.stopping() else "before the crawl was stopped"
            self.given_up = f"the archive could not be written {waited}: {reason}"
            log.error("%s; stopping the crawl", self.given_up)
            raise ArchiveUnwritableError(self.given_up)
