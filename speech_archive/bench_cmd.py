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


@click.command()
@click.option(
    "--minutes", type=click.FloatRange(0.5, 60 * 24 * 7), default=10, show_default=True, help="How long to run."
)
@click.option("--interval", type=click.IntRange(2, 3600), default=4, show_default=True, help="Seconds between runs.")
@click.option(
    "--dir", "workdir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Where the soak's archive and daemon log go (default: a temporary directory, kept).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def soak(minutes: float, interval: int, workdir: Path | None, as_json: bool) -> None:
    """Run a daemon on the five replica sites with faults toggled; report runs, overlap, RSS and open files."""
    import tempfile

    from benchmarks.soak import run_soak

    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="speech-archive-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    _echo(as_json)(f"soaking for {minutes:g} min in {workdir} (daemon log: {workdir / 'daemon.log'})…")
    report = run_soak(minutes, workdir, interval=interval, warm_up=min(60.0, minutes * 15), echo=_echo(as_json))
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for line in report.lines():
            out_console.print(line, highlight=False)
    if report.problems():
        raise SystemExit(1)


COMMANDS = (bench, bench_clean, bench_export, soak)
