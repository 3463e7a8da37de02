"""Alembic environment: migrations run on the connection the archive hands over."""

from __future__ import annotations

from alembic import context

from archive.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs `alembic` by hand
    raise SystemExit("run migrations through speech-archive; it upgrades the archive itself")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave alone tables other components keep in the archive database (the daemon's job store).

    A table found in the database with no model here is not ours to drop.
    """
    return not (type_ == "table" and reflected and compare_to is None)


context.configure(
    connection=connection,
    include_object=include_object,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
