"""`speech-archive train-dict`: a zstd dictionary per site for its raw pages (archive/storage/dictionaries.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table
from sqlalchemy import select

from archive.errors import NotFoundError
from archive.storage import Archive
from archive.storage.dictionaries import MAX_SAMPLES, MIN_PAGES, Training, site_raw_pages, train
from archive.storage.models import Site
from archive.storage.reclean import iter_site_names
from speech_archive.console import config_option, err_console, get_config, out_console


def _pages_by_site(archive: Archive) -> dict[str, int]:
    with archive.session() as session:
        names = list(iter_site_names(session))
        ids = {name: site_id for name, site_id in session.execute(select(Site.name, Site.id))}
        return {name: site_raw_pages(session, ids[name]) for name in names}


@click.command("train-dict")
@click.argument("site_names", nargs=-1, metavar="[SITE]...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per site.")
@config_option
def train_dict(site_names: tuple[str, ...], as_json: bool, config_path: Path | None) -> None:
    """Train each site a zstd dictionary from its stored raw pages; its new pages are stored with it.

    Without SITE, every site in the archive with enough stored pages. Pages already
    stored keep the dictionary (or none) they were written with.
    """
    config = get_config(config_path)
    results: list[Training] = []
    skipped: dict[str, int] = {}
    with Archive(config.archive.database_url) as archive:
        pages = _pages_by_site(archive)
        for name in site_names:
            if name not in pages:
                raise NotFoundError(f"site {name!r} has no pages in the archive; stored sites: {', '.join(pages)}")
        chosen = list(site_names) or [n for n, count in pages.items() if count >= MIN_PAGES]
        skipped = {n: count for n, count in pages.items() if not site_names and count < MIN_PAGES}
        for name in chosen:
            if not as_json:
                message = f"training {name} on up to {MAX_SAMPLES} of its {pages[name]} stored raw pages…"
                err_console.print(message, highlight=False)
            results.append(train(archive, name))
    if as_json:
        for result in results:
            click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    table = Table(title="raw-page dictionaries (bytes a page measured on held-out pages, zstd level 3)")
    for col in ("site", "stored pages", "trained on", "held out", "plain zstd", "with dictionary", "smaller", "id"):
        table.add_column(col, justify="left" if col == "site" else "right")
    for r in results:
        table.add_row(
            r.site, str(r.site_pages), str(r.trained_on), str(r.held_out), f"{r.plain_bytes_per_page:,}",
            f"{r.dict_bytes_per_page:,}", f"{r.ratio:.2f}×", str(r.dict_id) if r.dict_id is not None else "not stored",
        )  # fmt: skip
    out_console.print(table)
    for name, count in skipped.items():
        err_console.print(f"{name}: {count} stored raw pages, fewer than the {MIN_PAGES} a dictionary needs; skipped")
