"""Alembic environment: migrations run on the connection the archive hands over."""

from __future__ import annotations

from alembic import context

from archive.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs `alembic` by hand
    raise SystemExit("run migrations through speech-archive; it upgrades the archive itself")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
