"""Alembic migrations run both ways on both backends and match the table definitions."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from rtserver.store.database import Database
from rtserver.store.migrate import alembic_config, current_revisions, head_revisions, migrate
from rtserver.store.tables import Base


async def test_down_and_up_again(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert await current_revisions(database) == head_revisions()

        def downgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with database.engine.begin() as conn:
            await conn.run_sync(downgrade)
        async with database.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert "users" not in tables
        await migrate(database)
        assert await current_revisions(database) == head_revisions()
    finally:
        await database.close()


async def test_tables_match_migrations(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert diff == []
    finally:
        await database.close()
