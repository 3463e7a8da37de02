"""`speech-archive works` (list, `update`, `rebuild`) and `speech-archive work ID_OR_URL` (archive/works)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from archive.storage import Archive
from archive.works import MatchReport, RebuildReport, match_pending, rebuild
from archive.works.queries import SHORT, list_works, resolve, work_detail
from speech_archive.console import config_option, err_console, get_config, out_console
from speech_archive.progress import Progress


def _when(value: str | None) -> str:
    return value[:19].replace("T", " ") if value else "-"


@click.group("works", invoke_without_command=True)
@click.option("--site", help="Only works with a copy on this site.")
@click.option(
    "--min-copies",
    type=click.IntRange(1, 1_000_000),
    default=2,
    show_default=True,
    help="Only works with at least N copies (1 lists every content).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per work, one per line.")
@config_option
@click.pass_context
def works(ctx: click.Context, site: str | None, min_copies: int, as_json: bool, config_path: Path | None) -> None:
    """Works (one speech, all its copies): copies, sites, canonical title, completeness."""
    if ctx.invoked_subcommand is not None:
        return
    config = get_config(config_path)
    with Archive(config.archive.database_url) as archive, archive.session() as session:
        rows = list_works(session, site=site, min_copies=min_copies)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row.as_dict(), ensure_ascii=False))
        return
    table = Table(title=f"works with at least {min_copies} copies" + (f" on {site}" if site else ""))
    for col in ("work", "copies", "pages", "sites", "complete", "title"):
        table.add_column(col, justify="right" if col in ("copies", "pages") else "left")
    for row in rows:
        table.add_row(
            row.id[:SHORT],
            str(row.copies),
            str(row.pages),
            ",".join(row.sites),
            "yes" if row.complete else "partial only",
            row.title or "",
        )
    out_console.print(table)
    err_console.print(f"{len(rows)} works", highlight=False)


def _run_job(
    label: str,
    job: Callable[..., MatchReport | RebuildReport],
    as_json: bool,
    config_path: Path | None,
    describe: Callable[[dict[str, Any]], str],
) -> None:
    """``works update`` and ``works rebuild``: one job over the archive with progress, then its report."""
    config = get_config(config_path)
    with (
        Archive(config.archive.database_url) as archive,
        Progress(label, err_console, unit="contents", quiet=as_json) as progress,
    ):
        report = job(archive, config.works, advance=progress.advance).as_dict()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        err_console.print(f"{label}: {describe(report)}", highlight=False, markup=False, soft_wrap=True)


@works.command("update")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@config_option
def update(as_json: bool, config_path: Path | None) -> None:
    """Match contents stored since the last matching (a crawl does this itself when it ends)."""
    _run_job(
        "works update",
        match_pending,
        as_json,
        config_path,
        lambda r: (
            f"matched {r['contents']} new contents ({r['candidates']} candidates checked, "
            f"{r['links']} links), {r['works_written']} works written in {r['seconds']} s"
        ),
    )


@works.command("rebuild")
@click.option("--json", "as_json", is_flag=True, help="Print what changed as one JSON object.")
@config_option
def rebuild_command(as_json: bool, config_path: Path | None) -> None:
    """Recompute every sketch, link and work (after changing [works] settings) and report what changed."""
    _run_job(
        "works rebuild",
        rebuild,
        as_json,
        config_path,
        lambda r: (
            f"{r['contents']} contents; works with copies {r['works_with_copies_before']} -> "
            f"{r['works_with_copies_after']}: {r['unchanged']} unchanged, {r['new_or_changed']} new or changed "
            f"({r['canonical_changed']} with another canonical copy), {r['dissolved']} dissolved; "
            f"{r['moved_contents']} contents changed work-mates; {r['seconds']} s"
        ),
    )


@click.command("work")
@click.argument("id_or_url")
@click.option("--json", "as_json", is_flag=True, help="The work, its canonical text and every copy as JSON.")
@config_option
def work(id_or_url: str, as_json: bool, config_path: Path | None) -> None:
    """One work: the canonical text, then every copy (site, URL, containment, partial, masks, first/last seen)."""
    config = get_config(config_path)
    with Archive(config.archive.database_url) as archive, archive.session() as session:
        detail = work_detail(session, resolve(session, id_or_url)).as_dict()
    if as_json:
        click.echo(json.dumps(detail, ensure_ascii=False, indent=2))
        return
    state = "complete" if detail["complete"] else "partial only (no complete copy known yet)"
    click.echo(f"work {detail['id']}  {detail['copies']} copies on {detail['pages']} pages, {state}")
    if detail["title"]:
        click.echo(f"title: {detail['title']}")
    table = Table(title="copies")
    for col in ("role", "site", "url", "containment", "similarity", "partial", "masks", "first seen", "last seen"):
        table.add_column(col)
    for copy in detail["copies"]:
        for page in copy["pages"]:
            table.add_row(
                copy["role"],
                page["site"],
                page["url"],
                f"{copy['containment']:.3f}",
                f"{copy['similarity']:.3f}",
                "yes" if copy["partial"] else "",
                str(copy["masks"]),
                _when(page["first_seen"]),
                _when(page["last_seen"]),
            )
    out_console.print(table)
    if detail["fills"]:
        click.echo(f"masked places another copy prints: {len(detail['fills'])} (see --json)")
    click.echo("--- canonical text ---")
    click.echo(detail["text"])


COMMANDS = (works, work)
