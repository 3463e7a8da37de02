"""What Alembic compares against the models: every table of ours, but not what is kept by hand.

Two parts of the archive database are not SQLAlchemy models: the search
index's backend-specific objects (FTS5 tables on SQLite; a tsvector column and
GIN indexes on PostgreSQL; archive/storage/search.py makes them) and tables
other components keep there (the daemon's APScheduler job store). Migrations
and the schema test both use :func:`include_object`, so they agree on the rule.
"""

from __future__ import annotations

from typing import Any

from archive.storage.search import UNMODELLED_COLUMNS, UNMODELLED_INDEXES, UNMODELLED_TABLE_PREFIXES


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: False for what the models do not describe on purpose."""
    if type_ == "table":
        if name and name.startswith(UNMODELLED_TABLE_PREFIXES):
            return False
        return not (reflected and compare_to is None)  # another component's table: not ours to drop
    if type_ == "index" and name in UNMODELLED_INDEXES:
        return False
    table = getattr(getattr(obj, "table", None), "name", None)
    return not (type_ == "column" and (table, name) in UNMODELLED_COLUMNS)
