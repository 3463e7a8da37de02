"""Retries that wait: exponential backoff, and Retry-After on 429/503.

Scrapy's RetryMiddleware re-queues at once, which is exactly wrong for a small
server that just said "too many requests". This subclass keeps Scrapy's
decision of *what* to retry and adds *when*; the wait is an asyncio sleep, so
the crawl of other sites goes on.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response

log = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.backoff = crawler.settings.getfloat("SPEECH_ARCHIVE_RETRY_BACKOFF", 2.0)
        self.max_retry_after = crawler.settings.getfloat("SPEECH_ARCHIVE_MAX_RETRY_AFTER", 300.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    def _delay(self, request: Request, response: Response | None) -> float | None:
        if response is not None and response.status in (429, 503):
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wait is not None:
                if wait > self.max_retry_after:
                    return None
                return wait
        tries = int(request.meta.get("retry_times", 0))
        return self.backoff * (2**tries)

    async def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = self._delay(request, response)
        if delay is None:
            log.warning(
                "%s asked to wait longer than %.0fs; giving the page up for this run", request.url, self.max_retry_after
            )
            return response
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        if delay > 0:
            log.info("waiting %.1fs before retrying %s (HTTP %d)", delay, request.url, response.status)
            await asyncio.sleep(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Any:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is not None and self.backoff > 0:
            await asyncio.sleep(self._delay(request, None) or 0)
        return retry
