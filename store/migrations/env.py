"""Alembic's entry point; `store.migrate` hands it an open connection."""

from alembic import context

from store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `fikafollow db upgrade`")

# batch mode lets later migrations alter SQLite tables (it copies them, as ALTER cannot)
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
