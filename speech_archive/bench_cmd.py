"""`speech-archive bench`, `bench-clean`, `bench-export`: run a benchmark (benchmarks/) and print its figures."""

from __future__ import annotations

import json
import os
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
    "--pages", type=click.IntRange(10, 200_000), default=5000, show_default=True, help="Replica articles to crawl."
)
@click.option(
    "--page-kb", type=click.IntRange(1, 500), default=50, show_default=True, help="Size of each article page."
)
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Cleaning processes (default: one per core).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def bench(pages: int, page_kb: int, workers: int | None, as_json: bool) -> None:
    """Measure fetch-only, in-line cleaning and the real pipeline on N replica pages."""
    from benchmarks.crawl import run_benchmark

    summary = run_benchmark(pages, page_kb, workers, _echo(as_json))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    table = Table(title=f"bench: {pages} replica pages of ~{page_kb} KB, {os.cpu_count()} cores")
    for col in ("mode", "pages", "seconds", "pages/s", "peak RSS MB (largest process)"):
        table.add_column(col)
    for mode, r in summary["modes"].items():
        table.add_row(mode, str(r["pages"]), str(r["seconds"]), str(r["pages_per_s"]), str(r["peak_rss_mb"]))
    out_console.print(table)
    out_console.print(f"speedup (pipeline / inline): {summary['speedup']}")


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


@click.command("bench-web")
@click.option(
    "--versions",
    type=click.IntRange(100, 10_000_000),
    default=100_000,
    show_default=True,
    help="Synthetic versions in the benchmark archive.",
)
@click.option("--repeat", type=click.IntRange(5, 10_000), default=50, show_default=True, help="Requests per view.")
@click.option(
    "--workdir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Build the synthetic archive here (kept; rebuilt on every run).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def bench_web(versions: int, repeat: int, workdir: Path | None, as_json: bool) -> None:
    """Latency of the archive browser's views (p50/p95) over a synthetic archive, through the real server."""
    from benchmarks.web import run_benchmark

    report = run_benchmark(versions, workdir, _echo(False), repeat=repeat)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"bench-web: {report['versions']:,} synthetic versions, {repeat} requests per view")
    for col in ("view", "p50 ms", "p95 ms", "LIKE scan ms"):
        table.add_column(col, justify="left" if col == "view" else "right")
    for name, row in report["results"].items():
        like = report["like_scan_ms"].get(name)
        table.add_row(name, f"{row['p50_ms']:.1f}", f"{row['p95_ms']:.1f}", "" if like is None else f"{like:.1f}")
    out_console.print(table)
    diff = report["diff_30k_chars"]
    out_console.print(
        f"diff of a {diff['chars'][0]:,}-character speech in-process: p50 {diff['diff_match_patch']['p50_ms']} ms, "
        f"p95 {diff['diff_match_patch']['p95_ms']} ms (difflib on the same characters: "
        f"{diff['difflib_sequence_matcher_ms']} ms); search index built in {report['index_seconds']} s"
    )


COMMANDS = (bench, bench_clean, bench_export, bench_web)
