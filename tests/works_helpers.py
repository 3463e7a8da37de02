"""Copies of generated speeches, ingested through the real ingest: the material of the works tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from archive.cleaning.core import Extraction
from archive.cleaning.metadata import count_masks
from archive.cleaning.normalize import content_hash
from archive.cleaning.result import GAP_MARKER
from archive.records import Fetched, ProcessedPage
from archive.storage.engine import Archive
from archive.storage.ingest import ingest
from archive.storage.models import Site
from archive.storage.rawstore import pack_raw
from replica.textgen import generate_speech

T0 = dt.datetime(2025, 1, 1, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
SITES = ("one", "two", "three")


def add_sites(archive: Archive, names: tuple[str, ...] = SITES) -> None:
    with archive.session() as s:
        s.add_all([Site(name=n, base_url=f"http://127.0.0.1:{i + 1}") for i, n in enumerate(names)])


def speech(seed: int, mask: str = "**") -> str:
    return generate_speech(seed, mask=mask).text


def truncated(text: str, keep: float) -> str:
    """The first ``keep`` share of a text, cut mid-sentence, ended with our gap marker (a paywalled copy)."""
    return text[: int(len(text) * keep)] + GAP_MARKER


def put(archive: Archive, site: str, url: str, text: str, when: dt.datetime, **meta: Any) -> str:
    """Ingest one page whose cleaned text is ``text``; partial when it carries the gap marker."""
    ext = Extraction(
        "ok",
        text=text,
        char_count=len(text),
        partial=GAP_MARKER in text,
        masked_count=count_masks(text),
        title=meta.pop("title", "区委书记在全区工作会议上的讲话"),
        **meta,
    )
    body = f"<html>{url}</html>".encode()
    fetched = Fetched(site=site, url=url, fetched_at=when, status=200, body=body)
    with archive.session() as s:
        site_row = s.execute(select(Site).where(Site.name == site)).scalar_one()
        ingest(s, site_row, fetched, ProcessedPage(ext, content_hash(text), pack_raw(body)))
    return content_hash(text)
