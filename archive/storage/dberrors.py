"""One mapping of database exceptions to what a user reads: the driver's reason, and what to do.

SQLAlchemy wraps the driver's exception; its first line is the useful part
("database is locked", "connection refused"). A few reasons have a known
remedy, which the message adds, so every command says the same thing about
the same fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from archive.errors import ArchiveError

_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"readonly database|read-only", re.I),
        "the database (or its directory) is read-only; make it writable",
    ),
    (re.compile(r"database or disk is full|No space left", re.I), "the disk is full; free space and run again"),
    (re.compile(r"database is locked", re.I), "another process held a write lock past the busy timeout; retry"),
    (
        re.compile(r"connection refused|could not connect|server closed the connection|terminating connection", re.I),
        "the database server is not reachable; check that it runs and [archive] database_url",
    ),
    (re.compile(r"unable to open database file", re.I), "check that the directory exists and is writable"),
)


def db_reason(exc: BaseException) -> str:
    """The driver's reason in one line (SQLAlchemy's wrapper and its SQL left out)."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return text[0] if text and text[0] else type(inner).__name__


def db_hint(reason: str) -> str | None:
    """What to do about a reason, when it is a known one."""
    return next((hint for pattern, hint in _HINTS if pattern.search(reason)), None)


def describe(exc: BaseException) -> str:
    """Reason and, when known, the remedy: ``database is locked (another process …; retry)``."""
    reason = db_reason(exc)
    hint = db_hint(reason)
    return f"{reason} ({hint})" if hint else reason


def unavailable(exc: BaseException) -> bool:
    """True when the database cannot be written *now* (unreachable, locked, full, read-only), as
    opposed to refusing this one statement (a constraint, a value too long, a bug).

    The first kind is waited out and retried; the second is recorded against the page.
    """
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, SQLAlchemyError) and db_hint(db_reason(exc)) is not None


def archive_error(exc: BaseException, doing: str) -> ArchiveError:
    """The ArchiveError for a database failure while ``doing`` something."""
    return ArchiveError(f"{doing}: {describe(exc)}")


@contextmanager
def database_errors(doing: str) -> Iterator[None]:
    """Turn a database failure inside the block into one ArchiveError naming what was being done."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise archive_error(exc, doing) from None
