"""`speech-archive bench`, `bench-clean`, `bench-export`: run a benchmark (benchmarks/) and print its figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from archive.export import FORMATS
from speech_archive.console import err_console, out_console


def _echo(as_json: bool) -> Any:
    return (lambda _msg: None) if as_json else (lambda msg: err_console.print(msg, highlight=False))


@click.command()
@click.option(
    "--pages", type=click.IntRange(10, 200_000), default=5000, show_default=True, help="Article pages to crawl."
)
@click.option(
    "--page-kb", type=click.IntRange(1, 500), default=50, show_default=True, help="Size of each article page."
)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="Pool size, ours and plain (default: one per core)."
)
@click.option("--concurrency", type=click.IntRange(1, 256), default=16, show_default=True, help="Scrapy requests.")
@click.option(
    "--server",
    type=click.Choice(("auto", "nginx", "python")),
    default="auto",
    show_default=True,
    help="Static server for the pages: nginx when installed (auto), or python's http.server.",
)
@click.option(
    "--corpus-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the pages here and reuse them on the next run with the same --pages/--page-kb.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def bench(
    *,
    pages: int,
    page_kb: int,
    workers: int | None,
    concurrency: int,
    server: str,
    corpus_dir: Path | None,
    as_json: bool,
) -> None:
    """Crawl N static pages five ways: plain Scrapy, + trafilatura in a pool, naive in-line, ours in-line, ours."""
    from benchmarks.crawl import run_benchmark

    summary = run_benchmark(
        pages, page_kb, workers, _echo(as_json), concurrency=concurrency, server=server, corpus_dir=corpus_dir
    )
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    corpus = summary["corpus"]
    chars, size = corpus["article_chars"], corpus["article_bytes"]
    table = Table(
        title=f"bench: {corpus['articles']} pages of {size['median'] / 1024:.0f} KB "
        f"({chars['min']}-{chars['max']} characters, {corpus['gbk_share']:.0%} GBK) from {summary['server']}, "
        f"{summary['cores']} cores, pools of {summary['workers']}, {summary['concurrency']} concurrent requests"
    )
    columns = ("mode", "pages", "seconds", "pages/s", "crawl CPU ms/page", "workers CPU ms/page", "peak RSS MB")
    for col in columns:
        table.add_column(col, justify="left" if col == "mode" else "right")
    for mode, r in summary["modes"].items():
        table.add_row(
            mode,
            str(r["pages"]),
            f"{r['seconds']:.1f}",
            f"{r['pages_per_s']:.1f}",
            f"{r['crawl_cpu_ms_per_page']:.1f}",
            f"{r['workers_cpu_ms_per_page']:.1f}",
            f"{r['peak_rss_mb']:.0f}",
        )
    out_console.print(table)
    same = summary["same_text"]
    out_console.print(
        f"pipeline / plain pool: {summary['pipeline_vs_plain_pool']}×, pipeline / naive: "
        f"{summary['pipeline_vs_naive']}×, peak RSS {summary['peak_rss_mb']} MB (crawl process + workers); "
        f"same text in-line and pooled: {same['compared'] - same['different']} of {same['compared']} pages"
    )


@click.command("bench-clean")
@click.option("--pages", type=click.IntRange(10, 100_000), default=500, show_default=True, help="Replica pages.")
@click.option("--page-kb", type=click.IntRange(1, 500), default=50, show_default=True, help="Size of each page.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def bench_clean(pages: int, page_kb: int, as_json: bool) -> None:
    """Measure cleaning speed (clean + hash, one process): median pages/s per core over replica pages."""
    from benchmarks.clean import run_bench

    _echo(as_json)(f"rendering {pages} replica pages of ~{page_kb} KB, then cleaning each one…")
    report = run_bench(pages, page_kb)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
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


@click.command("bench-export")
@click.option(
    "--rows",
    type=click.IntRange(10, 10_000_000),
    default=100_000,
    show_default=True,
    help="Synthetic versions in the benchmark archive.",
)
@click.option("--format", "fmt", type=click.Choice(["all", *FORMATS]), default="all", show_default=True)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep the synthetic archive here (reused when it already has --rows versions).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def bench_export(rows: int, fmt: str, workdir: Path | None, as_json: bool) -> None:
    """Build a synthetic archive and measure each export format: rows/s and peak RSS (child processes)."""
    from benchmarks.export import run_benchmark

    formats = list(FORMATS) if fmt == "all" else [fmt]
    report = run_benchmark(rows, formats, workdir, echo=_echo(False))
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    table = Table(title=f"export benchmark: {report['rows']:,} synthetic versions")
    for col in ("format", "rows", "seconds", "rows/s", "MB written", "RSS at start", "peak RSS at 10k", "peak RSS"):
        table.add_column(col, justify="left" if col == "format" else "right")
    for r in report["results"]:
        at10k = r["peak_rss_at_10k_mb"]
        table.add_row(
            r["format"],
            f"{r['rows']:,}",
            f"{r['seconds']:.1f}",
            f"{r['rows_per_s']:,}",
            f"{r['bytes'] / 1e6:,.0f}",
            f"{r['baseline_rss_mb']:.0f} MB",
            f"{at10k:.0f} MB" if at10k else "-",
            f"{r['peak_rss_mb']:.0f} MB",
        )
    out_console.print(table)


COMMANDS = (bench, bench_clean, bench_export)
