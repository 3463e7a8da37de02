"""Cleaning quality and cost on real pages: `speech-archive bench-clean --corpus DIR`.

A corpus is a folder of ``N.html`` pages, each optionally with ``N.txt``, the
main text a person marked by hand (../shared/corpus/README.md). Scoring follows
that README so the figures compare with the ones quoted there: bag-of-characters
precision, recall and F1 after NFKC and removing all white space, per page,
then averaged over the pages. Ours (``archive.cleaning.clean`` on the raw bytes,
default profile) and plain ``trafilatura.extract`` with its default options (on
the same text our decoder produced) are measured in the same run, with the CPU
time each spends per page, so a quality figure always comes with its cost. Both
run once over every page before the measured pass: one-time set-up (imports,
lazy caches, the jusText stop lists plain trafilatura's fallback loads on first
use, ~0.35 s) is not any page's cost.

A page that makes the cleaner raise would be a bug (``clean`` catches
everything); it is counted as ``exceptions`` and scored as an empty text.
"""

from __future__ import annotations

import logging
import re
import statistics
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import trafilatura

from archive.cleaning import Extraction, ProfileBook, clean, decode_html

BELOW = 0.5
"""A page scoring an F1 under this is counted as a failure of the cleaner on it."""


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def _bag(text: str) -> Counter[str]:
    return Counter("".join(unicodedata.normalize("NFKC", text).split()))


def bag_score(gold: str, got: str | None) -> Score:
    """Bag-of-characters precision/recall/F1 after NFKC and removing all white space (nothing found: all 0)."""
    want, have = _bag(gold), _bag(got or "")
    common = sum((want & have).values())
    precision = common / sum(have.values()) if have else 0.0
    recall = common / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


@dataclass(frozen=True)
class PageResult:
    page: str
    outcome: str
    method: str | None
    reason: str | None
    cleaner_error: bool
    exception: str | None
    ours_ms: float
    plain_ms: float
    ours: Score | None
    plain: Score | None


def _order(path: Path) -> tuple[int, str]:
    stem = path.stem
    return (int(stem), "") if stem.isdigit() else (1 << 30, stem)


def corpus_pages(directory: Path) -> list[Path]:
    """The corpus's pages (``*.html``, ``*.htm``), numbered ones in numeric order."""
    return sorted((p for p in directory.iterdir() if re.search(r"\.html?$", p.name)), key=_order)


def _clean_page(body: bytes, book: ProfileBook, url: str) -> tuple[Extraction | None, str | None]:
    try:
        return clean(body, book.get("default"), url=url), None
    except Exception as exc:  # clean() must never raise; if it does, count it rather than stop the benchmark
        return None, f"{type(exc).__name__}: {exc}"


def measure_page(path: Path, book: ProfileBook) -> PageResult:
    """Clean one page both ways, with the CPU time of each."""
    body = path.read_bytes()
    started = time.process_time()
    ext, exception = _clean_page(body, book, str(path))
    ours_ms = (time.process_time() - started) * 1000
    html, _encoding = decode_html(body)
    started = time.process_time()
    plain_text = trafilatura.extract(html)
    plain_ms = (time.process_time() - started) * 1000
    gold_path = path.with_suffix(".txt")
    gold = gold_path.read_text("utf-8", errors="replace") if gold_path.exists() else None
    ours_text = ext.text if ext is not None and ext.ok else None
    return PageResult(
        page=path.stem,
        outcome=ext.outcome if ext is not None else "exception",
        method=ext.method if ext is not None else None,
        reason=(ext.reason if ext is not None else exception),
        cleaner_error=bool(ext is not None and ext.cleaner_error),
        exception=exception,
        ours_ms=ours_ms,
        plain_ms=plain_ms,
        ours=bag_score(gold, ours_text) if gold is not None else None,
        plain=bag_score(gold, plain_text) if gold is not None else None,
    )


def _means(scores: list[Score]) -> dict[str, Any]:
    if not scores:
        return {}
    return {
        "precision": round(statistics.fmean(s.precision for s in scores), 3),
        "recall": round(statistics.fmean(s.recall for s in scores), 3),
        "f1": round(statistics.fmean(s.f1 for s in scores), 3),
        "below_half": sum(1 for s in scores if s.f1 < BELOW),
    }


def run_corpus(directory: Path) -> dict[str, Any]:
    """Every page of the corpus cleaned both ways; per-page rows and the summary."""
    # Plain trafilatura logs an ERROR for each page it cannot parse; here that is a scored
    # outcome (F1 0 in its column), not a problem of the run, so its logger is quiet while we measure.
    library = logging.getLogger("trafilatura")
    level = library.level
    library.setLevel(logging.CRITICAL)
    try:
        return _run_corpus(directory)
    finally:
        library.setLevel(level)


def _run_corpus(directory: Path) -> dict[str, Any]:
    book = ProfileBook()
    pages = corpus_pages(directory)
    for path in pages:  # one-time set-up out of the figures: imports, lazy caches, jusText's stop lists
        body = path.read_bytes()
        _clean_page(body, book, "warm-up")
        trafilatura.extract(decode_html(body)[0])
    results = [measure_page(path, book) for path in pages]
    scored = [r for r in results if r.ours is not None and r.plain is not None]
    ours_ms = [r.ours_ms for r in results]
    plain_ms = [r.plain_ms for r in results]
    return {
        "corpus": str(directory),
        "pages": len(results),
        "with_gold": len(scored),
        "exceptions": sum(1 for r in results if r.exception),
        "cleaner_errors": sum(1 for r in results if r.cleaner_error),
        "outcomes": dict(Counter(r.outcome for r in results)),
        "body_from": dict(Counter(r.method or "-" for r in results)),
        "failed": {r.page: r.reason for r in results if r.outcome != "ok"},
        "ours": _means([r.ours for r in scored if r.ours is not None]),
        "plain_trafilatura": _means([r.plain for r in scored if r.plain is not None]),
        "cpu_ms_per_page": {
            "ours_median": round(statistics.median(ours_ms), 2) if ours_ms else None,
            "plain_median": round(statistics.median(plain_ms), 2) if plain_ms else None,
            "ours_mean": round(statistics.fmean(ours_ms), 2) if ours_ms else None,
            "plain_mean": round(statistics.fmean(plain_ms), 2) if plain_ms else None,
            "ratio_of_totals": round(sum(ours_ms) / sum(plain_ms), 2) if sum(plain_ms) else None,
        },
        "rows": [asdict(r) for r in results],
    }


def markdown_table(report: dict[str, Any]) -> str:
    """The per-page table of a scored corpus (docs/CLEANING.md quotes it)."""

    def cell(score: dict[str, float] | None) -> str:
        return f"{score['precision']:.3f} / {score['recall']:.3f} / {score['f1']:.3f}" if score else "-"

    out = [
        "| page | ours P / R / F1 | plain trafilatura P / R / F1 | body from |",
        "|---|---|---|---|",
    ]
    for row in report["rows"]:
        how = row["method"] or row["outcome"]
        out.append(f"| {row['page']} | {cell(row['ours'])} | {cell(row['plain'])} | {how} |")
    ours, plain = report["ours"], report["plain_trafilatura"]
    if ours:
        out.append(
            f"| **mean** | **{ours['precision']:.3f} / {ours['recall']:.3f} / {ours['f1']:.3f}** "
            f"({ours['below_half']} below {BELOW}) | {plain['precision']:.3f} / {plain['recall']:.3f} / "
            f"{plain['f1']:.3f} ({plain['below_half']} below {BELOW}) | |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run_corpus(Path(sys.argv[1])), indent=2, ensure_ascii=False))
