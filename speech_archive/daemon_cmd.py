"""`speech-archive daemon`: the always-on scheduler, in the foreground (the container's command)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from speech_archive.console import config_option, get_config, resolve_config_path


@click.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default=None,
    help="Address of /healthz and /metrics (default: [daemon] listen, 127.0.0.1:9464).",
)
@config_option
def daemon(listen: str | None, config_path: Path | None) -> None:
    """Crawl every enabled site on its schedule until stopped (SIGTERM or Ctrl-C); SIGHUP reloads the config.

    Jobs are kept in the archive database, so a restart keeps each site's next
    run; runs missed while stopped are made up once at start (within
    [daemon] misfire_grace). Each crawl runs in its own process.
    """
    from scheduler.daemon import parse_listen, run_daemon  # APScheduler only for this command

    config = get_config(config_path)
    if listen is not None:
        address, setting = parse_listen(listen, "--listen"), "--listen"
    else:
        address, setting = parse_listen(config.daemon.listen, f"{config.source}: daemon.listen"), "[daemon] listen"
    if logging.getLogger().level > logging.DEBUG:
        # APScheduler's own INFO lines repeat ours ("Running job …"); keep its warnings.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    path = resolve_config_path(config_path)
    sys.exit(run_daemon(config, path, address, listen_setting=setting, reload=lambda: get_config(path)))
