"""The works benchmark (`speech-archive bench-works`): quality and cost of linking copies into works.

Quality on a labelled corpus (benchmarks/works_corpus.py): every copy is
ingested through the real ingest into a fresh SQLite archive in a shuffled
order, then matched by the real matcher (``match_pending``), and the works
found are scored against the truth: pairwise precision and recall, adjusted
Rand index, recall of truncated copies keeping ≥ 30 %, canonical-choice
accuracy. Cost: milliseconds per document for the whole matching (sketch,
buckets, exact check, clustering, database writes) and for the sketch alone,
both also per 5,000 characters; and the cost of matching new contents in an
archive of N contents already matched (``python -m benchmarks.works_scale N``
children, one per size: is it flat from 1k to 100k?).

When ../shared/corpus/cleaneval-zh exists, its hand-cleaned Chinese texts
(written by nobody here) are matched as a second corpus: each text plus
truncated and masked copies of it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from math import comb
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.config import WorksSettings
from archive.errors import CrawlError
from archive.records import Fetched
from archive.storage import Archive, ingest
from archive.storage.models import Site, WorkContent, WorkMember
from archive.works import match_pending
from archive.works.sketch import sketch
from benchmarks.works_corpus import Doc, build

Echo = Callable[[str], None]
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def store_docs(archive: Archive, docs: Sequence[Doc]) -> None:
    """Ingest every copy through the real ingest, one capture a minute, in the corpus order."""
    from archive.cleaning.core import Extraction
    from archive.cleaning.normalize import content_hash
    from archive.records import ProcessedPage

    with archive.session() as s:
        for name in sorted({d.site for d in docs}):
            s.add(Site(name=name, base_url=f"http://127.0.0.1/{name}"))
    for i, doc in enumerate(docs):
        when = T0 + dt.timedelta(minutes=i)
        ext = Extraction("ok", text=doc.text, char_count=len(doc.text), partial=doc.partial, title=doc.title,
                         masked_count=doc.masks)  # fmt: skip
        with archive.session() as s:
            site = s.execute(select(Site).where(Site.name == doc.site)).scalar_one()
            fetched = Fetched(site=doc.site, url=doc.url, fetched_at=when, status=200, body=b"")
            ingest(s, site, fetched, ProcessedPage(ext, content_hash(doc.text), None))


def predicted(archive: Archive, docs: Sequence[Doc]) -> tuple[dict[int, str], dict[str, str]]:
    """(doc key -> work id, work id -> canonical content hash) as the archive holds them."""
    from archive.cleaning.normalize import content_hash

    with archive.session() as s:
        rows = s.execute(
            select(WorkContent.content_hash, WorkMember.work_id, WorkMember.role).join(
                WorkMember, WorkMember.content_id == WorkContent.id
            )
        ).all()
    work_of = {h: w for h, w, _ in rows}
    canonical = {w: h for h, w, r in rows if r == "canonical"}
    return {d.key: work_of[content_hash(d.text)] for d in docs}, canonical


def adjusted_rand(truth: Sequence[Any], found: Sequence[Any]) -> float:
    """Hubert and Arabie's adjusted Rand index of two labellings of the same items."""
    n = len(truth)
    pairs = sum(comb(c, 2) for c in Counter(zip(truth, found, strict=True)).values())
    a = sum(comb(c, 2) for c in Counter(truth).values())
    b = sum(comb(c, 2) for c in Counter(found).values())
    expected = a * b / comb(n, 2) if n > 1 else 0.0
    top = (a + b) / 2
    return 1.0 if top == expected else (pairs - expected) / (top - expected)


def _canonical_truth(copies: Sequence[Doc], arrival: dict[int, int]) -> Doc:
    """The rule applied to what is true: complete, then longest shown text, fewest masks, earliest captured.

    Complete and length come from the generator's truth (what the page shows before
    cleaning), masks from the generated body, the capture order from the corpus order.
    """
    return min(copies, key=lambda d: (d.keep < 1, -d.length, d.masks, arrival[d.key]))


