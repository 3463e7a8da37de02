"""The values one page takes on its way through the stages, in order.

    crawler      -> Fetched         what came back for one URL (status, headers, body or error)
    worker       -> ProcessedPage   everything CPU-bound about it: the Extraction, its content
                                    hash, the raw body's SHA-256 and its compressed bytes
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
    data: bytes | None
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


NOT_PROCESSED = ProcessedPage()
"""The value for a fetch that brought no page to clean (an error, a 304, a 404)."""
