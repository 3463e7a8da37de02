"""The crawl's one archive writer: a thread that stores pages in batches, and waits out an archive that is away.

The reactor thread only fetches. Each page the workers processed is handed to
this thread, which collects pages for up to ``BATCH_SECONDS`` (or
``BATCH_PAGES`` pages) and stores them in **one transaction**: a commit per
batch instead of one per page, and the search index's FTS5 postings merged once
per batch. SQLite's work runs outside the GIL, beside the reactor.

The guarantees of a page-per-transaction writer hold:

- **all or nothing per page**: a batch commits whole or not at all. When one
  page of a batch is refused (a constraint, a value the database cannot store,
  a bug between fetch and commit, another writer's version number), the batch is
  rolled back and its pages are stored again one transaction each
  (archive.storage.capture.store_capture), which records the refused page as
  ``store_failed``, decides a version-number race again, and keeps the others;
- **SIGKILL**: a killed crawl loses the pages of the batch not yet committed
  (at most ``BATCH_PAGES``, ~0.2 s of crawling), never half a page; the next
  crawl fetches them again (their URLs are still unknown, or still due);
- **an archive that cannot be written now** (PostgreSQL restarting, SQLite
  locked past its busy timeout, a full disk, a read-only directory): nothing of
  the batch was written; every spider of the crawl is paused (no new requests;
  those in flight wait here with their pages), the batch is retried with
  backoff (0.5 s doubling to 10 s), and the crawl resumes at the first commit.
  After ``write_retry_seconds`` without one, or when the crawl is being stopped,
  the writer gives up: every waiting page and every later one fails with
  :class:`ArchiveUnwritableError` (the pipeline counts them as lost and stops
  the crawl with one line; the runs end ``failed``).

One writer per crawl process: the sites of one crawl share the database, so
they pause and resume together.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from archive.errors import ArchiveError
from archive.storage import Archive
from archive.storage.dberrors import describe, unavailable
from archive.storage.search import deferred_fts

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 10.0
BATCH_PAGES = 50
"""Writes committed in one transaction at most."""
BATCH_SECONDS = 0.2
"""How long the first write of a batch waits for others to join it."""
_NAP = 0.1
"""Backoff sleeps are cut in naps this long, so a stop is noticed at once."""


class ArchiveUnwritableError(ArchiveError):
    """The archive could not be written for longer than ``write_retry_seconds``; the crawl stops."""


@dataclass
class _Write(Generic[T]):
    """One write: how it runs inside a shared transaction, and how it runs alone when the batch failed."""

    in_batch: Callable[[Session], T]
    alone: Callable[[], T]
    future: Future[T] = field(default_factory=Future)


_CLOSE = object()


class ArchiveWriter:
    """Runs the crawl's writes on one thread, batched, through the pause-retry-give-up rule."""

    def __init__(
        self,
        archive: Archive | None,
        budget: float,
        *,
        on_pause: Callable[[], None] = lambda: None,
        on_resume: Callable[[], None] = lambda: None,
        stopping: Callable[[], bool] = lambda: False,
        call_soon: Callable[[Callable[[], None]], None] | None = None,
        batch_pages: int = BATCH_PAGES,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self.archive = archive
        self.budget = budget
        self.on_pause = on_pause
        self.on_resume = on_resume
        self.stopping = stopping
        self.call_soon = call_soon or (lambda call: call())
        """Runs a callback on the crawl's reactor thread (pause and resume touch Scrapy's engines)."""
        self.batch_pages = batch_pages
        self.batch_seconds = batch_seconds
        self.down_since: float | None = None
        self.given_up: str | None = None
        """The reason, once the writer has given up; every later write fails at once with it."""
        self.pauses = 0
        self.batches = 0
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- the crawl's side (reactor thread) ---------------------------------------------------------

    async def write(self, in_batch: Callable[[Session], T], alone: Callable[[], T]) -> T:
        """Store one thing (a page's capture, a run's stats) with the next batch; its result once committed.

        Raises what ``alone`` raises for this write when it had to run alone, and
        ArchiveUnwritableError once the writer has given up.
        """
        if self.given_up is not None:
            raise ArchiveUnwritableError(self.given_up)
        item: _Write[T] = _Write(in_batch, alone)
        self._start()
        self._queue.put(item)
        return await asyncio.wrap_future(item.future)

    def close(self) -> None:
        """Commit what is queued and end the thread (the crawl has ended)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_CLOSE)
            thread.join()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
                self._thread.start()

    # --- the writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        closing = False
        while not closing:
            item = self._queue.get()
            if item is _CLOSE:
                break
            batch = [item]
            deadline = time.monotonic() + self.batch_seconds
            while len(batch) < self.batch_pages:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is _CLOSE:
                    closing = True
                    break
                batch.append(item)
            self._write_batch(batch)

    def _write_batch(self, batch: list[_Write[Any]]) -> None:
        try:
            if self._commit_together(batch):
                return
            for item in batch:  # one of them was refused: each page in its own transaction
                self._commit_alone(item)
        except ArchiveUnwritableError as exc:
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
        except BaseException as exc:  # a bug here must fail the waiting pages, never hang them
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            log.exception("the archive writer failed")

    def _commit_together(self, batch: list[_Write[Any]]) -> bool:
        """One transaction for the batch; False when a write in it was refused (nothing committed then)."""
        assert self.archive is not None
        delay = FIRST_BACKOFF
        while True:
            self._check_given_up()
            try:
                with self.archive.session() as session, deferred_fts(session):
                    results = [item.in_batch(session) for item in batch]
            except Exception as exc:
                if not unavailable(exc):
                    log.debug("a write of a batch of %d was refused (%s); storing them one by one", len(batch), exc)
                    return False
                delay = self._wait(exc, delay)
                continue
            self._writable_again()
            self.batches += 1
            for item, result in zip(batch, results, strict=True):
                item.future.set_result(result)
            return True

    def _commit_alone(self, item: _Write[Any]) -> None:
        delay = FIRST_BACKOFF
        while True:
            self._check_given_up()
            try:
                result = item.alone()
            except Exception as exc:
                if not unavailable(exc):
                    item.future.set_exception(exc)
                    return
                delay = self._wait(exc, delay)
                continue
            self._writable_again()
            item.future.set_result(result)
            return

    def _check_given_up(self) -> None:
        if self.given_up is not None:
            raise ArchiveUnwritableError(self.given_up)

    def _writable_again(self) -> None:
        if self.down_since is not None:
            log.warning("the archive is writable again after %.0f s; the crawl goes on", self._down_for())
            self.down_since = None
            self.call_soon(self.on_resume)

    def _down_for(self) -> float:
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    def _wait(self, exc: BaseException, delay: float) -> float:
        """Pause the crawl (first time), give up at the bound, else sleep ``delay``; the next delay."""
        reason = describe(exc)
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.pauses += 1
            log.warning(
                "the archive cannot be written (%s); pausing the crawl, retrying for up to %.0f s",
                reason,
                self.budget,
            )
            self.call_soon(self.on_pause)
        if self._down_for() >= self.budget or self.stopping():
            waited = f"for {self._down_for():.0f} s" if not self.stopping() else "before the crawl was stopped"
            self.given_up = f"the archive could not be written {waited}: {reason}"
            log.error("%s; stopping the crawl", self.given_up)
            raise ArchiveUnwritableError(self.given_up)
        until = time.monotonic() + min(delay, max(0.05, self.budget - self._down_for()))
        while time.monotonic() < until and not self.stopping():
            time.sleep(min(_NAP, until - time.monotonic()))
        return min(delay * 2, MAX_BACKOFF)
