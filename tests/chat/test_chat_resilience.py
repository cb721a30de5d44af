"""Chat across real server processes: SIGKILL, three nodes losing one, Redis going away."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from rtclient import ChatClient
from rtserver.settings import Settings
from tests.chat.conftest import Devices, Person
from tests.conftest import SettingsFactory
from tests.support.clients import Api
from tests.support.server import RunningServer, create_counselor, free_port, serve_subprocess

FAST = {"chat_rate_per_connection": 10_000, "chat_burst_per_connection": 10_000}


async def setup_pair(
    server: RunningServer, http: aiohttp.ClientSession
) -> tuple[Person, Person, str]:
    await create_counselor(server, "dr.durable")
    api = Api(server.url, http)
    counselor = Person(await api.login("dr.durable", "counselor pw 123", device="console"))
    client = Person(await api.register("durable.client"))
    reply = await api.request(
        "POST",
        "/api/v1/conversations",
        {"conversation": {"kind": "direct", "client_id": client.id}},
        token=counselor.token,
    )
    assert reply.status == 201
    return counselor, client, str(reply.body["id"])


def kill(server: RunningServer) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)


async def test_acked_messages_survive_sigkill(
    make_settings: SettingsFactory, tmp_path: Path, http: aiohttp.ClientSession, clients: Devices
) -> None:
    settings = make_settings(**FAST)
    with serve_subprocess(settings, tmp_path) as server:
        counselor, _, conversation_id = await setup_pair(server, http)
        device = ChatClient(server.url, counselor.token, failover=False)
        (await clients.secure(server.url, counselor)).attach(device)
        await device.connect()
        sent = [f"m{i}" for i in range(30)]
        acks = [await device.send_text(conversation_id, m, client_msg_id=m) for m in sent]
        kill(server)  # no graceful shutdown: the process dies right after the last ack
        await device.close()
    assert [a["seq"] for a in acks] == list(range(1, 31))
    with serve_subprocess(settings, tmp_path) as restarted:
        api = Api(restarted.url, http)
        session = await api.login("durable.client", "correct horse 42", device="new phone")
        phone = ChatClient(restarted.url, session["access_token"])
        await phone.connect()  # connect syncs from nothing
        try:
            assert [m.seq for m in phone.delivered] == list(range(1, 31))
            assert [m.client_msg_id for m in phone.delivered] == sent
        finally:
            await phone.close()


@pytest.fixture
def three_nodes(
    make_settings: SettingsFactory, redis_url: str, tmp_path: Path, backend: str
) -> Iterator[list[RunningServer]]:
    if backend != "postgres":
        pytest.skip("nodes share PostgreSQL")
    settings = make_settings(redis_url=redis_url, **FAST)
    with (
        serve_subprocess(settings, tmp_path) as a,
        serve_subprocess(settings, tmp_path) as b,
        serve_subprocess(settings, tmp_path) as c,
    ):
        yield [a, b, c]


@pytest.mark.multinode
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_three_nodes_one_killed_mid_conversation_loses_nothing(
    three_nodes: list[RunningServer], http: aiohttp.ClientSession, clients: Devices
) -> None:
    a, b, c = three_nodes
    counselor, client, conversation_id = await setup_pair(a, http)
    laptop = Person(
        await Api(c.url, http).login("durable.client", "correct horse 42", device="laptop")
    )
    console = ChatClient([a.url], counselor.token)
    phone = ChatClient([b.url, c.url, a.url], client.token)  # lives on b until b dies
    laptop_chat = ChatClient([c.url], laptop.token)
    devices = [console, phone, laptop_chat]
    for device, person in zip(devices, (counselor, client, laptop), strict=True):
        (await clients.secure(a.url, person)).attach(device)
    for device in devices:
        await device.connect()
    try:
        acked: list[int] = []
        a_third_acked = asyncio.Event()

        async def talk(device: ChatClient, person: Person, count: int) -> None:
            for i in range(count):
                ack = await device.send_text(conversation_id, f"{person.id}-{i}")
                acked.append(ack["seq"])
                if len(acked) >= 60:
                    a_third_acked.set()
                await asyncio.sleep(0.01)  # a conversation, not a flood

        talking = [
            asyncio.create_task(talk(console, counselor, 60)),
            asyncio.create_task(talk(phone, client, 60)),
            asyncio.create_task(talk(laptop_chat, laptop, 60)),
        ]
        await asyncio.wait_for(a_third_acked.wait(), 30)
        await asyncio.to_thread(kill, b)
        await asyncio.wait_for(asyncio.gather(*talking), 60)

        assert sorted(acked) == list(range(1, 181))  # no duplicate, no gap across the kill
        for device in devices:
            while device.cursors.get(conversation_id, 0) < 180:
                await asyncio.wait_for(device.sync(), 10)
            assert [m.seq for m in device.delivered] == list(range(1, 181))
        assert phone.sio.connection_url != b.url
    finally:
        for device in devices:
            await device.close()


@contextlib.contextmanager
def private_redis(port: int, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.05)
        yield process
    finally:
        process.kill()
        process.wait()


@pytest.mark.multinode
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_redis_outage_delays_but_never_loses(
    make_settings: SettingsFactory,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    redis_url: str,
    clients: Devices,
) -> None:
    port = free_port()
    settings: Settings = make_settings(redis_url=f"redis://127.0.0.1:{port}/0", **FAST)
    redis = private_redis(port, tmp_path)
    redis.__enter__()
    try:
        with (
            serve_subprocess(settings, tmp_path) as node1,
            serve_subprocess(settings, tmp_path) as node2,
        ):
            counselor, client, conversation_id = await setup_pair(node1, http)
            phone = ChatClient(node1.url, client.token)
            console = ChatClient(node2.url, counselor.token)
            (await clients.secure(node1.url, client)).attach(phone)
            (await clients.secure(node1.url, counselor)).attach(console)
            await phone.connect()
            await console.connect()
            try:
                first = await console.send_text(conversation_id, "before")
                assert (await asyncio.wait_for(phone.inbox.get(), 5)).seq == first["seq"]

                redis.__exit__(None, None, None)  # Redis goes away
                during = await console.send_text(conversation_id, "during")
                assert during["seq"] == 2  # stored and acked without Redis
                assert phone.inbox.empty()

                redis = private_redis(port, tmp_path)  # Redis is back (empty)
                redis.__enter__()
                got = await asyncio.wait_for(phone.inbox.get(), 30)
                assert (got.seq, got.conversation_id) == (2, conversation_id)
                after = await console.send_text(conversation_id, "after")
                assert (await asyncio.wait_for(phone.inbox.get(), 10)).seq == after["seq"]
            finally:
                await phone.close()
                await console.close()
    finally:
        redis.__exit__(None, None, None)
