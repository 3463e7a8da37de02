"""The browser's database connection: read-only by construction, not by care.

SQLite is opened through a ``mode=ro`` URI (and ``PRAGMA query_only``), so the
file cannot be written through it whatever a query says; PostgreSQL sessions
start with ``default_transaction_read_only`` (every transaction is read-only)
and a statement timeout, so one slow search cannot hold a connection for long.
The schema is never migrated here: the command that starts the browser opens
the archive once the normal way first (see :func:`open_read_only`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from archive.errors import ArchiveError

STATEMENT_TIMEOUT_MS = 15_000
SQLITE_BUSY_MS = 5_000


def _sqlite_read_only(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=1")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.close()


def read_only_engine(url: str) -> Engine:
    """An engine that can only read the archive at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ArchiveError("the archive browser needs an archive file; set [archive] database_url")
        path = Path(parsed.database).resolve()
        if not path.is_file():
            raise ArchiveError(f"no archive at {path}; crawl something first or set [archive] database_url")
        target = f"sqlite:///file:{urllib.parse.quote(str(path))}?mode=ro&uri=true"
        engine = create_engine(target, connect_args={"check_same_thread": False}, pool_size=8, max_overflow=8)
        event.listen(engine, "connect", _sqlite_read_only)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    options = f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}"
    return create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=8, connect_args={"options": options})


class ReadOnlyArchive:
    """The browser's handle on the archive: read-only connections, nothing else."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = read_only_engine(url)
        self.dialect = self.engine.dialect.name

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """One connection for one request; its transaction is rolled back (nothing to keep)."""
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()
