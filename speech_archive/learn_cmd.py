"""`speech-archive learn-profile SITE`: a site's template learned from its stored pages (archive/cleaning/learn.py).

Writes ``<profiles_dir>/SITE.toml`` (a ``[profiles."SITE.learned"]`` table the
config reads from then on) and says to run ``reclean``: learning never changes a
stored version by itself.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from archive.cleaning import ProfileBook
from archive.cleaning.learn import RawPage, learn
from archive.errors import NotFoundError, UsageError
from archive.storage import Archive
from archive.storage.reclean import iter_raw_pages, iter_site_names
from speech_archive.console import config_option, err_console, get_config

MIN_PAGES = 3


@click.command("learn-profile")
@click.argument("site")
@click.option(
    "--pages",
    type=click.IntRange(MIN_PAGES, 100_000),
    default=500,
    show_default=True,
    help="Newest stored pages to read.",
)
@click.option(
    "--min-share",
    type=click.FloatRange(0.05, 1.0),
    default=0.25,
    show_default=True,
    help="A line must be kept on at least this share of the pages to be learned.",
)
@click.option("--dry-run", is_flag=True, help="Print the learned profile; write nothing.")
@click.option("--force", is_flag=True, help="Replace an existing learned profile file (your edits in it are lost).")
@config_option
def learn_profile(
    site: str, *, pages: int, min_share: float, dry_run: bool, force: bool, config_path: Path | None
) -> None:
    """Learn SITE's template (lines repeating over its stored pages) into a profile file you can read and edit."""
    config = get_config(config_path)
    configured = next((s for s in config.sites if s.name == site), None)
    book = ProfileBook(config.profiles)
    base = book.for_site(site, configured.profile if configured else None, learned=False)
    target = Path(config.profiles_path or config.profiles_dir) / f"{site}.toml"
    if target.exists() and not (force or dry_run):
        raise UsageError(f"{target} exists (and may hold your edits); pass --force to replace it, --dry-run to compare")
    with Archive(config.archive.database_url) as archive:
        with archive.session() as session:
            known = list(iter_site_names(session))
        if site not in known:
            raise NotFoundError(
                f"site {site!r} has no pages in the archive; stored sites: {', '.join(known) or 'none'}"
            )
        stored = [RawPage(url, body, ctype) for url, body, ctype in iter_raw_pages(archive, site, pages)]
    if len(stored) < MIN_PAGES:
        raise UsageError(
            f"site {site!r} has {len(stored)} stored raw pages; learning needs at least {MIN_PAGES} "
            "(crawl it first, with [archive] keep_raw = true)"
        )
    title = configured.title if configured and configured.title else None
    learned = learn(stored, base, site=site, site_title=title, min_share=min_share)
    text = learned.to_toml(dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    if dry_run:
        click.echo(text, nl=False)
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    err_console.print(
        f"learned {len(learned.rules)} rules from {learned.pages} pages of {site} into {target} "
        f"(profile {learned.name!r}, extends {learned.base!r}); apply them to the stored pages with "
        f"`speech-archive reclean --site {site}`",
        highlight=False,
        markup=False,
    )