def score(docs: Sequence[Doc], work_of: dict[int, str], canonical: dict[str, str]) -> dict[str, Any]:
    from archive.cleaning.normalize import content_hash

    truth = [d.work for d in docs]
    found = [work_of[d.key] for d in docs]
    same_true = sum(comb(c, 2) for c in Counter(truth).values())
    same_found = sum(comb(c, 2) for c in Counter(found).values())
    both = sum(comb(c, 2) for c in Counter(zip(truth, found, strict=True)).values())
    arrival = {d.key: i for i, d in enumerate(docs)}
    works: dict[int, list[Doc]] = {}
    for d in docs:
        works.setdefault(d.work, []).append(d)
    truncated_total = truncated_found = canon_total = canon_right = 0
    for copies in works.values():
        if len(copies) < 2:
            continue
        best = _canonical_truth(copies, arrival)
        canon_total += 1
        canon_right += canonical.get(work_of[best.key]) == content_hash(best.text)
        for d in copies:
            if d is not best and d.keep < 1 and d.keep >= 0.3:
                truncated_total += 1
                truncated_found += work_of[d.key] == work_of[best.key]
    return {
        "documents": len(docs),
        "works": sum(len(c) > 1 for c in works.values()),
        "hard_negatives": sum(d.negative for d in docs),
        "pairwise_precision": round(both / same_found, 4) if same_found else 1.0,
        "pairwise_recall": round(both / same_true, 4) if same_true else 1.0,
        "true_pairs": same_true,
        "found_pairs": same_found,
        "adjusted_rand_index": round(adjusted_rand(truth, found), 4),
        "truncated_copies_30pct": truncated_total,
        "truncated_recall_30pct": round(truncated_found / truncated_total, 4) if truncated_total else 1.0,
        "canonical_accuracy": round(canon_right / canon_total, 4) if canon_total else 1.0,
        "false_merges_with_negatives": sum(1 for d in docs if d.negative and Counter(found)[work_of[d.key]] > 1),
    }


def sketch_cost(docs: Sequence[Doc], settings: WorksSettings) -> dict[str, float]:
    """The sketch alone (normalise, shingle, MinHash, LSH keys), per document and per 5,000 characters."""
    texts = [d.text for d in docs]
    started = time.perf_counter()
    for text in texts:
        sketch(text, settings)
    seconds = time.perf_counter() - started
    chars = sum(map(len, texts))
    return {
        "sketch_ms_per_document": round(1000 * seconds / len(texts), 3),
        "sketch_ms_per_5000_chars": round(1000 * seconds / chars * 5000, 3),
    }


def run_quality(docs: Sequence[Doc], settings: WorksSettings, workdir: Path) -> dict[str, Any]:
    with Archive(f"sqlite:///{workdir / 'quality.sqlite3'}") as archive:
        store_docs(archive, docs)
        started = time.perf_counter()
        report = match_pending(archive, settings)
        seconds = time.perf_counter() - started
        work_of, canonical = predicted(archive, docs)
    chars = sum(len(d.text) for d in docs)
    return {
        **score(docs, work_of, canonical),
        "mean_chars": round(chars / len(docs)),
        "match_ms_per_document": round(1000 * seconds / len(docs), 3),
        "match_ms_per_5000_chars": round(1000 * seconds / chars * 5000, 3),
        **sketch_cost(docs, settings),
        "candidates_checked": report.candidates,
        "links": report.links,
    }


def _child(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.works_scale", *args], capture_output=True, text=True, check=False
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    raise CrawlError(f"works scale benchmark {args} failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")


def _scale_child(size: int, workdir: Path) -> dict[str, Any]:
    """Build an archive of ``size`` contents in one child, measure new contents in a fresh one (as a crawl)."""
    built = _child("build", str(size), str(workdir))
    return {**built, **_child("measure", built["database"])}


def real_corpus(directory: Path, settings: WorksSettings, workdir: Path) -> dict[str, Any] | None:
    """Hand-cleaned texts nobody here wrote, each with truncated and masked copies of itself."""
    from benchmarks.works_real import real_docs

    docs = real_docs(directory)
    if not docs:
        return None
    result = run_quality(docs, settings, workdir / "real")
    return {"source": str(directory), **result}


def run_benchmark(
    works: int,
    negatives: int,
    scales: Sequence[int],
    echo: Echo,
    *,
    real: Path | None = None,
    settings: WorksSettings | None = None,
) -> dict[str, Any]:
    settings = settings or WorksSettings()
    with tempfile.TemporaryDirectory(prefix="sa-bench-works-") as tmp:
        workdir = Path(tmp)
        out: dict[str, Any] = {"cores": os.cpu_count(), "settings": settings.model_dump()}
        if real is not None and real.is_dir():
            echo(f"matching the hand-cleaned texts of {real} with copies of them…")
            (workdir / "real").mkdir()
            out["real_texts"] = real_corpus(real, settings, workdir)
        echo(f"rendering and cleaning {works} works × 2–6 copies and {negatives} hard negatives…")
        docs = build(works, negatives)
        echo(f"matching {len(docs)} documents…")
        out["replica"] = run_quality(docs, settings, workdir)
        out["incremental"] = []
        for size in scales:
            echo(f"incremental cost in an archive of {size:,} matched contents (building it first)…")
            out["incremental"].append(_scale_child(size, workdir))
    return out
