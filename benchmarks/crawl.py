"""The crawl benchmark (`speech-archive bench`): our crawl beside the plain libraries, on the same static pages.

The pages are written once (benchmarks/crawl_corpus.py) and served by a
static server in its own process (benchmarks/static_server.py: nginx when
installed), so the crawl measured does not share its process tree with the
server. Five modes, each a child process (``python -m benchmarks.crawl_child``)
crawling every page once:

    fetch_only   plain Scrapy, items dropped: the fetch ceiling
    plain_pool   plain Scrapy + trafilatura.extract in a process pool of our size
    naive        plain Scrapy + trafilatura.extract in the pipeline + an ORM commit per item
    inline       ours, clean_workers = 0
    pipeline     ours, the cleaning pool (one worker per core unless --workers)

While a child runs, this process samples the total resident memory of the
child's process tree (crawl process + workers). The figures that matter are
ratios measured in the same run (``pipeline_vs_plain_pool``,
``pipeline_vs_naive``): absolute rates depend on the machine and its load.
Each mode also reports ``cores_used`` (its CPU seconds over its wall
seconds) and the 1-minute load average after it: a mode that used far less
than the cores it could have while the load was high shared the machine.
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
from sqlalchemy import select

from archive.errors import CrawlError
from archive.storage import Archive
from archive.storage.models import Page, Version
from benchmarks.crawl_child import MODES
from benchmarks.crawl_corpus import SITE, write_corpus
from benchmarks.proctree import TreeSampler
from benchmarks.static_server import StaticServer, nginx_binary

SERVERS = ("auto", "nginx", "python")


def _config(path: Path, base_url: str, corpus: dict[str, Any], *, db: Path, workers: int, concurrency: int) -> Path:
    """Our config for the corpus: the production profile of the site (no replica body hint), no politeness
    delays (the server is ours), no automatic dictionary training nor works matching after the crawl (a
    crawl's figures, not a training's; ``bench-works`` measures matching)."""
    doc = {
        "archive": {"database_url": f"sqlite:///{db}", "dictionary_min_pages": 0},
        "crawl": {
            "delay": 0, "autothrottle": False, "obey_robots": False, "retries": 0, "timeout": 60,
            "concurrency": concurrency, "concurrency_per_domain": concurrency, "clean_workers": workers,
            "log_level": "WARNING",
        },
        "sites": [{
            "name": SITE, "title": corpus["title"], "base_url": base_url,
            "start_urls": [base_url + corpus["start_path"]],
            "article_pattern": corpus["article_pattern"], "pagination_pattern": corpus["pagination_pattern"],
            "max_list_pages": corpus["list_pages"] + 2,
        }],
        "works": {"match_after_crawl": False},
    }  # fmt: skip
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


def _child(config: Path, mode: str, workers: int, out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.crawl_child", str(config), mode, str(workers), str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with TreeSampler(proc.pid) as sampler:
        stdout, stderr = proc.communicate()
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            result = dict(json.loads(line))
            result["peak_rss_mb"] = round(sampler.peak / 2**20, 1)
            result["peak_pss_mb"] = round(sampler.peak_pss / 2**20, 1)
            result["processes"] = sampler.processes
            return result
    raise CrawlError(f"benchmark mode {mode} failed (exit {proc.returncode}): {stderr.strip()[-500:]}")


def _latest_hashes(db: Path) -> dict[str, str]:
    with Archive(f"sqlite:///{db}") as archive, archive.session() as session:
        rows = session.execute(
            select(Page.url, Version.content_hash).join(Version, Version.page_id == Page.id).order_by(Version.number)
        )
        return {url: digest for url, digest in rows}


def compare_texts(a: Path, b: Path) -> dict[str, int]:
    """Pages whose archived text (content hash) differs between two of our runs over the same pages."""
    left, right = _latest_hashes(a), _latest_hashes(b)
    common = left.keys() & right.keys()
    return {
        "compared": len(common),
        "different": sum(left[u] != right[u] for u in common),
        "only_in_one": len(left.keys() ^ right.keys()),
    }


def _per_page(result: dict[str, Any], articles: int, server_cpu: float) -> dict[str, Any]:
    pages = max(result["pages"], 1)
    seconds = result["seconds"] or 1e-9
    return {
        **result,
        "complete": result["pages"] == articles,
        "pages_per_s": round(result["pages"] / seconds, 1),
        "crawl_cpu_ms_per_page": round(1000 * result["crawl_cpu_s"] / pages, 2),
        "workers_cpu_ms_per_page": round(1000 * result["workers_cpu_s"] / pages, 2),
        "cpu_ms_per_page": round(1000 * (result["crawl_cpu_s"] + result["workers_cpu_s"]) / pages, 2),
        "cores_used": round((result["crawl_cpu_s"] + result["workers_cpu_s"]) / seconds, 2),
        "server_cpu_ms_per_page": round(1000 * server_cpu / pages, 2),
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def run_benchmark(
    pages: int,
    page_kb: int,
    workers: int | None,
    echo: Callable[[str], None],
    *,
    concurrency: int = 16,
    server: str = "auto",
    corpus_dir: Path | None = None,
    modes: tuple[str, ...] = MODES,
) -> dict[str, Any]:
    """Write (or reuse) the corpus, serve it, crawl it once per mode; return the figures."""
    if server == "nginx" and nginx_binary() is None:
        raise CrawlError("--server nginx: nginx is not installed; install it (make services) or use --server auto")
    size = workers if workers is not None else (os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="sa-bench-") as tmp:
        root = corpus_dir or Path(tmp) / "corpus"
        root.mkdir(parents=True, exist_ok=True)
        echo(f"writing {pages} article pages of ~{page_kb} KB to {root} (reused when already there)…")
        corpus = write_corpus(root, pages, page_kb)
        results: dict[str, dict[str, Any]] = {}
        with StaticServer(root, prefer_nginx=server != "python") as static:
            for mode in modes:
                out = Path(tmp) / mode
                out.mkdir()
                db = out / "archive.sqlite3"
                config = _config(
                    out / "config.toml", static.base_url, corpus, db=db, workers=size, concurrency=concurrency
                )
                echo(f"{mode}: crawling {corpus['articles']} pages from {static.kind}…")
                before = static.cpu_seconds()
                result = _child(config, mode, size, out)
                results[mode] = _per_page(result, corpus["articles"], static.cpu_seconds() - before)
                results[mode]["load_average_after"] = round(os.getloadavg()[0], 2)
            server_kind = static.kind
        same_text = None
        if "inline" in results and "pipeline" in results:
            same_text = compare_texts(
                Path(tmp) / "inline" / "archive.sqlite3", Path(tmp) / "pipeline" / "archive.sqlite3"
            )
    rate = {m: r["pages_per_s"] for m, r in results.items()}
    summary: dict[str, Any] = {
        "pipeline_vs_plain_pool": _ratio(rate.get("pipeline", 0), rate.get("plain_pool", 0)),
        "pipeline_vs_naive": _ratio(rate.get("pipeline", 0), rate.get("naive", 0)),
        "inline_vs_naive": _ratio(rate.get("inline", 0), rate.get("naive", 0)),
        "pipeline_vs_fetch_only": _ratio(rate.get("pipeline", 0), rate.get("fetch_only", 0)),
        "peak_rss_mb": results["pipeline"]["peak_rss_mb"] if "pipeline" in results else None,
        "same_text": same_text,
        "complete": all(r["complete"] for r in results.values()),
        "corpus": corpus,
        "server": server_kind,
        "cores": os.cpu_count(),
        "workers": size,
        "concurrency": concurrency,
        "modes": results,
    }
    if same_text is not None and (same_text["different"] or same_text["only_in_one"]):
        raise CrawlError(
            f"in-line and pool modes archived different text: {same_text['different']} of "
            f"{same_text['compared']} pages differ, {same_text['only_in_one']} archived by one mode only; "
            f"figures: {json.dumps({k: v for k, v in summary.items() if k != 'modes'})}"
        )
    return summary
