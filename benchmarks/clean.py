"""The cleaning benchmark (`speech-archive bench-clean`): our cleaning beside plain trafilatura, in one process.

Cleaning bounds the crawl pipeline (DESIGN.md: trafilatura is 4x a fetch), so
its cost is measured on its own, on synthetic pages rendered in-process (no
HTTP): by default the crawl benchmark's own pages (``bench``:
benchmarks/crawl_corpus.py, 众一秘书网's template, 5,000-16,000 characters,
10 % GBK), or the replica's five sites (``replica``). Each page is, one after
the other and timed in CPU time of this process:

- cleaned by us (``clean``) and, separately, run through the whole unit a crawl
  worker runs (``process_page``: clean + content hash + raw SHA-256 and zstd +
  search tokens);
- extracted by plain ``trafilatura.extract`` on the same bytes (defaults: what the
  crawl benchmark's ``plain_pool`` runs).

Interleaving them page by page means a busy moment of a shared machine costs
both alike, so the ratio is steadier than either figure. A warm-up pass over
the first pages keeps one-time set-up (imports, lazy caches) out of the
figures. One process on one core: a crawl with ``clean_workers = N`` scales
the pages per second by up to N.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import trafilatura

from archive.cleaning import EXTRACTOR_VERSION, ProfileBook, clean
from crawler.workers import PageJob, process_page

SOURCES = ("bench", "replica")
WARM_UP = 30


def render_corpus(pages: int, page_kb: int, seed: int = 0) -> list[tuple[str, bytes, str, str]]:
    """(site, body, Content-Type, site title) of ``pages`` replica articles, spread over the five sites."""
    from replica.catalogue import Catalogue
    from replica.sites import SITE_NAMES, SITES

    per_site = -(-pages // len(SITE_NAMES))
    corpus: list[tuple[str, bytes, str, str]] = []
    for index, name in enumerate(SITE_NAMES):
        template = SITES[name]
        catalogue = Catalogue(template, per_site, seed, index)
        for aid in catalogue.ids():
            view = catalogue.article_view(aid, "http://127.0.0.1:8800", page_kb)
            corpus.append((name, template.encode(template.render_article(view)), template.content_type, template.title))
    return corpus[:pages] if len(corpus) > pages else corpus


def render_bench_corpus(pages: int, page_kb: int) -> list[tuple[str, bytes, str, str]]:
    """The crawl benchmark's article pages, as (site, body, Content-Type, site title), served as nginx does."""
    from benchmarks.crawl_corpus import SITE, render_articles
    from replica.site_cms import Zhongyi

    return [(SITE, body, "text/html", Zhongyi.title) for _path, body, _chars in render_articles(pages, page_kb)]


def _cpu_ms(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return (time.process_time() - started) * 1000


def _spread(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 2), "median": round(statistics.median(values), 2)}


def run_bench(pages: int, page_kb: int, source: str = "bench") -> dict[str, Any]:
    """Clean every page once, beside plain trafilatura; CPU milliseconds per page, summarised, and the ratios."""
    corpus = render_bench_corpus(pages, page_kb) if source == "bench" else render_corpus(pages, page_kb)
    book = ProfileBook()
    jobs = [(site, PageJob(site, body, ctype, title, site=site)) for site, body, ctype, title in corpus]
    for _site, job in jobs[:WARM_UP]:
        process_page(book, job)
        trafilatura.extract(job.body)
    ours: list[float] = []
    unit: list[float] = []
    plain: list[float] = []
    wall: dict[str, list[float]] = {}
    failed = 0
    for site, job in jobs:
        profile = book.get(job.profile)
        ours.append(_cpu_ms(lambda: clean(job.body, profile, content_type=job.content_type, site_title=job.site_title)))  # noqa: B023
        started = time.perf_counter()
        processed: list[Any] = []
        unit.append(_cpu_ms(lambda: processed.append(process_page(book, job))))  # noqa: B023
        wall.setdefault(site, []).append((time.perf_counter() - started) * 1000)
        failed += processed[0].content_hash is None
        plain.append(_cpu_ms(lambda: trafilatura.extract(job.body)))  # noqa: B023
    every = [t for ts in wall.values() for t in ts]
    median = statistics.median(every)
    return {
        "source": source,
        "pages": len(jobs),
        "page_kb": page_kb,
        "cores": os.cpu_count(),
        "extractor_version": EXTRACTOR_VERSION,
        "cpu_ms_per_page": {
            "clean": _spread(ours),
            "worker_unit": _spread(unit),
            "plain_trafilatura": _spread(plain),
        },
        "clean_vs_plain_trafilatura": round(sum(ours) / sum(plain), 2),
        "worker_unit_vs_plain_trafilatura": round(sum(unit) / sum(plain), 2),
        "median_ms": round(median, 2),
        "cpu_median_ms": round(statistics.median(unit), 2),
        "p90_ms": round(statistics.quantiles(every, n=10)[-1], 2) if len(every) > 1 else round(median, 2),
        "pages_per_s_per_core": round(1000 / median, 1),
        "mean_pages_per_s_per_core": round(1000 * len(every) / sum(every), 1),
        "failed": failed,
        "sites": {
            site: {"pages": len(ts), "median_ms": round(statistics.median(ts), 2)} for site, ts in sorted(wall.items())
        },
    }


if __name__ == "__main__":
    import sys

    print(json.dumps(run_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 500, 50), indent=2))
