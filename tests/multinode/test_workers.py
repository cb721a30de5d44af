"""`rtserver serve --workers N`: N processes on one port (SO_REUSEPORT) behave as one server, with
Redis between them; without Redis the option is refused."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from rtclient import ChatClient
from tests.conftest import SettingsFactory
from tests.support.clients import Api
from tests.support.people import Devices, Person, chat, open_direct
from tests.support.server import ROOT, create_counselor, serve_subprocess, settings_env

pytestmark = [pytest.mark.multinode]


def _workers(pid: int) -> list[int]:
    """Child processes running a worker (not multiprocessing's resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_workers_share_a_port_and_deliver_across_processes(
    make_settings: SettingsFactory, redis_url: str, tmp_path: Path, clients: Devices
) -> None:
    settings = make_settings(redis_url=redis_url)
    with serve_subprocess(settings, tmp_path, "--workers", "2") as server:
        assert server.process is not None
        assert len(_workers(server.process.pid)) == 2
        api = Api(server.url, clients.http)
        await create_counselor(server, "dr.workers")
        counselor = Person(await api.login("dr.workers", "counselor pw 123", device="console"))
        client = Person(await api.register("workers.client"))
        cid = await open_direct(api, counselor, client)
        # Several devices each: whichever worker each socket landed on, every message reaches
        # every other device (across processes through Redis).
        senders = [await chat(clients, server.url, counselor)]
        receivers: list[ChatClient] = []
        for n in range(3):
            session = Person(await api.login("workers.client", "correct horse 42", device=f"d{n}"))
            receivers.append(await chat(clients, server.url, session))
        ack = await senders[0].send_text(cid, "across workers")
        for device in receivers:
            got = await asyncio.wait_for(device.inbox.get(), 10)
            assert got.seq == ack["seq"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_workers_need_redis(make_settings: SettingsFactory) -> None:
    env = settings_env(make_settings(database_url=""))
    result = subprocess.run(
        [sys.executable, "-m", "rtserver", "serve", "--workers", "2"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "redis_url" in result.stderr
