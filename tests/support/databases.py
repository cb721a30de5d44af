"""Per-worker test databases: one migrated PostgreSQL database, one migrated SQLite template.

Each test then gets a clean store: PostgreSQL tables are truncated, the SQLite file is copied.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
from sqlalchemy import text

from rtserver.store.database import Database
from rtserver.store.migrate import migrate
from rtserver.store.tables import Base
from tests.support.services import POSTGRES_ADMIN_URL, database_url


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def recreate_postgres(name: str, *, migrated: bool = True) -> str:
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = database_url(name)
    if not migrated:
        return url
    database = Database(url)
    try:
        await migrate(database)
    finally:
        await database.close()
    return url


def create_postgres_database(worker: str) -> str:
    return asyncio.run(recreate_postgres(f"rtserver_test_{worker}"))


async def drop_postgres(name: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def drop_postgres_database(worker: str) -> None:
    asyncio.run(drop_postgres(f"rtserver_test_{worker}"))


async def truncate_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    database = Database(url)
    try:
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    finally:
        await database.close()


def create_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    database = Database(f"sqlite+aiosqlite:///{path}")

    async def build() -> None:
        try:
            await migrate(database)
        finally:
            await database.close()

    asyncio.run(build())
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    path = directory / "rtserver.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"
