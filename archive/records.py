"""The values one page takes on its way through the stages, in order.

    crawler      -> Fetched         what came back for one URL (status, headers, body or error)
    worker       -> ProcessedPage   everything CPU-bound about it: the Extraction, its content
                                    hash, the raw body's SHA-256 and its compressed bytes, the
                                    text's search tokens
    storage      -> Ingested        what the capture meant (new version, unchanged, ...)

Plain frozen data, no Scrapy or SQLAlchemy types, so they cross process
boundaries (the cleaning pool) by pickling and every stage can be tested alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from archive.cleaning.result import Extraction


@dataclass(frozen=True)
class Fetched:
    """What the crawler hands over for one page."""

    site: str
    url: str
    fetched_at: dt.datetime
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    error: str | None = None
    run_id: int | None = None
    final_url: str | None = None
    """Where the answer came from when that is not ``url`` (an on-site redirect was followed),
    or where a redirect pointed that was not followed (``offsite_redirect``)."""
    offsite_redirect: bool = False
    """The site redirected this URL to another host or scheme; the redirect was not followed."""

    def __repr__(self) -> str:
        """Short: a page's repr ends up in log lines (Scrapy's "Error processing …"), its body must not."""
        size = "no body" if self.body is None else f"{len(self.body)} bytes"
        error = f", error={self.error[:200]!r}" if self.error else ""
        return f"Fetched(site={self.site!r}, url={self.url!r}, status={self.status}, {size}{error})"

    def header(self, name: str) -> str | None:
        """A response header, case-insensitively."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def succeeded(self) -> bool:
        """A 2xx answer with a body: the only kind that is cleaned."""
        return self.body is not None and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class PackedRaw:
    """A raw body as the archive stores it: addressed by SHA-256, compressed once, off the reactor thread."""

    sha256: str
    size: int
    compression: str
    data: bytes | None = field(repr=False)
    """The compressed bytes; None when the archive does not keep raw pages ([archive] keep_raw = false)."""
    dict_id: int | None = None
    """The archive's id of the zstd dictionary ``data`` was compressed with; None for plain zstd."""


@dataclass(frozen=True)
class ProcessedPage:
    """Everything CPU-bound about one fetched page, computed in one place (a cleaning worker)."""

    extraction: Extraction | None = None
    """None when the page was not cleaned (not a 2xx answer with a body)."""
    content_hash: str | None = None
    """SHA-256 of the normalised text, when the extraction is ok."""
    raw: PackedRaw | None = None
    search_tokens: str | None = field(default=None, repr=False)
    """The text's search tokens (every character and pair of neighbouring characters, space-separated:
    archive.storage.search.joined_grams), when the extraction is ok: CPU work done by the worker, so
    the archive's writer only inserts them."""

    def __repr__(self) -> str:
        outcome = self.extraction.outcome if self.extraction is not None else "not cleaned"
        chars = self.extraction.char_count if self.extraction is not None else 0
        size = f"{self.raw.size} raw bytes" if self.raw is not None else "no raw page"
        return f"ProcessedPage({outcome}, {chars} chars, {size})"


NOT_PROCESSED = ProcessedPage()
"""The value for a fetch that brought no page to clean (an error, a 304, a 404)."""
