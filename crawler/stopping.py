"""How one crawl process stops: at once for new work, within ``shutdown_grace`` for the rest.

On SIGTERM or SIGINT (Ctrl-C) a crawl stops scheduling requests at once: every
spider is closed, and the requests waiting in the downloader's queues (taken
from the scheduler but not yet sent, held back by the per-host delay) are
dropped, so a stop never drains a queue. Responses already on the wire are
archived as usual. Whatever is still running after ``[daemon] shutdown_grace``
seconds (or after a second signal) is abandoned: the reactor stops and the runs
still open are recorded ``interrupted``. Each page is one transaction, so
abandoning one leaves nothing half-written.

Scrapy's own handlers do the graceful half but not the bound, and drain the
downloader's queues; they are replaced here by handlers that call Scrapy's
public ``CrawlerProcess.stop()`` and stop the reactor at the deadline.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import SQLAlchemyError

from archive.storage.dberrors import describe
from archive.storage.runs import finish_run

if TYPE_CHECKING:
    from crawler.pipeline import CrawlContext

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class RequestDropped(IgnoreRequest):
    """A queued request the stopping crawl never sent: no capture (the page was not fetched)."""


class Stopper:
    """The stop of one crawl process: signal handlers, the grace deadline, runs left open."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.stopping = False
        """True from the first signal on: the archive writer then stops waiting for a database that is away."""
        self.forced: str | None = None
        self.signal_name: str | None = None
        self._process: CrawlerProcess | None = None

    @staticmethod
    def call_soon(call: Callable[[], Any]) -> None:
        """Run ``call`` on the reactor thread (from a signal handler or another thread)."""
        _reactor().callFromThread(call)

    @contextlib.contextmanager
    def signals(self, process: CrawlerProcess) -> Iterator[None]:
        """Our SIGTERM/SIGINT handlers while ``process`` runs (start it with install_signal_handlers=False)."""
        self._process = process
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            yield
            return
        previous = {signum: signal.signal(signum, self._on_signal) for signum in SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # No logging here: the interrupted code may be writing to the same stream.
        if not self.stopping:
            self.stopping = True
            self.signal_name = signal.Signals(signum).name
            self.call_soon(self._begin)
        else:
            self.call_soon(lambda: self._force(f"received {signal.Signals(signum).name} again"))

    def _begin(self) -> None:
        log.warning(
            "received %s: stopping the crawl; pages in flight get up to %.0f s ([daemon] shutdown_grace)",
            self.signal_name,
            self.grace,
        )
        assert self._process is not None
        for crawler in list(self._process.crawlers):
            drop_queued_requests(crawler)
        self._process.stop()
        _reactor().callLater(self.grace, self._force, f"[daemon] shutdown_grace ({self.grace:.0f} s) passed")

    def _force(self, why: str) -> None:
        reactor = _reactor()
        if not reactor.running or self.forced:
            return
        self.forced = why
        log.warning("%s: abandoning the pages still in flight", why)
        with contextlib.suppress(RuntimeError):
            reactor.stop()

    def stop_site(self, context: CrawlContext, name: str, reason: str) -> None:
        """Close one site's spider with ``reason`` (a lost lease): no new requests, in-flight pages finish."""
        crawler = context.crawlers.get(name)
        engine = crawler.engine if crawler is not None else None
        if engine is None or engine.spider is None or name in context.closing:
            return
        context.closing.add(name)
        drop_queued_requests(crawler)  # type: ignore[arg-type]
        deferred_from_coro(engine.close_spider_async(reason=reason))

    def record_abandoned(self, context: CrawlContext) -> None:
        """Runs the reactor stopped under (grace passed, a second signal): recorded ``interrupted`` now."""
        for report in context.report.sites.values():
            if report.status != "running":
                continue
            report.status = "interrupted"
            report.error = f"stopped before the end ({self.forced or 'the crawl process stopped'})"
            if report.run_id is None:
                continue
            try:
                with context.archive.session() as session:
                    finish_run(session, report.run_id, report.status, report.stats(), report.error)
            except SQLAlchemyError as exc:
                log.error("the end of run %d could not be recorded: %s", report.run_id, describe(exc))


def _reactor() -> Any:
    """Twisted's global reactor (installed by Scrapy before the crawl starts), untyped as Twisted has it."""
    from twisted.internet import reactor

    return reactor


def drop_queued_requests(crawler: Crawler) -> int:
    """Fail the requests waiting in the downloader's per-host queues (not yet sent) with IgnoreRequest.

    Scrapy's close waits for every request it has taken from the scheduler, and with a per-host
    delay those can be many seconds of queue; a stop must not send them. Their errbacks run
    (a RequestDropped leaves no capture: the page was not fetched).
    """
    engine = crawler.engine
    slots = getattr(getattr(engine, "downloader", None), "slots", {}) if engine is not None else {}
    dropped = 0
    for slot in list(slots.values()):
        queue = getattr(slot, "queue", None)
        while queue:
            request, deferred = queue.popleft()
            dropped += 1
            deferred.errback(RequestDropped(f"the crawl is stopping; {request.url} was not sent"))
    if dropped:
        log.debug("%d queued request(s) dropped, not sent", dropped)
    return dropped
