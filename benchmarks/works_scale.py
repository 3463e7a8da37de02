"""One size of the incremental-cost benchmark: ``python -m benchmarks.works_scale build N DIR`` then ``measure DB``.

``build`` makes an archive of N contents (generated speeches, a third of them
re-posts of earlier ones with other masking or truncated) and matches them all
(the setup, timed apart), then checkpoints SQLite's write-ahead log: an archive
at rest. ``measure``, in a fresh process as a crawl would be, stores 200 new
contents (a third copies of stored speeches) and times matching just those:
the cost a crawl adds per new content when the archive already holds N. Each
prints one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from archive.cleaning.metadata import count_masks
from archive.cleaning.normalize import content_hash
from archive.cleaning.result import GAP_MARKER
from archive.config import WorksSettings
from archive.storage import Archive
from archive.storage.models import Content, Page, Site, Version
from archive.works import match_pending
from replica.textgen import MASK_STYLES, generate_speech

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NEW = 200
STYLES = list(MASK_STYLES)


def _text(rng: random.Random, seed: int) -> str:
    text = generate_speech(seed, mask=rng.choice(STYLES)).text
    if rng.random() < 0.3:
        text = text[: int(len(text) * rng.uniform(0.2, 0.9))] + GAP_MARKER
    return text


def texts(rng: random.Random, count: int, base: int, known: list[int]) -> list[tuple[str, int]]:
    out = []
    for i in range(count):
        if known and rng.random() < 0.33:
            seed = rng.choice(known)
        else:
            seed = base + i
            known.append(seed)
        out.append((_text(rng, seed), seed))
    return out


def store(archive: Archive, items: list[tuple[str, int]], start: int) -> None:
    """Contents, pages and versions in bulk (as many crawls would have stored them)."""
    seen: set[str] = set()
    contents, pages, versions = [], [], []
    for i, (text, _seed) in enumerate(items, start):
        digest = content_hash(text)
        when = T0 + dt.timedelta(seconds=i)
        if digest not in seen:
            seen.add(digest)
            contents.append({"hash": digest, "text": text, "char_count": len(text), "created_at": when})
        pages.append({"id": i + 1, "site_id": 1, "url": f"http://127.0.0.1/p/{i}", "first_seen_at": when,
                      "missing_count": 0})  # fmt: skip
        versions.append({
            "page_id": i + 1, "number": 1, "content_hash": digest, "created_at": when, "change": "first",
            "category": [], "outline": [], "partial": GAP_MARKER in text, "gaps": [], "masked_count": count_masks(text),
            "char_count": len(text), "extractor_version": "bench",
        })  # fmt: skip
    with archive.session() as s:
        conn = s.connection()
        existing = {h for (h,) in conn.execute(Content.__table__.select().with_only_columns(Content.hash))}
        fresh = [c for c in contents if c["hash"] not in existing]
        for table, rows in ((Content, fresh), (Page, pages), (Version, versions)):
            for k in range(0, len(rows), 2000):
                conn.execute(insert(table), rows[k : k + 2000])


def build(size: int, workdir: Path) -> dict[str, Any]:
    rng = random.Random(f"works-scale:{size}")
    db = workdir / f"scale-{size}.sqlite3"
    with Archive(f"sqlite:///{db}") as archive:
        with archive.session() as s:
            s.add(Site(id=1, name="bench", base_url="http://127.0.0.1/"))
        known: list[int] = []
        started = time.perf_counter()
        store(archive, texts(rng, size, 10_000_000, known), 0)
        stored = time.perf_counter() - started
        started = time.perf_counter()
        setup = match_pending(archive, WorksSettings())
        setup_seconds = time.perf_counter() - started
        with archive.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    (workdir / f"scale-{size}.known").write_text(" ".join(map(str, known)))
    return {
        "database": str(db),
        "contents": setup.contents,
        "setup_store_seconds": round(stored, 1),
        "setup_match_seconds": round(setup_seconds, 1),
        "setup_match_ms_per_content": round(1000 * setup_seconds / max(1, setup.contents), 3),
        # Linux keeps ru_maxrss across exec: this is at least the parent's peak, not only the build's.
        "peak_rss_mb_setup": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def measure(db: Path) -> dict[str, Any]:
    known = [int(x) for x in db.with_suffix(".known").read_text().split()]
    rng = random.Random(f"works-scale-new:{len(known)}")
    with Archive(f"sqlite:///{db}") as archive:
        with archive.session() as s:
            count = s.execute(select(func.count()).select_from(Page)).scalar_one()
        store(archive, texts(rng, NEW, 90_000_000, known), count)
        started = time.perf_counter()
        report = match_pending(archive, WorksSettings())
        seconds = time.perf_counter() - started
    return {
        "new_contents": report.contents,
        "new_ms_per_content": round(1000 * seconds / max(1, report.contents), 3),
        "new_candidates_per_content": round(report.candidates / max(1, report.contents), 2),
        "new_links": report.links,
        "database_mb": round(db.stat().st_size / 1e6, 1),
    }


if __name__ == "__main__":
    if sys.argv[1] == "build":
        print(json.dumps(build(int(sys.argv[2]), Path(sys.argv[3]))))
    else:
        print(json.dumps(measure(Path(sys.argv[2]))))
