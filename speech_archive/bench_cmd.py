"""`speech-archive bench`: crawl throughput and memory on the local replica, like `scrapy bench`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import tomli_w
from rich.table import Table

from archive.errors import CrawlError
from speech_archive.console import err_console, out_console
from speech_archive.replica_cmd import replica_config

BENCH_SITE = "zhongyi"


def _child(config: Path, mode: str, workers: int | None) -> dict[str, Any]:
    code = (
        "import json, sys; from crawler.bench import run_mode; "
        f"print('BENCH ' + json.dumps(run_mode({str(config)!r}, {mode!r}, {workers!r})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[6:]))
    raise CrawlError(f"benchmark mode {mode} failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")


@click.command()
@click.option(
    "--pages", type=click.IntRange(10, 200_000), default=5000, show_default=True, help="Replica articles to crawl."
)
@click.option(
    "--page-kb", type=click.IntRange(1, 500), default=50, show_default=True, help="Size of each article page."
)
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Cleaning processes (default: one per core).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def bench(pages: int, page_kb: int, workers: int | None, as_json: bool) -> None:
    """Measure fetch-only, in-line cleaning and the real pipeline on N replica pages."""
    from replica import ReplicaServer

    per_page = 100
    with (
        tempfile.TemporaryDirectory(prefix="sa-bench-") as tmp,
        ReplicaServer(articles_per_site=pages, per_page=per_page, page_kb=page_kb, sites=[BENCH_SITE]) as server,
    ):
        results: dict[str, dict[str, Any]] = {}
        for mode in ("fetch_only", "inline", "pipeline"):
            db = Path(tmp) / f"{mode}.sqlite3"
            doc = replica_config([server.site_spec(BENCH_SITE)], f"sqlite:///{db}")
            doc["crawl"].update(
                {
                    "delay": 0,
                    "autothrottle": False,
                    "obey_robots": False,
                    "concurrency": 32,
                    "concurrency_per_domain": 32,
                    "retries": 0,
                }
            )
            doc["sites"][0]["max_list_pages"] = pages // per_page + 2
            config = Path(tmp) / f"{mode}.toml"
            config.write_text(tomli_w.dumps(doc), encoding="utf-8")
            if not as_json:
                err_console.print(f"running {mode} on {pages} pages of ~{page_kb} KB…")
            results[mode] = _child(config, mode, workers)
    inline = results["inline"]["pages_per_s"]
    pipeline = results["pipeline"]["pages_per_s"]
    summary = {
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
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    table = Table(title=f"bench: {pages} replica pages of ~{page_kb} KB, {os.cpu_count()} cores")
    for col in ("mode", "pages", "seconds", "pages/s", "peak RSS MB (largest process)"):
        table.add_column(col)
    for mode, r in results.items():
        table.add_row(mode, str(r["pages"]), str(r["seconds"]), str(r["pages_per_s"]), str(r["peak_rss_mb"]))
    out_console.print(table)
    out_console.print(f"speedup (pipeline / inline): {summary['speedup']}")
