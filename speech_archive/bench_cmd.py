"""`speech-archive bench`, `bench-clean`, `bench-export`: run a benchmark (benchmarks/) and print its figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from archive.errors import UsageError
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
@click.option("--pages", type=click.IntRange(10, 100_000), default=500, show_default=True, help="Synthetic pages.")
@click.option("--page-kb", type=click.IntRange(1, 500), default=50, show_default=True, help="Size of each page.")
@click.option(
    "--source",
    type=click.Choice(("bench", "replica")),
    default="bench",
    show_default=True,
    help="Synthetic pages: the crawl benchmark's (bench) or the replica's five sites (replica).",
)
@click.option(
    "--corpus",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Measure quality and CPU cost on a folder of real pages (N.html with hand-marked N.txt) instead.",
)
@click.option("--markdown", is_flag=True, help="With --corpus: print the per-page table as Markdown.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def bench_clean(*, pages: int, page_kb: int, source: str, corpus: Path | None, markdown: bool, as_json: bool) -> None:
    """Measure cleaning CPU beside plain trafilatura (one process) on synthetic pages, or quality on real ones."""
    if corpus is not None:
        _bench_corpus(corpus, markdown, as_json)
        return
    if markdown:
        raise UsageError("--markdown prints a corpus's per-page table; give --corpus DIR with it")
    from benchmarks.clean import run_bench

    _echo(as_json)(f"rendering {pages} {source} pages of ~{page_kb} KB, then cleaning each one…")
    report = run_bench(pages, page_kb, source)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    table = Table(title=f"bench-clean: {report['pages']} {source} pages of ~{page_kb} KB, one process")
    for col in ("site", "pages", "median ms"):
        table.add_column(col, justify="left" if col == "site" else "right")
    for site, row in report["sites"].items():
        table.add_row(site, str(row["pages"]), f"{row['median_ms']:.1f}")
    out_console.print(table)
    cpu = report["cpu_ms_per_page"]
    out_console.print(
        f"CPU ms/page (mean): clean {cpu['clean']['mean']:.2f}, worker unit (clean + hashes + zstd + search tokens) "
        f"{cpu['worker_unit']['mean']:.2f}, plain trafilatura.extract {cpu['plain_trafilatura']['mean']:.2f}: "
        f"clean / plain = {report['clean_vs_plain_trafilatura']}×, worker unit / plain = "
        f"{report['worker_unit_vs_plain_trafilatura']}×"
    )
    out_console.print(
        f"median {report['median_ms']:.1f} ms/page (p90 {report['p90_ms']:.1f}; CPU {report['cpu_median_ms']:.1f}) = "
        f"{report['pages_per_s_per_core']:.0f} pages/s per core; mean {report['mean_pages_per_s_per_core']:.0f} "
        f"pages/s; {report['failed']} failed; {report['cores']} cores here"
    )


def _bench_corpus(corpus: Path, markdown: bool, as_json: bool) -> None:
    from benchmarks.corpus import BELOW, corpus_pages, markdown_table, run_corpus

    if not corpus_pages(corpus):
        raise UsageError(f"{corpus}: no *.html pages in it; give a folder of saved pages (N.html, optional N.txt)")
    _echo(as_json or markdown)(f"cleaning every page of {corpus} with ours and with plain trafilatura…")
    report = run_corpus(corpus)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    if markdown:
        click.echo(markdown_table(report))
        return
    if report["with_gold"]:
        table = Table(title=f"bench-clean --corpus {corpus}: bag-of-characters P / R / F1 per page")
        for col in ("page", "ours P", "R", "F1", "plain P", "R", "F1", "body from"):
            table.add_column(col, justify="left" if col in ("page", "body from") else "right")
        for row in report["rows"]:
            ours, plain = row["ours"], row["plain"]
            if ours is None or plain is None:
                continue
            table.add_row(
                row["page"],
                *(f"{ours[k]:.3f}" for k in ("precision", "recall", "f1")),
                *(f"{plain[k]:.3f}" for k in ("precision", "recall", "f1")),
                row["method"] or row["outcome"],
            )
        out_console.print(table)
        for label, key in (("ours", "ours"), ("plain trafilatura", "plain_trafilatura")):
            m = report[key]
            out_console.print(
                f"{label:<18} mean P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}  "
                f"({m['below_half']} pages below F1 {BELOW})",
                highlight=False,
            )
    cpu = report["cpu_ms_per_page"]
    out_console.print(
        f"{report['pages']} pages: outcomes {report['outcomes']}; body from {report['body_from']}; "
        f"{report['exceptions']} exceptions, {report['cleaner_errors']} cleaner errors; CPU per page: ours median "
        f"{cpu['ours_median']} ms, plain trafilatura {cpu['plain_median']} ms (total ratio {cpu['ratio_of_totals']}x)",
        highlight=False,
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


def _default_real_corpus() -> Path | None:
    """../shared/corpus/cleaneval-zh beside the repository, when it is there."""
    path = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "cleaneval-zh"
    return path if path.is_dir() else None


@click.command("bench-works")
@click.option(
    "--works",
    "works",
    type=click.IntRange(10, 100_000),
    default=300,
    show_default=True,
    help="Works (speeches) in the labelled corpus, each posted 2–6 times.",
)
@click.option(
    "--negatives",
    type=click.IntRange(0, 100_000),
    default=300,
    show_default=True,
    help="Hard negatives: other speeches sharing template paragraphs with a work.",
)
@click.option(
    "--scales",
    default="1000,100000",
    show_default=True,
    metavar="N,N…",
    help="Archive sizes at which to measure the cost of matching new contents ('' skips it).",
)
@click.option(
    "--real-corpus",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Hand-cleaned real texts (*.txt) to match too (default: ../shared/corpus/cleaneval-zh if present).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def bench_works(works: int, negatives: int, scales: str, real_corpus: Path | None, as_json: bool) -> None:
    """Measure works matching: pairwise precision/recall, ARI, truncated recall, canonical accuracy, cost."""
    from benchmarks.works import run_benchmark

    try:
        sizes = [int(s) for s in scales.replace(" ", "").split(",") if s]
    except ValueError:
        raise UsageError(f"--scales {scales!r} is not a list of sizes; use e.g. 1000,100000") from None
    report = run_benchmark(works, negatives, sizes, _echo(as_json), real=real_corpus or _default_real_corpus())
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"bench-works: {works} works, {negatives} hard negatives, {report['cores']} cores")
    table.add_column("figure")
    for name in ("replica", "real_texts"):
        if report.get(name):
            table.add_column(name, justify="right")
    keys = (
        "documents",
        "pairwise_precision",
        "pairwise_recall",
        "adjusted_rand_index",
        "truncated_recall_30pct",
        "canonical_accuracy",
        "match_ms_per_document",
        "match_ms_per_5000_chars",
        "sketch_ms_per_5000_chars",
    )
    for key in keys:
        table.add_row(key, *(str(report[n].get(key, "")) for n in ("replica", "real_texts") if report.get(n)))
    out_console.print(table)
    for row in report["incremental"]:
        out_console.print(
            f"archive of {row['contents']:,} contents: {row['new_ms_per_content']} ms per new content "
            f"({row['new_candidates_per_content']} candidates each)"
        )


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


COMMANDS = (bench, bench_clean, bench_export, bench_works, bench_web, soak)
