"""Cleaning off the reactor thread.

trafilatura costs 6–14 ms a page, four times the fetch; run on Twisted's
thread it caps a crawl at one core. A process pool (forked before the reactor
starts, each worker holding its own resolved profiles) lets a crawl use every
core; ``clean_workers = 0`` keeps the in-line path for debugging and the
benchmark's baseline.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import signal
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from archive.clean import Extraction, clean_page
from archive.config import ProfileConfig
from archive.normalize import content_hash
from archive.profiles import ProfileBook

Cleaned = tuple[Extraction, str | None]

log = logging.getLogger(__name__)

_WORKER_BOOK: ProfileBook | None = None


def clean_with(
    book: ProfileBook, profile: str, body: bytes, content_type: str | None, site_title: str | None
) -> Cleaned:
    """Clean and hash one body: the unit of work, the same in-line or in a worker."""
    extraction = clean_page(body, book.get(profile), content_type=content_type, site_title=site_title)
    digest = content_hash(extraction.text) if extraction.outcome == "ok" else None
    return extraction, digest


def _die_with_parent(parent: int) -> None:
    """Make a worker end when the crawl process does, even on SIGKILL (Linux PR_SET_PDEATHSIG).

    Without it a killed crawl leaves its forked workers waiting forever on a queue nobody feeds.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own broken-pipe handling remains
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def _init_worker(profiles: Mapping[str, ProfileConfig], parent: int) -> None:
    global _WORKER_BOOK
    _die_with_parent(parent)
    _WORKER_BOOK = ProfileBook(profiles)


def _clean_in_worker(profile: str, body: bytes, content_type: str | None, site_title: str | None) -> Cleaned:
    assert _WORKER_BOOK is not None, "worker not initialised"
    return clean_with(_WORKER_BOOK, profile, body, content_type, site_title)


class Cleaner:
    """Cleans pages in-line or in a process pool, behind one awaitable call."""

    def __init__(self, profiles: Mapping[str, ProfileConfig], workers: int | None) -> None:
        self.book = ProfileBook(profiles)
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._profiles = dict(profiles)
        self._pool: ProcessPoolExecutor | None = self._start_pool() if self.workers > 0 else None

    def _start_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(self.workers, initializer=_init_worker, initargs=(self._profiles, os.getpid()))
        # Fork every worker now, before the reactor and display threads exist.
        for future in [pool.submit(os.getpid) for _ in range(self.workers)]:
            future.result()
        return pool

    async def clean(self, profile: str, body: bytes, content_type: str | None, site_title: str | None) -> Cleaned:
        """Clean one page; any failure is an ``extraction_failed`` result, so the capture is still kept."""
        try:
            if self._pool is None:
                return clean_with(self.book, profile, body, content_type, site_title)
            future = self._pool.submit(_clean_in_worker, profile, body, content_type, site_title)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            log.error("a cleaning worker died (out of memory or killed); starting a new pool")
            self._restart_pool()
            return Extraction("extraction_failed", "the cleaning worker died on this page"), None
        except Exception as exc:  # a hostile page must cost one capture's text, never the capture
            log.exception("cleaning failed")
            return Extraction("extraction_failed", f"cleaning raised {type(exc).__name__}: {exc}"[:500]), None

    def _restart_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start_pool()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
