"""One page's capture in its own transaction, whatever the database answers.

:func:`~archive.storage.ingest.ingest` decides what a capture means and writes it;
:func:`store_capture` runs it in a transaction of its own and deals with the three
ways the database can say no (a crawl's writer stores pages in batches and comes
here, page by page, for a batch the database refused; crawler/writer.py):

- **a race on a version number** with another writer (a crawl that took the
  site's lease after ours was lost, a re-clean): the unique key of
  ``(page_id, number)`` refuses the second version; the capture is decided
  again against what is stored now and written (a few times at most);
- **a refusal of this page** (a constraint or a value the database cannot
  store, or a bug anywhere between fetch and commit): the capture is still
  recorded, as ``store_failed`` with the reason, keeping the raw page when it
  can; a page's capture is never dropped;
- **the database cannot be written at all** (unreachable, locked past the busy
  timeout, disk full, read-only): the exception is raised for the caller to
  wait out and retry (crawler/writer.py); nothing was written.
"""

from __future__ import annotations

import logging

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from archive.errors import ArchiveError
from archive.records import Fetched, ProcessedPage
from archive.storage.dberrors import db_reason, unavailable
from archive.storage.engine import Archive
from archive.storage.ingest import ACCEPT_SHRINK_AFTER, Ingested, RecheckPolicy, ingest, page_state
from archive.storage.models import Capture, Site
from archive.storage.rawstore import store_packed

log = logging.getLogger(__name__)

RACE_ATTEMPTS = 3
"""Times a capture is decided again after another writer took its version number."""


class CaptureRefusedError(ArchiveError):
    """Not even a ``store_failed`` capture of this page could be written (the database refuses its URL)."""


def _reason(exc: BaseException) -> str:
    text = db_reason(exc) if isinstance(exc, SQLAlchemyError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500]


def store_capture(
    archive: Archive,
    site: Site,
    fetched: Fetched,
    processed: ProcessedPage,
    *,
    policy: RecheckPolicy | None = None,
    accept_shrink_after: int = ACCEPT_SHRINK_AFTER,
) -> Ingested:
    """Record one capture in its own transaction.

    Raises a SQLAlchemyError only when the database cannot be written now (``unavailable``),
    and :class:`CaptureRefusedError` when the database refuses even the page's URL.
    """
    failure: BaseException | None = None
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            with archive.session() as session:
                return ingest(session, site, fetched, processed, policy=policy, accept_shrink_after=accept_shrink_after)
        except IntegrityError as exc:
            failure = exc
            log.info("%s: another writer stored a version first (attempt %d); deciding again", fetched.url, attempt)
        except SQLAlchemyError as exc:
            if unavailable(exc):
                raise
            failure = exc
            break
        except Exception as exc:  # a bug between fetch and commit must cost the page's text, never its capture
            failure = exc
            break
    assert failure is not None
    reason = f"the archive refused this capture: {_reason(failure)}"
    log.error("%s: %s; recorded as store_failed", fetched.url, reason)
    return _store_failed(archive, site, fetched, processed, reason)


def _store_failed(
    archive: Archive,
    site: Site,
    fetched: Fetched,
    processed: ProcessedPage,
    reason: str,
) -> Ingested:
    """The capture alone (page row, raw page when possible, no version), with the reason."""
    last: BaseException | None = None
    for keep_raw in (True, False):
        try:
            with archive.session() as session:
                page = page_state(session, site.id, fetched.url, fetched.fetched_at)
                raw_sha = store_packed(session, processed.raw) if keep_raw and processed.raw is not None else None
                session.connection().execute(
                    insert(Capture),
                    {
                        "page_id": page.id,
                        "run_id": fetched.run_id,
                        "fetched_at": fetched.fetched_at,
                        "status_code": fetched.status,
                        "outcome": "store_failed",
                        "raw_sha256": raw_sha,
                        "headers": dict(fetched.headers),
                        "content_hash": processed.content_hash,
                        "error": reason,
                        "final_url": fetched.final_url,
                    },
                )
            return Ingested("store_failed", page.id, reason=reason, new_page=page.created)
        except SQLAlchemyError as exc:
            if unavailable(exc):
                raise
            last = exc
    assert last is not None
    raise CaptureRefusedError(f"{fetched.url}: not even a failed capture could be stored: {_reason(last)}")
