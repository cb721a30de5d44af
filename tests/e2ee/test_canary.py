"""A whole conversation through a real server process, then the database files or tables and
the server's log are searched for the plaintext: it must be nowhere."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from rtserver.store.database import Database
from rtserver.store.tables import Base
from tests.chat.test_chat_resilience import FAST, setup_pair
from tests.conftest import SettingsFactory
from tests.support.people import Devices, Person, chat
from tests.support.server import serve_subprocess

CANARY = "kanari-7f3a9c-aku-merasa-sangat-sendiri"


async def database_text(url: str) -> str:
    """Every value of every table, as text."""
    database = Database(url)
    parts: list[str] = []
    try:
        async with database.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = await conn.execute(table.select())
                parts.extend(str(tuple(row)) for row in rows)
    finally:
        await database.close()
    return "\n".join(parts)


async def test_canary_plaintext_is_nowhere_on_the_server(
    make_settings: SettingsFactory, tmp_path: Path, clients: Devices
) -> None:
    settings = make_settings(log_level="DEBUG", **FAST)
    async with aiohttp.ClientSession() as http:
        with serve_subprocess(settings, tmp_path) as server:
            counselor, client, cid = await setup_pair(server, http)
            console = await chat(clients, server.url, counselor)
            phone = await chat(clients, server.url, client)
            await phone.send_text(cid, f"{CANARY} (dari klien)")
            got = await asyncio.wait_for(console.inbox.get(), 5)
            assert CANARY in await console.read(got)
            await console.send_text(cid, f"{CANARY} (dari konselor)")
            got = await asyncio.wait_for(phone.inbox.get(), 5)
            assert CANARY in await phone.read(got)
            history = await rest_history(server.url, http, client, cid)
            assert CANARY not in history and "ciphertext" in history
    logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("server-*.log"))
    assert logs and CANARY not in logs
    assert CANARY not in await database_text(settings.effective_database_url)
    if settings.uses_sqlite:
        for path in settings.data_dir.glob("rtserver.db*"):  # the file, its WAL and SHM
            assert CANARY.encode() not in path.read_bytes(), path


async def rest_history(url: str, http: aiohttp.ClientSession, person: Person, cid: str) -> str:
    async with http.get(
        f"{url}/api/v1/conversations/{cid}/messages",
        headers={"Authorization": f"Bearer {person.token}"},
    ) as response:
        return await response.text()
