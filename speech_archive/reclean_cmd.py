"""`speech-archive reclean`: the current cleaner over the stored raw pages (archive/storage/reclean.py).

Recorded as re-cleans, never as edits; holds each site's crawl lease so a crawl
and a re-clean never write one site at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from archive.cleaning import ProfileBook
from archive.errors import LeaseHeldError, NotFoundError
from archive.storage import Archive
from archive.storage.leases import LeaseKeeper, holder_name
from archive.storage.reclean import SiteCleaning, count_pages, iter_site_names
from archive.storage.reclean import reclean as run_reclean
from archive.works import match_pending
from speech_archive.console import config_option, err_console, get_config
from speech_archive.progress import Progress


@click.command("reclean")
@click.option("--site", "site_names", multiple=True, metavar="NAME", help="Only this site (repeatable).")
@click.option("--dry-run", is_flag=True, help="Count what would change; store nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@config_option
def reclean(site_names: tuple[str, ...], dry_run: bool, as_json: bool, config_path: Path | None) -> None:
    """Re-clean the stored raw pages with the current extractor; changed texts become re-clean versions."""
    config = get_config(config_path)
    book = ProfileBook(config.profiles)
    configured = {s.name: s for s in config.sites}
    with Archive(config.archive.database_url) as archive:
        with archive.session() as session:
            stored = list(iter_site_names(session))
        for name in site_names:
            if name not in stored:
                raise NotFoundError(f"site {name!r} has no pages in the archive; stored sites: {', '.join(stored)}")
        chosen = list(site_names) or stored
        sites = {
            n: SiteCleaning(configured[n].profile, configured[n].title) if n in configured else SiteCleaning()
            for n in chosen
        }
        for name, how in sites.items():
            book.for_site(name, how.profile)  # a bad profile name fails here, before any work
        lease = config.daemon.lease_seconds
        with LeaseKeeper(archive, holder_name("reclean"), lease) as keeper:
            refused = keeper.acquire(sites)
            if refused:
                raise next(iter(refused.values()))
            total = count_pages(archive, list(sites))
            with Progress("reclean", err_console, unit="pages", total=total, quiet=as_json) as progress:
                report = run_reclean(archive, book, sites, dry_run=dry_run, progress=progress.advance)
        works = None
        if not dry_run and report.counts.get("recleaned") and config.works.match_after_crawl:
            try:  # re-cleaned texts are new contents: link them to their works as a crawl would
                works = match_pending(archive, config.works).as_dict()
            except LeaseHeldError as exc:
                err_console.print(f"works not matched now: {exc}", highlight=False, markup=False)
    result = {**report.as_dict(), "dry_run": dry_run, "works": works}
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    verb = "would add" if dry_run else "added"
    err_console.print(
        f"reclean: {result['pages']} pages: {verb} {result['recleaned']} re-clean versions, "
        f"{result['unchanged']} unchanged, {result['failed']} failed (kept, see the log), "
        f"{result['no_raw']} without a stored raw page",
        highlight=False,
    )
