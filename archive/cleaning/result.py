"""What cleaning returns for one page: an :class:`Extraction`, a plain value.

A failed extraction is a value too (outcome ``extraction_failed`` or
``blocked`` with a reason), never an exception, so a crawl always records the
capture. The extractor version names what produced a text, so a better
cleaner is never mistaken for a page edit (docs/CLEANING.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import trafilatura

EXTRACTOR_REV = "4"
"""Bump when the cleaning output changes for the same page and profile (docs/CLEANING.md)."""
EXTRACTOR_VERSION = f"sa{EXTRACTOR_REV}+trafilatura{trafilatura.__version__}"

GAP_MARKER = "[……]"
"""Our own marker for text the site withheld (paywall, truncated preview); see docs/CLEANING.md."""


@dataclass(frozen=True)
class Gap:
    offset: int
    """Character offset of the gap marker in the stored text."""
    omitted_chars: int | None
    """Characters the site said it left out, when it said."""


@dataclass(frozen=True)
class Extraction:
    outcome: str
    """ok / extraction_failed / blocked / not_html (a PDF, an image, JSON: kept raw, never cleaned)."""
    reason: str | None = None
    text: str = ""
    title: str | None = None
    published_at: dt.datetime | None = None
    category: list[str] = field(default_factory=list)
    source: str | None = None
    outline: list[str] = field(default_factory=list)
    partial: bool = False
    gaps: list[Gap] = field(default_factory=list)
    declared_chars: int | None = None
    shown_chars: int | None = None
    masked_count: int = 0
    char_count: int = 0
    speaker: str | None = None
    occasion: str | None = None
    genre: str | None = None
    encoding: str | None = None
    extractor_version: str = EXTRACTOR_VERSION
    profile: str | None = None
    method: str | None = None
    """Which path found the body: ``hint``, ``prose-block``, ``prose-block+trafilatura``, ``trafilatura``, ``none``."""
    body_reason: str | None = None
    """Why that path won, in a few words (shown by ``extract`` as ``body_reason``)."""
    boilerplate: list[str] = field(default_factory=list)
    """Lines the profile's boilerplate rules removed (up to 20, cut at 100 characters): cleaning health."""
    cleaner_error: bool = False
    """The cleaner itself failed on this page (a bug to report), as opposed to a page with no text."""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def version_fields(self) -> dict[str, Any]:
        """The metadata a version stores, by column name: one mapping for ingest, extract and tests."""
        return {
            "title": self.title,
            "published_at": self.published_at,
            "category": list(self.category),
            "source": self.source,
            "outline": list(self.outline),
            "partial": self.partial,
            "gaps": [{"offset": g.offset, "omitted_chars": g.omitted_chars} for g in self.gaps],
            "declared_chars": self.declared_chars,
            "shown_chars": self.shown_chars,
            "masked_count": self.masked_count,
            "char_count": self.char_count,
            "speaker": self.speaker,
            "occasion": self.occasion,
            "genre": self.genre,
            "extractor_version": self.extractor_version,
        }
