"""The command line's edge: logging set-up, config loading, error reporting.

Only this layer configures logging handlers and reads the environment; the
packages below receive a validated Config and log through their own loggers.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from archive.cleaning import check_profiles
from archive.config import DEFAULT_CONFIG_PATH, ArchiveSettings, Config, WebSettings, load_config
from archive.errors import ConfigError, SpeechArchiveError
from archive.logs import LibraryFilter, install, structured_handler
from archive.storage.dberrors import archive_error

F = TypeVar("F", bound=Callable[..., Any])

ENV_CONFIG = "SPEECH_ARCHIVE_CONFIG"
ENV_DATABASE_URL = "SPEECH_ARCHIVE_DATABASE_URL"
ENV_WEB_TOKEN = "SPEECH_ARCHIVE_WEB_TOKEN"

err_console = Console(stderr=True)
# Off a terminal rich would assume 80 columns and truncate the summary tables.
out_console = Console() if Console().is_terminal else Console(width=160)


def setup_logging(verbose: int, quiet: bool) -> None:
    """Rich lines on a terminal, one structured line per record elsewhere."""
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 0 else logging.INFO
    if err_console.is_terminal:
        handler: logging.Handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.addFilter(LibraryFilter(verbose))
    else:
        handler = structured_handler(verbose)
    install(handler, level)


GROUP_CONFIG_KEY = "speech_archive.config_path"


def resolve_config_path(path: Path | None) -> Path:
    """The command's --config, else the group's (`speech-archive --config X cmd`), else env, else default."""
    if path is not None:
        return path
    ctx = click.get_current_context(silent=True)
    group_path = ctx.meta.get(GROUP_CONFIG_KEY) if ctx is not None else None
    if group_path is not None:
        return Path(group_path)
    env = os.environ.get(ENV_CONFIG)
    return Path(env) if env else DEFAULT_CONFIG_PATH


def config_option(func: F) -> F:
    """--config on every command (falls back to $SPEECH_ARCHIVE_CONFIG, then ./config.toml)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=f"Config file (default: ${ENV_CONFIG}, else ./config.toml).",
    )(func)


def get_config(config_path: Path | None) -> Config:
    """The validated config; $SPEECH_ARCHIVE_DATABASE_URL, if set, replaces [archive] database_url.

    The override keeps a database password out of the config file (docker-compose passes it
    this way) and reaches the daemon's crawl processes, which inherit the environment.
    """
    config = load_config(resolve_config_path(config_path))
    check_profiles(config)
    token = os.environ.get(ENV_WEB_TOKEN)
    if token:
        config = _with_web_token(config, token)
    url = os.environ.get(ENV_DATABASE_URL)
    if not url:
        return config
    try:
        archive = ArchiveSettings.model_validate({**config.archive.model_dump(), "database_url": url})
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"${ENV_DATABASE_URL}: {reason}") from None
    return config.model_copy(update={"archive": archive})


def _with_web_token(config: Config, token: str) -> Config:
    """$SPEECH_ARCHIVE_WEB_TOKEN replaces [web] token (keeps the secret out of the config file)."""
    try:
        web = WebSettings.model_validate({**config.web.model_dump(), "token": token})
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"${ENV_WEB_TOKEN}: {reason}") from None
    return config.model_copy(update={"web": web})


def _error_line(message: str) -> None:
    err_console.print(Text.assemble(("error: ", "bold red"), message), highlight=False, soft_wrap=True)


class ErrorReportingGroup(click.Group):
    """Turns domain errors, and click's own usage errors, into one line on stderr and the error's exit code."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's standalone mode prints usage errors as four lines (usage, hint, blank, error); here one."""
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = f"{exc.ctx.command_path} --help" if exc.ctx is not None else "--help"
            _error_line(f"{exc.format_message()} (see '{where}')")
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            _error_line(exc.format_message())
            sys.exit(exc.exit_code)
        except click.Abort:
            err_console.print("aborted")
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            failure = archive_error(exc, "the archive database failed (its transaction was rolled back)")
            _error_line(str(failure))
            sys.exit(failure.exit_code)
        except SpeechArchiveError as exc:
            _error_line(str(exc))
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err_console.print("interrupted")
            sys.exit(130)
