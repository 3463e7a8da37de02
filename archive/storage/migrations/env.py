"""Alembic environment: migrations run on the connection the archive hands over."""

from __future__ import annotations

from alembic import context

from archive.storage.models import Base
from archive.storage.schema import include_object

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs `alembic` by hand
    raise SystemExit("run migrations through speech-archive; it upgrades the archive itself")


context.configure(
    connection=connection,
    include_object=include_object,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
