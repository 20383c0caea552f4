"""Alembic environment: runs on the engine handed over by ``Database.alembic_config``."""

from alembic import context

from repository.catalogue import models  # noqa: F401  (registers the tables)
from repository.db import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
