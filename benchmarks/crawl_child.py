"""The crawl benchmark's child side: one crawl of the static corpus in one mode, measured from inside.

``python -m benchmarks.crawl_child CONFIG MODE WORKERS OUTDIR`` crawls once and
prints one JSON line: pages, seconds, and CPU seconds of this process
(``RUSAGE_SELF``) and of its cleaning workers (``RUSAGE_CHILDREN``: the pools
join their workers before this reads it). One mode per process: one reactor
per process, and nothing of one mode's memory or CPU in another's figures.

Modes: the plain-library baselines of benchmarks/crawl_plain.py
(``fetch_only``, ``plain_pool``, ``naive``), then ours: ``inline``
(``clean_workers = 0``) and ``pipeline`` (the cleaning pool, as configured).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from archive.config import Config, load_config
from archive.storage import Archive
from benchmarks.crawl_plain import PLAIN_MODES, run_plain
from benchmarks.proctree import own_peak_bytes
from crawler.run import run_crawl

OUR_MODES = ("inline", "pipeline")
MODES = (*PLAIN_MODES, *OUR_MODES)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _run_ours(config: Config, mode: str, workers: int | None) -> dict[str, Any]:
    crawl = config.crawl.model_copy(update={"clean_workers": 0 if mode == "inline" else workers})
    config = config.model_copy(update={"crawl": crawl})
    report = run_crawl(config, list(config.sites), full=True)
    outcomes: dict[str, int] = {}
    for site in report.sites.values():
        for outcome, count in site.outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    return {"pages": sum(r.pages for r in report.sites.values()), "outcomes": outcomes}


def run_mode(config_path: Path, mode: str, workers: int, out: Path) -> dict[str, Any]:
    """Crawl once in ``mode``; the figures, measured around the crawl alone (not imports, not set-up)."""
    config = load_config(config_path)
    site = config.sites[0]
    if mode in OUR_MODES:
        Archive(config.archive.database_url).close()  # schema created before the clock starts
    self_before = _cpu(resource.getrusage(resource.RUSAGE_SELF))
    children_before = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
    started = time.monotonic()
    if mode in OUR_MODES:
        result = _run_ours(config, mode, workers)
    else:
        spec = {
            "start_url": site.start_urls[0],
            "article_pattern": site.article_pattern,
            "pagination_pattern": site.pagination_pattern or "$^",
        }
        crawl = config.crawl
        result = run_plain(
            mode, spec, concurrency=crawl.concurrency, per_domain=crawl.concurrency_per_domain, workers=workers, out=out
        )
    seconds = time.monotonic() - started
    return {
        "mode": mode,
        **result,
        "seconds": round(seconds, 3),
        "crawl_cpu_s": round(_cpu(resource.getrusage(resource.RUSAGE_SELF)) - self_before, 3),
        "workers_cpu_s": round(_cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - children_before, 3),
        "crawl_process_peak_mb": round(own_peak_bytes() / 2**20, 1),
    }


if __name__ == "__main__":
    config_arg, mode_arg, workers_arg, out_arg = sys.argv[1:5]
    if mode_arg not in MODES:
        raise SystemExit(f"unknown mode {mode_arg!r}; use one of {', '.join(MODES)}")
    print(json.dumps(run_mode(Path(config_arg), mode_arg, int(workers_arg), Path(out_arg))))
