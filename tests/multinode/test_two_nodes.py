"""Two server processes sharing PostgreSQL and Redis behave as one."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import SettingsFactory
from tests.support.clients import Api, connect
from tests.support.server import ROOT, RunningServer, serve_subprocess

# Several nodes share PostgreSQL (a SQLite file is one node's embedded store).
pytestmark = [
    pytest.mark.multinode,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
]


@pytest.fixture
def nodes(make_settings: SettingsFactory, redis_url: str, tmp_path: Path, backend: str) -> object:
    if backend != "postgres":
        pytest.skip("several nodes share PostgreSQL, not a SQLite file")
    settings = make_settings(redis_url=redis_url)
    with serve_subprocess(settings, tmp_path) as a, serve_subprocess(settings, tmp_path) as b:
        yield a, b


async def test_logout_on_one_node_closes_sockets_on_the_other(
    nodes: tuple[RunningServer, RunningServer],
) -> None:
    a, b = nodes
    async with aiohttp.ClientSession() as http:
        session = await Api(a.url, http).register()
        on_b = await connect(b.url, session["access_token"])
        try:
            assert (await on_b.call("session.info"))["ok"]
            reply = await Api(a.url, http).request(
                "POST", "/api/v1/auth/logout", token=session["access_token"]
            )
            assert reply.status == 204
            assert (await on_b.next("session.closed")) == {"reason": "logged_out"}
            await on_b.wait_disconnected()
        finally:
            await on_b.close()


async def test_disable_on_one_node_closes_every_device_everywhere(
    nodes: tuple[RunningServer, RunningServer],
) -> None:
    a, b = nodes
    async with aiohttp.ClientSession() as http:
        api_a, api_b = Api(a.url, http), Api(b.url, http)
        client = await api_a.register()
        client_laptop = await api_b.login(client["user"]["login"], "correct horse 42")
        sockets = [
            await connect(a.url, client["access_token"]),
            await connect(b.url, client_laptop["access_token"]),
        ]
        try:
            create_admin = await asyncio.to_thread(
                subprocess.run,
                [
                    sys.executable,
                    "-m",
                    "rtserver",
                    "create-user",
                    "--role",
                    "admin",
                    "--login",
                    "root.admin",
                    "--display-name",
                    "Root",
                    "--password-stdin",
                ],
                input="admin password 1\n",
                text=True,
                env=a.env,
                cwd=ROOT,
                check=False,
                capture_output=True,
                timeout=60,
            )
            assert create_admin.returncode == 0, create_admin.stderr
            admin = await api_b.login("root.admin", "admin password 1")
            reply = await api_b.request(
                "POST",
                f"/api/v1/admin/users/{client['user']['id']}/disable",
                token=admin["access_token"],
            )
            assert reply.status == 204
            for sock in sockets:
                assert (await sock.next("session.closed")) == {"reason": "account_disabled"}
                await sock.wait_disconnected()
        finally:
            for sock in sockets:
                await sock.close()


async def test_login_throttle_is_shared(nodes: tuple[RunningServer, RunningServer]) -> None:
    a, b = nodes
    async with aiohttp.ClientSession() as http:
        await Api(a.url, http).register("shared.target")
        for node in (a, b, a, b, a):
            reply = await Api(node.url, http).request(
                "POST",
                "/api/v1/auth/login",
                {"login": "shared.target", "password": "wrong guess 1", "device_name": "x"},
            )
            assert reply.code == "invalid_credentials"
        blocked = await Api(b.url, http).request(
            "POST",
            "/api/v1/auth/login",
            {"login": "shared.target", "password": "correct horse 42", "device_name": "x"},
        )
        assert blocked.status == 429 and blocked.code == "too_many_attempts"
