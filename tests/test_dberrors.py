"""One mapping of database failures to one-line messages, checked against real SQLite failures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from archive.errors import ArchiveError
from archive.storage import Archive
from archive.storage.dberrors import database_errors, describe


def failure(url: str, sql: str) -> SQLAlchemyError:
    engine = create_engine(url, connect_args={"timeout": 0.2})
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    except SQLAlchemyError as exc:
        return exc
    finally:
        engine.dispose()
    pytest.fail(f"{sql!r} did not fail")


def test_a_read_only_database_says_read_only(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    Archive(f"sqlite:///{db}").close()
    exc = failure(
        f"sqlite:///file:{db}?mode=ro&uri=true",
        "INSERT INTO sites (name, title, base_url, created_at) VALUES ('a', '', 'x', '2026-01-01')",
    )
    message = describe(exc)
    assert "readonly" in message and "read-only; make it writable" in message
    assert "\n" not in message and "INSERT" not in message, "the SQL is not part of the message"


def test_a_lock_held_past_the_busy_timeout_says_so(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    Archive(f"sqlite:///{db}").close()
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        exc = failure(
            f"sqlite:///{db}",
            "INSERT INTO sites (name, title, base_url, created_at) VALUES ('a', '', 'x', '2026-01-01')",
        )
    finally:
        holder.rollback()
        holder.close()
    assert "database is locked" in describe(exc) and "busy timeout" in describe(exc)


def test_database_errors_become_one_archive_error_naming_the_action(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    try:
        with pytest.raises(ArchiveError) as info, database_errors("counting pages"), engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table"))
    finally:
        engine.dispose()
    assert str(info.value) == "counting pages: no such table: no_such_table"
    assert info.value.exit_code == 4
