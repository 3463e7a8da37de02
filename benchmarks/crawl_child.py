"""The crawl benchmark's child side: one crawl of the replica in one mode.

Each mode runs in its own process (one reactor per process, and a clean
memory peak per mode): ``fetch_only`` (Scrapy downloads and discards),
``inline`` (clean + hash + store on the reactor thread) and ``pipeline`` (the
real thing: cleaning in a process pool). ``python -m benchmarks.crawl_child
CONFIG MODE [WORKERS]`` prints the figures as one JSON line.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler

from archive.config import Config, load_config
from crawler.run import run_crawl
from crawler.spider import SiteSpider

MODES = ("fetch_only", "inline", "pipeline")


class CountOnlyPipeline:
    """Counts fetched articles and drops them: the fetch-only baseline."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CountOnlyPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> None:
        spider = self.crawler.spider
        assert isinstance(spider, SiteSpider) and spider.context is not None
        site = spider.context.report.sites[spider.name]
        site.outcomes["fetched"] += 1
        site.bytes += len(item.body or b"")


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_mode(config_path: str, mode: str, workers: int | None) -> dict[str, Any]:
    """Crawl once in a mode; return pages, seconds, rate and memory peaks."""
    config: Config = load_config(Path(config_path))
    crawl = config.crawl.model_copy(update={"clean_workers": 0 if mode != "pipeline" else workers})
    config = config.model_copy(update={"crawl": crawl})
    extra: dict[str, Any] = {}
    if mode == "fetch_only":
        extra["ITEM_PIPELINES"] = {CountOnlyPipeline: 300}
    started = time.monotonic()
    report = run_crawl(config, list(config.sites), full=True, extra_settings=extra)
    seconds = time.monotonic() - started
    pages = sum(r.pages for r in report.sites.values())
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own_mb = _vm_hwm_mb()
    return {
        "mode": mode,
        "pages": pages,
        "seconds": round(seconds, 3),
        "pages_per_s": round(pages / seconds, 1) if seconds else 0.0,
        "peak_rss_mb": round(max(own_mb, children_mb), 1),
        "crawl_process_rss_mb": round(own_mb, 1),
        "largest_worker_rss_mb": round(children_mb, 1),
    }


if __name__ == "__main__":
    workers = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] != "None" else None
    print(json.dumps(run_mode(sys.argv[1], sys.argv[2], workers)))
