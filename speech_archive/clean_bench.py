"""`speech-archive bench-clean`: cleaning speed on the replica's pages, in one process.

Cleaning bounds the crawl pipeline (DESIGN.md: trafilatura is 4x a fetch), so
its speed is measured on its own: replica article pages of every site are
rendered in-process (no HTTP), then each is cleaned and hashed exactly as a
crawl worker does (``clean_page`` + ``content_hash``) one at a time, timed
page by page. One process on one core: the figure is pages/s per core, and a
crawl with ``clean_workers = N`` scales it by up to N.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

import click

from archive.clean import EXTRACTOR_VERSION, clean_page
from archive.normalize import content_hash
from archive.profiles import ProfileBook
from speech_archive.console import err_console, out_console

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
    for site, body, ctype, title in corpus[:WARM_UP]:
        clean_page(body, book.get(site), content_type=ctype, site_title=title)
    times: dict[str, list[float]] = {}
    failed = 0
    for site, body, ctype, title in corpus:
        started = time.perf_counter()
        ext = clean_page(body, book.get(site), content_type=ctype, site_title=title)
        if ext.outcome == "ok":
            content_hash(ext.text)
        else:
            failed += 1
        times.setdefault(site, []).append((time.perf_counter() - started) * 1000)
    every = [t for ts in times.values() for t in ts]
    median = statistics.median(every)
    return {
        "pages": len(every),
        "page_kb": page_kb,
        "cores": os.cpu_count(),
        "extractor_version": EXTRACTOR_VERSION,
        "median_ms": round(median, 2),
        "p90_ms": round(statistics.quantiles(every, n=10)[-1], 2) if len(every) > 1 else round(median, 2),
        "pages_per_s_per_core": round(1000 / median, 1),
        "mean_pages_per_s_per_core": round(1000 * len(every) / sum(every), 1),
        "failed": failed,
        "sites": {
            site: {"pages": len(ts), "median_ms": round(statistics.median(ts), 2)} for site, ts in sorted(times.items())
        },
    }


@click.command("bench-clean")
@click.option("--pages", type=click.IntRange(10, 100_000), default=500, show_default=True, help="Replica pages.")
@click.option("--page-kb", type=click.IntRange(1, 500), default=50, show_default=True, help="Size of each page.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def bench_clean(pages: int, page_kb: int, as_json: bool) -> None:
    """Measure cleaning speed (clean + hash, one process): median pages/s per core over replica pages."""
    if not as_json:
        err_console.print(f"rendering {pages} replica pages of ~{page_kb} KB, then cleaning each one…")
    report = run_bench(pages, page_kb)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"bench-clean: {report['pages']} pages of ~{page_kb} KB, one process")
    for col in ("site", "pages", "median ms"):
        table.add_column(col, justify="left" if col == "site" else "right")
    for site, row in report["sites"].items():
        table.add_row(site, str(row["pages"]), f"{row['median_ms']:.1f}")
    out_console.print(table)
    out_console.print(
        f"median {report['median_ms']:.1f} ms/page (p90 {report['p90_ms']:.1f}) = "
        f"{report['pages_per_s_per_core']:.0f} pages/s per core; mean {report['mean_pages_per_s_per_core']:.0f} "
        f"pages/s; {report['failed']} failed; {report['cores']} cores here"
    )
