"""Per-site zstd dictionaries for raw pages: trained on the site's stored pages, kept and versioned in the archive.

Pages of one site repeat one CMS template (head, navigation, sidebars,
footer) around a body; plain zstd rediscovers that template in every page,
a dictionary trained on the site's pages starts with it. Training takes the
site's most recent stored raw pages (up to ``MAX_SAMPLES``), holds every
``HOLD_OUT_EVERY``-th one out, trains on the rest and measures the
dictionary on the held-out pages (bytes per page, plain zstd level 3 against
level 3 with the dictionary): the figure is for pages it was not trained on,
as the crawl's next pages will be. A dictionary that saves nothing is not
stored.

A new dictionary is a new row (``raw_dictionaries``); rows are never changed
or deleted, because every raw page compressed with one names it. Crawls
compress new pages with the site's latest dictionary (loaded once when the
crawl starts); pages already stored keep theirs.

When: ``speech-archive train-dict [SITE]``, or at the end of a crawl once the
site has ``[archive] dictionary_min_pages`` stored raw pages and again each
time that count has doubled since the site's latest dictionary was trained.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import zstandard
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.errors import NotFoundError, UsageError
from archive.storage.engine import Archive
from archive.storage.models import Capture, Page, RawDictionary, Site
from archive.storage.rawstore import LEVEL, Dictionary, Packer, RawReader, compress

log = logging.getLogger(__name__)

DICTIONARY_BYTES = 112 * 1024
"""zstd's own default dictionary size (what ``zstd --train`` writes)."""
MAX_SAMPLES = 500
"""The most recent pages a training reads: ~25 MB of 50 KB pages, the ~100x the dictionary's size zstd advises."""
MIN_PAGES = 20
"""Fewer stored pages than this train nothing worth having."""
HOLD_OUT_EVERY = 5


@dataclass(frozen=True)
class Training:
    """What one training did, and what the dictionary saves on pages it was not trained on."""

    site: str
    site_pages: int
    trained_on: int
    held_out: int
    plain_bytes_per_page: int
    dict_bytes_per_page: int
    dict_id: int | None
    """The stored dictionary's id; None when it saved nothing and was not stored."""

    @property
    def ratio(self) -> float:
        """How many times smaller pages are stored with the dictionary than with plain zstd."""
        return round(self.plain_bytes_per_page / max(self.dict_bytes_per_page, 1), 2)

    def as_dict(self) -> dict[str, object]:
        return {
            "site": self.site, "dict_id": self.dict_id, "site_pages": self.site_pages,
            "trained_on": self.trained_on, "held_out": self.held_out,
            "plain_bytes_per_page": self.plain_bytes_per_page, "dict_bytes_per_page": self.dict_bytes_per_page,
            "ratio": self.ratio,
        }  # fmt: skip


def _site_id(session: Session, name: str) -> int:
    site_id = session.execute(select(Site.id).where(Site.name == name)).scalar_one_or_none()
    if site_id is None:
        known = ", ".join(session.execute(select(Site.name).order_by(Site.name)).scalars()) or "none yet"
        raise NotFoundError(f"site {name!r} is not in the archive; sites in the archive: {known}")
    return int(site_id)


def _raw_of_site(site_id: int) -> tuple[object, ...]:
    return (Page.site_id == site_id, Capture.raw_sha256.is_not(None))


def site_raw_pages(session: Session, site_id: int) -> int:
    """Distinct raw pages stored for a site."""
    stmt = (
        select(func.count(func.distinct(Capture.raw_sha256)))
        .join(Page, Page.id == Capture.page_id)
        .where(*_raw_of_site(site_id))  # type: ignore[arg-type]
    )
    return int(session.execute(stmt).scalar_one())


def _latest_row(session: Session, site_id: int) -> RawDictionary | None:
    stmt = select(RawDictionary).where(RawDictionary.site_id == site_id).order_by(RawDictionary.id.desc()).limit(1)
    return session.execute(stmt).scalar_one_or_none()


