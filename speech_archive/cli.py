"""The `speech-archive` command: one group, shared options, domain errors at the edge."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from archive.config import Config
from archive.errors import ArchiveError, CrawlError, UsageError
from archive.storage import Archive
from archive.storage.queries import cleaning_health, list_runs, page_history, run_dict, site_status, version_text
from archive.works.queries import page_work_line
from scheduler.jobstore import next_run_times
from speech_archive import (
    __version__,
    bench_cmd,
    daemon_cmd,
    dictionary_cmd,
    export_cmd,
    extract_cmd,
    learn_cmd,
    reclean_cmd,
    replica_cmd,
    web_cmd,
    works_cmd,
)
from speech_archive.console import (
    GROUP_CONFIG_KEY,
    ErrorReportingGroup,
    config_option,
    err_console,
    get_config,
    out_console,
    setup_logging,
)
from speech_archive.progress import Progress


@click.group(cls=ErrorReportingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv includes Scrapy's).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(__version__, prog_name="speech-archive")
@config_option
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool, config_path: Path | None) -> None:
    """Archive Chinese speech-template sites: crawl, clean, dedup, version, export."""
    setup_logging(verbose, quiet)
    ctx.meta[GROUP_CONFIG_KEY] = config_path


def open_archive(config: Config) -> Archive:
    return Archive(config.archive.database_url)


@main.command()
@click.argument("sites", nargs=-1)
@click.option("--all", "all_sites", is_flag=True, help="Crawl every enabled site in the config.")
@click.option("--full", is_flag=True, help="Walk every list page and re-fetch every known article.")
@config_option
def crawl(sites: tuple[str, ...], all_sites: bool, full: bool, config_path: Path | None) -> None:
    """Crawl SITES now (or --all) and archive what changed."""
    from crawler.child import crawl_sites  # Scrapy is imported only by commands that crawl

    config = get_config(config_path)
    if all_sites and sites:
        raise UsageError("give site names or --all, not both")
    if not all_sites and not sites:
        raise UsageError("name at least one site to crawl, or pass --all; `speech-archive status` lists them")
    chosen = [s for s in config.sites if s.enabled] if all_sites else [config.site(n) for n in dict.fromkeys(sites)]
    if not chosen:
        raise UsageError(f"no enabled sites in {config.source}; add a [[sites]] entry")
    outcome = crawl_sites(
        config,
        chosen,
        trigger="manual",
        full=full,
        display=lambda report: Progress("crawl", err_console, view=report.table, describe=report.progress_lines),
        on_refused=lambda exc: err_console.print(f"skipped: {exc}", highlight=False, markup=False),
    )
    report = outcome.report
    table = report.table()
    table.title = "crawl summary"
    out_console.print(table)
    if report.stopped_by is not None:  # the crawl already said so, in one line; its runs are 'interrupted'
        sys.exit(130)
    if report.unwritable is not None:
        lost = (
            f"; {report.lost} page(s) fetched but not stored, the next crawl fetches them again" if report.lost else ""
        )
        raise ArchiveError(f"the crawl stopped: {report.unwritable}{lost}")
    if report.works and report.works["contents"]:
        w = report.works
        err_console.print(
            f"works: matched {w['contents']} new contents ({w['links']} links, {w['works_written']} works written)",
            highlight=False,
        )
    for r in report.sites.values():
        if r.error:
            err_console.print(f"{r.site}: {r.status}: {r.error}", highlight=False, markup=False, soft_wrap=True)
    if all(r.status == "failed" for r in report.sites.values()):
        raise CrawlError("every site failed; see the per-site errors above (is the network up?)")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object keyed by site name.")
@config_option
def status(as_json: bool, config_path: Path | None) -> None:
    """Per site: pages, versions, captures, last crawl and its outcome, next run, and its cleaning health."""
    config = get_config(config_path)
    with open_archive(config) as archive, archive.session() as session:
        rows = {s.name: s.as_dict() for s in site_status(session)}
        next_runs = next_run_times(session)
        health = cleaning_health(session)
    for site in config.sites:
        rows.setdefault(
            site.name,
            {
                "title": site.title,
                "pages": 0,
                "gone": 0,
                "versions": 0,
                "captures": 0,
                "extraction_failed_pages": 0,
                "shrunk_pages": 0,
                "last_run": None,
                "last_run_lost": 0,
            },
        )
    for name, row in rows.items():  # from the daemon's job store; None: not scheduled (no daemon ran yet)
        when = next_runs.get(name)
        row["next_run"] = when.isoformat() if when else None
        row["cleaning"] = health.get(name)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True))
        return
    table = Table(title=f"archive: {config.archive.database_url}")
    texts = ("site", "last crawl", "outcome", "next run (UTC)")
    for col in ("site", "pages", "gone", "versions", "captures", "extraction failed", "shrunk", *texts[1:]):
        table.add_column(col, justify="left" if col in texts else "right")
    for name, row in sorted(rows.items()):
        run = row["last_run"]
        table.add_row(
            name,
            str(row["pages"]),
            str(row["gone"]),
            str(row["versions"]),
            str(row["captures"]),
            str(row["extraction_failed_pages"]),
            str(row["shrunk_pages"]),
            run["started_at"][:19].replace("T", " ") if run else "never",
            (run["status"] + (f" ({row['last_run_lost']} lost)" if row["last_run_lost"] else "")) if run else "-",
            row["next_run"][:19].replace("T", " ") if row["next_run"] else "-",
        )
    out_console.print(table)
    _print_cleaning_health(rows)


def _print_cleaning_health(rows: dict[str, dict[str, Any]]) -> None:
    """The cleaning columns of `status`: paths, failures, lengths, boilerplate, the layout-changed flag."""
    health = {name: row["cleaning"] for name, row in sorted(rows.items()) if row.get("cleaning")}
    if not health:
        return
    table = Table(title="cleaning health (each page's latest capture)")
    for col in ("site", "body found by", "failed", "median chars", "fallback/failed: last / previous crawl"):
        table.add_column(col, justify="left" if col in ("site", "body found by") else "right")
    notes: list[str] = []
    for name, h in health.items():
        shares = h["fallback_share"]
        trend = " / ".join(f"{v:.0%}" if v is not None else "-" for v in shares.values())
        table.add_row(
            name,
            ", ".join(f"{path} {share:.0%}" for path, share in h["body_from"].items()),
            f"{h['failed_share']:.0%}",
            str(h["median_chars"] or "-"),
            trend + ("  LAYOUT CHANGED?" if h["layout_changed"] else ""),
        )
        notes += [f"{name}: failed {n}x: {reason}" for reason, n in h["failure_reasons"]]
        notes += [f"{name}: removed as boilerplate {n}x: {line}" for line, n in h["boilerplate"][:3]]
    out_console.print(table)
    for note in notes:
        out_console.print(note, highlight=False, markup=False, soft_wrap=True)


@main.command()
@click.argument("url")
@config_option
def history(url: str, config_path: Path | None) -> None:
    """Every stored version of the page at URL."""
    config = get_config(config_path)
    with open_archive(config) as archive, archive.session() as session:
        page, versions = page_history(session, url)
        table = Table(title=page.url)
        for col in ("version", "time (UTC)", "content hash", "chars", "change", "partial", "title"):
            table.add_column(col)
        for v in versions:
            table.add_row(
                str(v.number),
                v.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                v.content_hash[:16],
                str(v.char_count),
                v.change,
                "yes" if v.partial else "",
                v.title or "",
            )
        work_line = page_work_line(session, page.id)
    out_console.print(table)
    if work_line:
        out_console.print(work_line, highlight=False, markup=False, soft_wrap=True)


@main.command()
@click.argument("url")
@click.option("--version", "number", type=click.IntRange(min=1), help="Version number (default: latest).")
@config_option
def show(url: str, number: int | None, config_path: Path | None) -> None:
    """Print the cleaned text of the page at URL (and, on stderr, the work it belongs to)."""
    config = get_config(config_path)
    with open_archive(config) as archive, archive.session() as session:
        version, text = version_text(session, url, number)
        work_line = page_work_line(session, version.page_id)
    if work_line:  # on stderr: stdout stays exactly the text, for pipes
        err_console.print(work_line, highlight=False, markup=False, soft_wrap=True)
    sys.stdout.write(text + "\n")


@main.command()
@click.option("--site", help="Only this site's runs.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@config_option
def runs(site: str | None, limit: int, as_json: bool, config_path: Path | None) -> None:
    """Recent crawl runs: trigger, outcome, timings and stats."""
    config = get_config(config_path)
    if site:
        config.site(site)
    with open_archive(config) as archive, archive.session() as session:
        rows = [(name, run_dict(run)) for name, run in list_runs(session, site, limit)]
    if as_json:
        for name, run in rows:
            click.echo(json.dumps({"site": name, **run}, ensure_ascii=False))
        return
    table = Table(title="crawl runs")
    for col in (
        "id",
        "site",
        "trigger",
        "status",
        "started (UTC)",
        "seconds",
        "requests",
        "pages",
        "new versions",
        "errors",
        "lost",
    ):
        table.add_column(col)
    for name, run in rows:
        st = run["stats"] or {}
        table.add_row(
            str(run["id"]),
            name,
            run["trigger"],
            run["status"],
            run["started_at"][:19].replace("T", " "),
            str(st.get("seconds", "")),
            str(st.get("requests", "")),
            str(st.get("pages", "")),
            str(st.get("new_versions", "")),
            str(st.get("errors", "")),
            str(st.get("lost", "")),
        )
    out_console.print(table)


for command in (
    replica_cmd.replica,
    *export_cmd.COMMANDS,
    daemon_cmd.daemon,
    *bench_cmd.COMMANDS,
    extract_cmd.extract,
    reclean_cmd.reclean,
    learn_cmd.learn_profile,
    *works_cmd.COMMANDS,
    *web_cmd.COMMANDS,
    dictionary_cmd.train_dict,
):
    main.add_command(command)
