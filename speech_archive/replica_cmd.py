"""`speech-archive replica`: serve the replica sites and write a config that points at them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import tomli_w

from archive.errors import UsageError
from speech_archive.console import err_console

# Body hints for the replica's markup: they narrow the page before trafilatura (faster, and
# exact); the built-in profiles carry none because the live sites' markup is unverified.
REPLICA_BODY_HINTS = {
    "wm114": "//div[@id='content']",
    "zhongyi": "//div[@class='article']/div[@class='content']",
    "lixin": "//div[@class='article']/div[@class='content']",
    "biganzi": "//div[@class='doc-text']",
    "sanweiyuan": "//div[@class='left']/div[@class='content']",
}


def replica_config(specs: list[dict[str, Any]], database_url: str, *, delay: float = 0.0) -> dict[str, Any]:
    """A config document whose [[sites]] are the replica's sites on 127.0.0.1."""
    names = [spec["name"] for spec in specs]
    return {
        "profiles": {name: {"body_xpath": REPLICA_BODY_HINTS[name]} for name in names if name in REPLICA_BODY_HINTS},
        "archive": {"database_url": database_url},
        "crawl": {"delay": delay, "obey_robots": True, "concurrency_per_domain": 8, "retries": 1, "timeout": 10},
        "sites": [
            {
                "name": spec["name"],
                "title": spec["title"],
                "base_url": spec["base_url"],
                "start_urls": list(spec["start_urls"]),
                "article_pattern": spec["article_pattern"],
                "pagination_pattern": spec["pagination_pattern"],
                "schedule": "every 1h",
            }
            for spec in specs
        ],
    }


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
    help="First port; the five sites listen on PORT..PORT+4 (0: any free ports).",
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
def replica(port: int, articles: int, config_out: Path | None, database_url: str) -> None:
    """Serve replicas of the five seed sites on 127.0.0.1 until stopped (Ctrl-C)."""
    from replica import ReplicaServer

    try:
        server = ReplicaServer(articles_per_site=articles, port=port)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}..{port + 4}: {exc.strerror}; try --port 0") from None
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