def latest_dictionaries(archive: Archive, site_names: Iterable[str]) -> dict[str, Dictionary]:
    """Each named site's latest dictionary (sites without one are left out): what a crawl's workers get."""
    names = list(site_names)
    with archive.session() as session:
        newest = (
            select(func.max(RawDictionary.id))
            .join(Site, Site.id == RawDictionary.site_id)
            .where(Site.name.in_(names))
            .group_by(RawDictionary.site_id)
        )
        rows = session.execute(
            select(Site.name, RawDictionary.id, RawDictionary.data)
            .join(Site, Site.id == RawDictionary.site_id)
            .where(RawDictionary.id.in_(newest))
        )
        return {name: Dictionary(dict_id, data) for name, dict_id, data in rows}


def _samples(session: Session, site_id: int, limit: int) -> list[bytes]:
    """The site's most recently captured distinct raw pages, decompressed."""
    newest = (
        select(Capture.raw_sha256)
        .join(Page, Page.id == Capture.page_id)
        .where(*_raw_of_site(site_id))  # type: ignore[arg-type]
        .group_by(Capture.raw_sha256)
        .order_by(func.max(Capture.id).desc())
        .limit(limit)
    )
    reader = RawReader()
    pages = (reader.load(session, sha) for sha in session.execute(newest).scalars() if sha is not None)
    return [page for page in pages if page]


def train(archive: Archive, site: str, *, max_samples: int = MAX_SAMPLES) -> Training:
    """Train, measure and (when it saves bytes) store a new dictionary for one site."""
    with archive.session() as session:
        site_id = _site_id(session, site)
        site_pages = site_raw_pages(session, site_id)
        if site_pages < MIN_PAGES:
            raise UsageError(
                f"site {site!r} has {site_pages} stored raw page(s); a dictionary needs at least {MIN_PAGES} "
                "(crawl more of it first)"
            )
        pages = _samples(session, site_id, max_samples)
    held = pages[HOLD_OUT_EVERY - 1 :: HOLD_OUT_EVERY]
    trained: list[bytes | bytearray | memoryview] = [
        p for i, p in enumerate(pages) if i % HOLD_OUT_EVERY != HOLD_OUT_EVERY - 1
    ]
    size = min(DICTIONARY_BYTES, max(sum(map(len, trained)) // 10, 8 * 1024))
    try:
        dictionary = zstandard.train_dictionary(size, trained, level=LEVEL, threads=1)
    except zstandard.ZstdError as exc:
        raise UsageError(f"site {site!r}: zstd could not train a dictionary on {len(trained)} pages: {exc}") from None
    data = dictionary.as_bytes()
    packer = Packer(Dictionary(0, data))
    plain = sum(len(compress(p)) for p in held) // max(len(held), 1)
    with_dict = sum(len(packer.compress(p)) for p in held) // max(len(held), 1)
    dict_id = None
    if with_dict < plain:
        with archive.session() as session:
            row = RawDictionary(
                site_id=site_id,
                data=data,
                stats={
                    "site_pages": site_pages, "trained_on": len(trained), "held_out": len(held),
                    "plain_bytes_per_page": plain, "dict_bytes_per_page": with_dict,
                },
            )  # fmt: skip
            session.add(row)
            session.flush()
            dict_id = row.id
    result = Training(site, site_pages, len(trained), len(held), plain, with_dict, dict_id)
    log.info(
        "site %s: dictionary %s trained on %d pages: %d bytes a page against %d with plain zstd (%.2fx)",
        site, dict_id if dict_id is not None else "(not stored: it saves nothing)", len(trained), with_dict, plain,
        result.ratio,
    )  # fmt: skip
    return result


def due(archive: Archive, site: str, min_pages: int) -> bool:
    """Whether a crawl should train the site a dictionary now: enough pages, and twice those of the last one."""
    if min_pages <= 0:
        return False
    with archive.session() as session:
        site_id = session.execute(select(Site.id).where(Site.name == site)).scalar_one_or_none()
        if site_id is None:
            return False
        pages = site_raw_pages(session, site_id)
        latest = _latest_row(session, site_id)
    if pages < max(min_pages, MIN_PAGES):
        return False
    return latest is None or pages >= 2 * int(latest.stats.get("site_pages", 0))
