"""The crawl benchmark (`speech-archive bench`): throughput and memory on the local replica, like `scrapy bench`.

Three modes, each a child process (``python -m benchmarks.crawl_child``) with
its own reactor and memory peak: fetch only, in-line cleaning, the real
pipeline (cleaning in a process pool).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w

from archive.errors import CrawlError

BENCH_SITE = "zhongyi"
MODES = ("fetch_only", "inline", "pipeline")
PER_PAGE = 100


def _child(config: Path, mode: str, workers: int | None) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.crawl_child", str(config), mode, str(workers)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    raise CrawlError(f"benchmark mode {mode} failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")


def run_benchmark(pages: int, page_kb: int, workers: int | None, echo: Callable[[str], None]) -> dict[str, Any]:
    """Serve ``pages`` replica articles and crawl them once in each mode; return the figures."""
    from replica import ReplicaServer, replica_config

    with (
        tempfile.TemporaryDirectory(prefix="sa-bench-") as tmp,
        ReplicaServer(articles_per_site=pages, per_page=PER_PAGE, page_kb=page_kb, sites=[BENCH_SITE]) as server,
    ):
        results: dict[str, dict[str, Any]] = {}
        for mode in MODES:
            db = Path(tmp) / f"{mode}.sqlite3"
            doc = replica_config([server.site_spec(BENCH_SITE)], f"sqlite:///{db}")
            doc["crawl"].update(
                {"delay": 0, "autothrottle": False, "obey_robots": False, "concurrency": 32,
                 "concurrency_per_domain": 32, "retries": 0}
            )  # fmt: skip
            doc["sites"][0]["max_list_pages"] = pages // PER_PAGE + 2
            doc["works"] = {"match_after_crawl": False}  # the crawl is measured here; bench-works measures matching
            config = Path(tmp) / f"{mode}.toml"
            config.write_text(tomli_w.dumps(doc), encoding="utf-8")
            echo(f"running {mode} on {pages} pages of ~{page_kb} KB…")
            results[mode] = _child(config, mode, workers)
    inline = results["inline"]["pages_per_s"]
    pipeline = results["pipeline"]["pages_per_s"]
    return {
        "pages": pages,
        "page_kb": page_kb,
        "cores": os.cpu_count(),
        "fetch_only_pages_per_s": results["fetch_only"]["pages_per_s"],
        "inline_pages_per_s": inline,
        "pipeline_pages_per_s": pipeline,
        "speedup": round(pipeline / inline, 2) if inline else None,
        "peak_rss_mb": results["pipeline"]["peak_rss_mb"],
        "modes": results,
    }
