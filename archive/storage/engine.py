"""Opening the archive database: engine settings, migrations, sessions.

The tool upgrades the schema itself (Alembic, named transactional
migrations), so a user never runs a separate migration step. SQLite gets WAL,
a busy timeout and foreign keys, because a crawl, the daemon and an export may
use one file at the same time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.errors import ArchiveError
from archive.storage.dberrors import describe

log = logging.getLogger(__name__)

BUSY_TIMEOUT = 30.0
"""Seconds a SQLite write waits for another process's lock ([archive] busy_timeout)."""
CONNECT_TIMEOUT = 10
"""Seconds a PostgreSQL connection attempt may take: an unreachable host must not hang a crawl."""


def _sqlite_pragmas(busy_ms: int) -> Any:
    def pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return pragmas


def make_engine(url: str, *, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    """Create an engine with the settings each backend needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ArchiveError(
                    f"cannot create the archive directory {path.parent}: {exc.strerror}; "
                    "set [archive] database_url to a writable place"
                ) from None
        engine = create_engine(url, connect_args={"timeout": busy_timeout})
        event.listen(engine, "connect", _sqlite_pragmas(round(busy_timeout * 1000)))
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT})


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    return cfg


def _read_only_part(url: str) -> str | None:
    """The SQLite file, or its directory, that cannot be written (WAL needs both), if one cannot."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    for part in (path, path.parent):
        if part.exists() and not os.access(part, os.W_OK):
            return str(part)
    return None


def _describe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def migrate(engine: Engine, url: str) -> None:
    """Bring the schema to the newest revision; refuse a database newer than the code."""
    cfg = _alembic_config()
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    with engine.begin() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return
        if current is not None and current not in {r.revision for r in script.walk_revisions()}:
            raise ArchiveError(
                f"the archive at {_describe(url)} has schema revision {current}, which this "
                "version of speech-archive does not know; upgrade speech-archive"
            )
        log.info("upgrading archive schema %s -> %s", current or "empty", head)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Archive:
    """A handle on one archive database: the engine and a session factory."""

    def __init__(self, url: str, *, upgrade: bool = True, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.url = url
        try:
            self.engine = make_engine(url, busy_timeout=busy_timeout)
        except (ImportError, NoSuchModuleError) as exc:  # an unknown or uninstalled +driver
            raise ArchiveError(
                f"cannot use the database URL {_describe(url)}: {exc}; use sqlite:///… or postgresql+psycopg://…"
            ) from None
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            if upgrade:
                migrate(self.engine, url)
        except ArchiveError:
            self.engine.dispose()
            raise
        except SQLAlchemyError as exc:
            self.engine.dispose()
            read_only = _read_only_part(url)
            if read_only is not None:
                raise ArchiveError(
                    f"the archive database {_describe(url)} is read-only ({read_only} cannot be written); "
                    "make it writable, or set [archive] database_url to a writable place"
                ) from None
            raise ArchiveError(
                f"cannot open the archive database {_describe(url)}: {describe(exc)}; check "
                "[archive] database_url and that the file is a speech-archive database"
            ) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
