"""Alembic environment: runs on the connection ODApp hands over (see catalog.store.upgrade)."""

from alembic import context

import catalog.auth  # noqa: F401 - registers its tables on Base
from catalog.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - ODApp always passes its connection
    raise RuntimeError("run migrations through `odapp db upgrade`")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
