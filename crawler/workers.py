"""Processing pages off the reactor thread: cleaning, hashing and compression in a process pool.

trafilatura costs 6–14 ms a page, four times the fetch; run on Twisted's
thread it caps a crawl at one core. Each page's CPU-bound work is one call,
:func:`process_page`, that returns one :class:`~archive.records.ProcessedPage`
(the extraction, its content hash, the raw body's SHA-256 and its zstd bytes,
the text's search tokens), so the crawl process only fetches and writes. The pool is forked before the
reactor starts, each worker holding its own resolved profiles and a packer per
site with a zstd dictionary (archive/storage/dictionaries.py): the pool gets
the dictionaries when it starts, so none travels with a page. Workers die with
their parent. ``clean_workers = 0`` runs the same call in-line (debugging, and
the benchmark's baseline).
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
from dataclasses import dataclass

from archive.cleaning import Extraction, ProfileBook, clean, content_hash
from archive.config import ProfileConfig
from archive.records import ProcessedPage
from archive.storage.rawstore import PLAIN, Dictionary, Packer, pack_raw
from archive.storage.search import joined_grams

log = logging.getLogger(__name__)

_WORKER_BOOK: ProfileBook | None = None
_WORKER_PACKERS: Packers | None = None


@dataclass(frozen=True)
class PageJob:
    """What a worker needs for one page: sent once (the body is pickled once, nothing else is large)."""

    profile: str
    body: bytes
    content_type: str | None
    site_title: str | None
    keep_raw: bool = True
    url: str | None = None
    """For the log line when the cleaner fails on this page."""
    site: str | None = None
    """The site the page is from, which picks its dictionary; when None, the site whose profile it is."""


class Packers:
    """The packer for each site with a dictionary; plain zstd for any other page.

    A job names its site, or (as long as the pipeline does not say) its
    profile, which names the site when exactly one site of the crawl uses it.
    Any choice stays readable: a stored page records the dictionary it used.
    """

    def __init__(self, dictionaries: Mapping[str, Dictionary], profile_sites: Mapping[str, str]) -> None:
        self._by_site = {site: Packer(d) for site, d in dictionaries.items()}
        self._profile_sites = dict(profile_sites)

    def for_job(self, job: PageJob) -> Packer:
        site = job.site or self._profile_sites.get(job.profile)
        return self._by_site.get(site, PLAIN) if site is not None else PLAIN


NO_DICTIONARIES = Packers({}, {})


def process_page(book: ProfileBook, job: PageJob, packers: Packers = NO_DICTIONARIES) -> ProcessedPage:
    """Clean, hash and pack one body: the unit of work, the same in-line or in a worker."""
    extraction = clean(
        job.body, book.get(job.profile), content_type=job.content_type, site_title=job.site_title, url=job.url
    )
    digest = content_hash(extraction.text) if extraction.ok else None
    raw = pack_raw(job.body, keep=job.keep_raw, packer=packers.for_job(job))
    return ProcessedPage(extraction, digest, raw, joined_grams(extraction.text) if extraction.ok else None)


def _failed(job: PageJob, reason: str, packers: Packers) -> ProcessedPage:
    """A page whose processing failed is still captured: its raw body is kept, its text is not."""
    raw = pack_raw(job.body, keep=job.keep_raw, packer=packers.for_job(job))
    failed = Extraction("extraction_failed", reason, profile=job.profile, cleaner_error=True)
    return ProcessedPage(failed, None, raw)


def _die_with_parent(parent: int) -> None:
    """Make a worker end when the crawl process does, even on SIGKILL (Linux PR_SET_PDEATHSIG).

    Without it a killed crawl leaves its forked workers waiting forever on a queue nobody feeds.
    The signal is SIGKILL: a worker ignores SIGTERM (below) and has nothing to clean up.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own broken-pipe handling remains
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def _init_worker(
    profiles: Mapping[str, ProfileConfig],
    dictionaries: Mapping[str, Dictionary],
    profile_sites: Mapping[str, str],
    parent: int,
) -> None:
    global _WORKER_BOOK, _WORKER_PACKERS
    # Ctrl-C (and a service manager's SIGTERM) reach the whole process group: the crawl process
    # decides how to stop and shuts the pool down; a worker that died of the signal would lose the
    # page in flight, and its KeyboardInterrupt would print a traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent)
    _WORKER_BOOK = ProfileBook(profiles)
    _WORKER_PACKERS = Packers(dictionaries, profile_sites)


def _process_in_worker(job: PageJob) -> ProcessedPage:
    assert _WORKER_BOOK is not None and _WORKER_PACKERS is not None, "worker not initialised"
    return process_page(_WORKER_BOOK, job, _WORKER_PACKERS)


class WorkerPool:
    """Processes pages in-line or in a process pool, behind one awaitable call.

    ``dictionaries`` maps a site to the zstd dictionary its raw pages are
    compressed with; ``profile_sites`` maps a profile to the one site that uses
    it, for jobs that do not name their site.
    """

    def __init__(
        self,
        profiles: Mapping[str, ProfileConfig],
        workers: int | None,
        *,
        dictionaries: Mapping[str, Dictionary] | None = None,
        profile_sites: Mapping[str, str] | None = None,
    ) -> None:
        self.book = ProfileBook(profiles)
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._profiles = dict(profiles)
        self._dictionaries = dict(dictionaries or {})
        self._profile_sites = dict(profile_sites or {})
        self.packers = Packers(self._dictionaries, self._profile_sites)
        self._pool: ProcessPoolExecutor | None = self._start_pool() if self.workers > 0 else None

    def _start_pool(self) -> ProcessPoolExecutor:
        initargs = (self._profiles, self._dictionaries, self._profile_sites, os.getpid())
        pool = ProcessPoolExecutor(self.workers, initializer=_init_worker, initargs=initargs)
        # Fork every worker now, before the reactor and display threads exist.
        for future in [pool.submit(os.getpid) for _ in range(self.workers)]:
            future.result()
        return pool

    async def process(self, job: PageJob) -> ProcessedPage:
        """Process one page; any failure is an ``extraction_failed`` result, so the capture is still kept."""
        try:
            if self._pool is None:
                return process_page(self.book, job, self.packers)
            return await asyncio.wrap_future(self._pool.submit(_process_in_worker, job))
        except BrokenProcessPool:
            log.error("a cleaning worker died on %s (out of memory or killed); starting a new pool", job.url)
            self._restart_pool()
            return _failed(job, "the cleaning worker died on this page", self.packers)
        except Exception as exc:  # a hostile page must cost one capture's text, never the capture
            log.exception("cleaning %s failed", job.url)
            return _failed(job, f"cleaning raised {type(exc).__name__}: {exc}"[:500], self.packers)

    def _restart_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start_pool()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
