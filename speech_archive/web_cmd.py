"""`speech-archive serve` (the read-only archive browser) and `speech-archive search-index rebuild`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from archive.config import Config
from archive.errors import ConfigError, UsageError
from archive.storage import Archive
from archive.storage.search import rebuild_index
from scheduler.jobstore import next_run_times
from speech_archive.console import config_option, err_console, get_config
from speech_archive.progress import Progress

log = logging.getLogger(__name__)


def _next_runs(conn: Connection) -> Any:
    return next_run_times(Session(bind=conn))


def require_token_beyond_localhost(config: Config, host: str, port: int, setting: str) -> None:
    """Binding beyond this machine without a token would publish the archive: refuse, naming both fixes."""
    from archive.browse import is_local

    if not is_local(host) and not config.web.token:
        raise ConfigError(
            f"{setting} {host}:{port} is reachable beyond this machine; set [web] token (or "
            "$SPEECH_ARCHIVE_WEB_TOKEN) so the browser asks for it, or listen on 127.0.0.1"
        )


@click.command()
@click.option(
    "--listen", metavar="HOST:PORT", default=None, help="Address to serve on (default: [web] listen, 127.0.0.1:8080)."
)
@config_option
def serve(listen: str | None, config_path: Path | None) -> None:
    """Browse the archive in a web browser: sites, pages, versions, diffs, search, runs (read-only)."""
    from archive.browse import BrowseOptions, ReadOnlyArchive, WebServer, bind, create_app, is_local
    from scheduler.daemon import parse_listen

    config = get_config(config_path)
    if listen is not None:
        (host, port), setting = parse_listen(listen, "--listen"), "--listen"
    else:
        (host, port), setting = parse_listen(config.web.listen, f"{config.source}: web.listen"), "[web] listen"
    require_token_beyond_localhost(config, host, port, setting)
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}); set {setting} to a free address") from None
    try:
        archive = ReadOnlyArchive(config.archive.database_url)  # refuses a missing SQLite file
        Archive(config.archive.database_url).close()  # upgrades the schema once if needed; browsing only reads
    except BaseException:
        sock.close()
        raise
    options = BrowseOptions(page_size=config.web.page_size, token=config.web.token, next_runs=_next_runs)
    server = WebServer(create_app(archive, options), sock, config.web, access_log=True)
    bound_host, bound_port = server.address
    if is_local(host):
        log.info("archive browser on http://%s:%d/ (read-only, this machine only)", bound_host, bound_port)
    else:
        log.warning(
            "archive browser on http://%s:%d/ is reachable beyond this machine; every page needs the [web] token "
            "(Authorization: Bearer, or the login page's cookie)",
            bound_host,
            bound_port,
        )
    try:
        server.run()
    finally:
        archive.close()


@click.group("search-index")
def search_index() -> None:
    """The full-text search index (kept up to date by every crawl and reclean)."""


@search_index.command("rebuild")
@config_option
def rebuild(config_path: Path | None) -> None:
    """Rebuild the search index from the stored versions, in one transaction."""
    config = get_config(config_path)
    with Archive(config.archive.database_url) as archive:
        with archive.session() as session:
            total = session.connection().exec_driver_sql("SELECT count(*) FROM contents").scalar_one()
        progress = Progress("search-index rebuild", err_console, total=int(total), unit="texts")
        with progress, archive.session() as session:
            counts = rebuild_index(session.connection(), progress.advance)
    click.echo(f"search index rebuilt: {counts['texts']:,} texts, {counts['pages']:,} pages")


COMMANDS = (serve, search_index)
