"""`speech-archive replica`: serve the replica sites and write a config that points at them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import tomli_w

from archive.errors import UsageError
from replica.config import replica_config
from speech_archive.console import err_console


def write_replica_config(path: Path, specs: list[dict[str, Any]], database_url: str, **kw: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tomli_w.dumps(replica_config(specs, database_url, **kw)), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the config file {path}: {exc.strerror}") from None


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65530),
    default=8800,
    show_default=True,
    help="First port; the served sites listen on PORT, PORT+1, ... (0: any free ports).",
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="NAME",
    help="Serve only this site (repeatable); default: the five seed sites. `gwzj` (an older table-layout CMS) "
    "is served only when named.",
)
@click.option("--articles", type=click.IntRange(1, 100_000), default=30, show_default=True, help="Articles per site.")
@click.option(
    "--write-config",
    "config_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a config file whose sites point at the replica.",
)
@click.option(
    "--database-url",
    default="sqlite:///data/replica.sqlite3",
    show_default=True,
    help="Archive database named in the written config.",
)
def replica(port: int, sites: tuple[str, ...], articles: int, config_out: Path | None, database_url: str) -> None:
    """Serve replicas of the seed sites (or the --site ones) on 127.0.0.1 until stopped (Ctrl-C)."""
    from replica import ReplicaServer
    from replica.sites import ALL_SITE_NAMES

    unknown = [s for s in sites if s not in ALL_SITE_NAMES]
    if unknown:
        raise UsageError(f"--site {unknown[0]!r} is not a replica site; choose from {', '.join(ALL_SITE_NAMES)}")
    count = len(sites) or 5
    try:
        server = ReplicaServer(articles_per_site=articles, port=port, sites=list(sites) or None)
    except OSError as exc:
        ports = f"127.0.0.1:{port}..{port + count - 1}"
        raise UsageError(f"cannot listen on {ports}: {exc.strerror}; try --port 0") from None
    with server:
        specs = [server.site_spec(name) for name in server.site_names()]
        for spec in specs:
            err_console.print(f"{spec['name']:<12} {spec['title']:<8} {spec['start_urls'][0]}", highlight=False)
        if config_out is not None:
            write_replica_config(config_out, specs, database_url)
            err_console.print(f"wrote {config_out}: try `speech-archive --config {config_out} crawl --all`")
        err_console.print("serving; press Ctrl-C to stop")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            err_console.print("stopped")
