"""Shared fixtures: a real replica server, real config files, the real CLI in a subprocess."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from services import ENV_REQUIRE, PostgresServer, find_pg_bin

from replica.config import replica_config

if TYPE_CHECKING:
    from replica import ReplicaServer

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    """Five replica sites, 12 articles each, 5 per list page (three list pages a site)."""
    from replica import ReplicaServer

    with ReplicaServer(articles_per_site=12, per_page=5, seed=7) as server:
        yield server


def write_config(
    path: Path, server: ReplicaServer, db: Path | str, sites: list[str] | None = None, **crawl: Any
) -> Path:
    """A config whose sites are the replica's, crawled without delay, cleaning in one worker.

    ``db`` is a SQLite file, or any database URL (``postgresql+psycopg://…`` from ``archive_url``).
    """
    import tomli_w

    specs = [server.site_spec(name) for name in (sites or server.site_names())]
    doc = replica_config(specs, db if isinstance(db, str) and "://" in db else f"sqlite:///{db}")
    doc["crawl"].update({"autothrottle": False, "clean_workers": 1, **crawl})
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture
def archive_paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "config.toml", tmp_path / "archive.sqlite3"


IN_PROCESS = {"status", "history", "show", "runs", "export", "reclean", "extract", "bench-export", "train-dict"}
"""Commands run in-process through click's CliRunner (as sqlite-utils tests do): ~1 s less each than a new
interpreter. Crawls, the daemon and the replica keep real processes: Scrapy's reactor runs once per process,
and signals and ports need a process of their own."""


def _command_of(args: tuple[str, ...]) -> str | None:
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--config", "-c"):
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _invoke_in_process(
    args: tuple[str, ...], cwd: Path | None, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    import contextlib
    import logging

    from click.testing import CliRunner

    from speech_archive.cli import main

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SPEECH_ARCHIVE_") and k not in env}
    try:
        with contextlib.chdir(cwd or REPO):
            result = CliRunner().invoke(main, list(args), env={**unset, **env}, catch_exceptions=True)
    finally:
        root.handlers[:], root.level = handlers, level  # the command configured logging for its own streams
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(result.exception))
        return subprocess.CompletedProcess(list(args), 1, result.stdout, result.stderr + tb)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the real `speech-archive` command: in-process for read-side commands, else in a fresh process.

    Either way the caller gets returncode, stdout and stderr; an exception escaping a command shows up as
    a traceback in stderr, which the tests assert never happens.
    """
    env = dict(env or {})
    if _command_of(args) in IN_PROCESS:
        return _invoke_in_process(args, cwd, env)
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    for key in ("SPEECH_ARCHIVE_CONFIG", "SPEECH_ARCHIVE_DATABASE_URL"):  # never a developer's real archive
        if key not in env:
            full_env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "speech_archive", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def crawl_ok(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = cli("crawl", "--config", str(config), *(args or ("--all",)))
    assert result.returncode == 0, f"crawl failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the archive with plain sqlite3: the tests check the file, not our ORM."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def scalar(db: Path, sql: str, *params: Any) -> Any:
    return query(db, sql, *params)[0][0]


# --- storage backends: the same contract tests run on SQLite and on a real PostgreSQL ---------


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (tests/services.py); skipped when not installed.

    `make test` installs PostgreSQL if missing and sets $SPEECH_ARCHIVE_REQUIRE_POSTGRES,
    which turns the skip into a failure.
    """
    bindir = find_pg_bin()
    if bindir is None:
        message = "PostgreSQL binaries not found (initdb/pg_ctl); run `make services` or set $SPEECH_ARCHIVE_PG_BIN"
        if os.environ.get(ENV_REQUIRE):
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty archive database URL: a SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()
