"""A throwaway PostgreSQL server for the tests: initdb into a temp dir, one database per test.

The server is the real thing (the Debian/Ubuntu ``postgresql`` binaries; ``make
services`` installs them when missing), listening on 127.0.0.1 and a free port,
with durability switched off (fsync, synchronous_commit) because the data dies
with the test session anyway. PostgreSQL refuses to run as root, so under root
the server runs as the ``postgres`` user (or ``nobody``) through ``runuser``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import itertools
import os
import pickle
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")

ENV_BIN = "SPEECH_ARCHIVE_PG_BIN"
ENV_REQUIRE = "SPEECH_ARCHIVE_REQUIRE_POSTGRES"


def find_pg_bin() -> Path | None:
    """The directory with initdb and pg_ctl: $SPEECH_ARCHIVE_PG_BIN, the newest /usr/lib/postgresql/N/bin, or PATH."""
    candidates = [os.environ.get(ENV_BIN, "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    which = shutil.which("pg_ctl")
    candidates.append(str(Path(which).parent) if which else "")
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """Start with :meth:`start`, stop with :meth:`stop`; :meth:`create_database` gives a fresh URL."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="speech-archive-pg-"))
        self.datadir = self.root / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            user = "postgres"
            try:
                pwd.getpwnam(user)
            except KeyError:
                user = "nobody"
            self.root.chmod(0o755)
            shutil.chown(self.root, user=user)
            self._prefix = ["runuser", "-u", user, "--"]

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self._prefix, *args], capture_output=True, text=True, check=False, timeout=120)

    def halt(self) -> None:
        """Stop the server, keeping its data: a PostgreSQL restart (or outage) under a running crawl."""
        result = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-t", "30", "stop")
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {result.stderr.strip()}")

    def resume(self) -> None:
        """Start a halted server again, on the same port with the same data."""
        self._start_server()

    def start(self) -> None:
        init = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip()}")
        self._start_server()

    def _start_server(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        start = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if start.returncode != 0:
            logfile = self.root / "server.log"
            log = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {start.stderr.strip()} {log}")

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True)

    def create_database(self, prefix: str = "archive") -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"{prefix}_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def set_connections_allowed(self, name: str, allowed: bool) -> None:
        """Make a database unreachable (and drop its sessions), or reachable again: a real outage for one test."""
        with self.admin() as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
            if not allowed:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            result = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-t", "20", "stop")
            if result.returncode != 0:
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


# --- machine faults: a small or read-only file system ------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "8m") -> Iterator[Path]:
    """A real tmpfs of ``size`` mounted at ``path`` (a full disk, a read-only data directory).

    Mounting needs root (or CAP_SYS_ADMIN); without it the test is skipped with that reason.
    """
    import pytest

    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {path}: {mounted.stderr.strip()} (this fault test needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def remount(path: Path, options: str) -> None:
    """Change a mounted tmpfs on the fly: ``ro``, ``rw``, ``size=64m``."""
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], capture_output=True, check=True)


# --- the daemon as a real process, and a plain-SQL reader of its archive ---------------------


def clean_env() -> dict[str, str]:
    """The environment for our commands in tests: none of the developer's SPEECH_ARCHIVE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECH_ARCHIVE_")}
    return {**env, "PYTHONUNBUFFERED": "1"}


class DaemonProcess:
    """`speech-archive daemon` in a subprocess, its output in a file the test can search."""

    def __init__(self, config: Path, log: Path, *extra: str) -> None:
        self.log = log
        self._out = log.open("ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "speech_archive",
                "daemon",
                "--config",
                str(config),
                "--listen",
                "127.0.0.1:0",
                *extra,
            ],
            cwd=REPO,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=clean_env(),
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 30, start: int = 0) -> re.Match[str]:
        """The first match of ``pattern`` in the log after offset ``start``; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern).search(self.text(), start)
            if match:
                return match
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise AssertionError(f"daemon exited ({code}) before logging {pattern!r}:\n{self.text()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in the daemon log after {timeout} s:\n{self.text()[-4000:]}")
            time.sleep(0.1)

    @property
    def port(self) -> int:
        return int(self.wait_for_log(r"health and metrics on http://127\.0\.0\.1:(\d+)/healthz").group(1))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._out.close()


def wait_until(what: str, predicate: Callable[[], T | None], timeout: float = 30, every: float = 0.2) -> T:
    """Poll ``predicate`` until it returns something truthy (returned); fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class ArchiveReader:
    """Plain SQL on the archive (either backend): the tests check the database, not our ORM."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(text(sql), params)]

    def runs(self, site: str | None = None) -> list[dict[str, Any]]:
        """Crawl runs, oldest first, with aware UTC datetimes on both backends."""
        rows = self.rows(
            "SELECT r.id, s.name AS site, r.trigger, r.status, r.started_at, r.finished_at, r.pid, r.error "
            "FROM crawl_runs r JOIN sites s ON s.id = r.site_id ORDER BY r.id"
        )
        for row in rows:
            for key in ("started_at", "finished_at"):
                value = row[key]
                if isinstance(value, str):
                    value = dt.datetime.fromisoformat(value)
                if isinstance(value, dt.datetime) and value.tzinfo is None:
                    value = value.replace(tzinfo=dt.UTC)
                row[key] = value
        return [r for r in rows if site is None or r["site"] == site]

    def jobs(self) -> dict[str, dict[str, Any]]:
        """The daemon's stored jobs: next run time and the unpickled trigger."""
        out = {}
        for row in self.rows("SELECT id, next_run_time, job_state FROM apscheduler_jobs"):
            state = pickle.loads(row["job_state"])
            out[row["id"]] = {"next_run_time": row["next_run_time"], "trigger": state["trigger"]}
        return out

    def integrity_problems(self) -> list[str]:
        """What a crash could leave half-written: reported as strings, empty when all is well."""
        problems: list[str] = []
        if self.url.startswith("sqlite"):
            check = self.rows("PRAGMA integrity_check")
            if [next(iter(r.values())) for r in check] != ["ok"]:
                problems.append(f"integrity_check: {check}")
            problems += [f"foreign key: {r}" for r in self.rows("PRAGMA foreign_key_check")]
        problems += [f"run left running: {r}" for r in self.rows("SELECT id FROM crawl_runs WHERE status = 'running'")]
        problems += [
            f"version without content: {r}"
            for r in self.rows(
                "SELECT v.id FROM versions v LEFT JOIN contents c ON c.hash = v.content_hash WHERE c.hash IS NULL"
            )
        ]
        problems += [
            f"capture of a missing run: {r}"
            for r in self.rows(
                "SELECT c.id FROM captures c LEFT JOIN crawl_runs r ON r.id = c.run_id "
                "WHERE c.run_id IS NOT NULL AND r.id IS NULL"
            )
        ]
        problems += [
            f"new_version capture without its version: {r}"
            for r in self.rows(
                "SELECT c.id FROM captures c LEFT JOIN versions v ON v.capture_id = c.id "
                "WHERE c.outcome = 'new_version' AND v.id IS NULL"
            )
        ]
        return problems

    def close(self) -> None:
        self.engine.dispose()
