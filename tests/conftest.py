"""Shared fixtures: a clean store per test on SQLite and PostgreSQL, Redis, running servers.

Without PostgreSQL or Redis on this machine the tests that need them are skipped and the run
says so at the end; with CI=true a missing service fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from rtserver.settings import Settings, load_settings
from tests.support import databases
from tests.support.clients import Api
from tests.support.people import Devices, Pair, Person, make_counselor, open_direct
from tests.support.server import RunningServer, serve_in_process
from tests.support.services import REDIS_URL, postgres_up, redis_up

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    missing = [
        name for name, up in (("PostgreSQL", postgres_up()), ("Redis", redis_up())) if not up
    ]
    if IN_CI and missing:
        raise pytest.UsageError(f"CI requires {', '.join(missing)} on 127.0.0.1; none answered")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # Read from the skip reports, which also arrive from xdist workers.
    missing = set()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        if "not reachable" in reason or "missing" in reason:
            missing.add(reason.removeprefix("Skipped: "))
    if missing:
        terminalreporter.write_line(
            "backends skipped (not running on this machine): " + "; ".join(sorted(missing)),
            yellow=True,
        )


def require(name: str, up: bool) -> None:
    if not up:
        if IN_CI:
            pytest.fail(f"{name} is required in CI")
        pytest.skip(f"{name} not reachable on 127.0.0.1")


@pytest.fixture(scope="session")
def worker() -> str:
    """This test process's name, unique per run so concurrent runs never share databases."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def postgres_template_url(worker: str) -> Iterator[str | None]:
    if not postgres_up():
        yield None
        return
    url = databases.create_postgres_database(worker)
    yield url
    databases.drop_postgres_database(worker)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.create_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        require("PostgreSQL", postgres_up())
    return str(request.param)


@pytest.fixture
async def database_url(
    backend: str, tmp_path: Path, sqlite_template: Path, postgres_template_url: str | None
) -> str:
    if backend == "sqlite":
        return databases.sqlite_copy(sqlite_template, tmp_path)
    assert postgres_template_url is not None
    await databases.truncate_postgres(postgres_template_url)
    return postgres_template_url


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    require("Redis", redis_up())
    yield REDIS_URL


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"rt-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    if redis_up():
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str, redis_prefix: str) -> SettingsFactory:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "redis_url": "",
            "redis_prefix": redis_prefix,
            "allowed_origins": ["http://console.test"],
            "socket_auth_timeout_seconds": 1.0,
            "socket_reauth_grace_seconds": 1.0,
            "log_level": "WARNING",
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
async def server(make_settings: SettingsFactory) -> AsyncIterator[RunningServer]:
    async with serve_in_process(make_settings()) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(server: RunningServer, http: aiohttp.ClientSession) -> Api:
    return Api(server.url, http)


@pytest.fixture
async def clients() -> AsyncIterator[Devices]:
    """Secure devices and chat clients a test opens; all closed at the end."""
    async with aiohttp.ClientSession() as session:
        devices = Devices(session)
        yield devices
        for chat_client in devices.chats:
            await chat_client.close()


@pytest.fixture
async def pair(api: Api, server: RunningServer, clients: Devices) -> Pair:
    """A counselor and a client, keys published, with their direct conversation open."""
    counselor = await make_counselor(api, server, "dr.sari")
    client = Person(await api.register("bintang"))
    conversation_id = await open_direct(api, counselor, client)
    for person in (counselor, client):
        await clients.secure(server.url, person)
    return Pair(counselor, client, conversation_id)
