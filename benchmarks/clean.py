"""The cleaning benchmark (`speech-archive bench-clean`): cleaning speed on the replica's pages, in one process.

Cleaning bounds the crawl pipeline (DESIGN.md: trafilatura is 4x a fetch), so
its speed is measured on its own: replica article pages of every site are
rendered in-process (no HTTP), then each is cleaned and hashed exactly as a
crawl worker does (``process_page``: clean, hash, pack) one at a time, timed
page by page (wall time, and the process's CPU time, which a machine shared
with other jobs disturbs less). One process on one core: the figure is pages/s per core, and a
crawl with ``clean_workers = N`` scales it by up to N.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

from archive.cleaning import EXTRACTOR_VERSION, ProfileBook
from crawler.workers import PageJob, process_page

WARM_UP = 5


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


def run_bench(pages: int, page_kb: int) -> dict[str, Any]:
    """Clean every page of the corpus once; per-page times in milliseconds, summarised."""
    corpus = render_corpus(pages, page_kb)
    book = ProfileBook()
    jobs = [(site, PageJob(site, body, ctype, title)) for site, body, ctype, title in corpus]
    for _site, job in jobs[:WARM_UP]:
        process_page(book, job)
    times: dict[str, list[float]] = {}
    cpu: list[float] = []
    failed = 0
    for site, job in jobs:
        started, started_cpu = time.perf_counter(), time.process_time()
        processed = process_page(book, job)
        failed += processed.content_hash is None
        times.setdefault(site, []).append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    every = [t for ts in times.values() for t in ts]
    median = statistics.median(every)
    return {
        "pages": len(every),
        "page_kb": page_kb,
        "cores": os.cpu_count(),
        "extractor_version": EXTRACTOR_VERSION,
        "median_ms": round(median, 2),
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "p90_ms": round(statistics.quantiles(every, n=10)[-1], 2) if len(every) > 1 else round(median, 2),
        "pages_per_s_per_core": round(1000 / median, 1),
        "mean_pages_per_s_per_core": round(1000 * len(every) / sum(every), 1),
        "failed": failed,
        "sites": {
            site: {"pages": len(ts), "median_ms": round(statistics.median(ts), 2)} for site, ts in sorted(times.items())
        },
    }


if __name__ == "__main__":
    import sys

    print(json.dumps(run_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 500, 50), indent=2))
