"""Calls across two server processes sharing PostgreSQL and Redis: ringing and answer-wins
across nodes, resuming on the other node, and a dead node's ringing call ended by the sweeper."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import SettingsFactory
from tests.support.calls import Phones, new_call_id
from tests.support.clients import Api
from tests.support.people import Devices, Person, open_direct
from tests.support.sdp import CANDIDATE
from tests.support.server import RunningServer, create_counselor, serve_subprocess

pytestmark = [
    pytest.mark.multinode,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
]


@pytest.fixture
def nodes(
    make_settings: SettingsFactory, redis_url: str, tmp_path: Path
) -> Iterator[tuple[RunningServer, RunningServer]]:
    settings = make_settings(
        redis_url=redis_url,
        call_ring_timeout_seconds=1.5,
        call_reconnect_grace_seconds=3.0,
        call_sweep_seconds=0.5,
    )
    with serve_subprocess(settings, tmp_path) as a, serve_subprocess(settings, tmp_path) as b:
        yield a, b


@pytest.fixture
async def people(
    nodes: tuple[RunningServer, RunningServer], clients: Devices
) -> AsyncIterator[tuple[Person, Person, str, Phones]]:
    a, _ = nodes
    async with aiohttp.ClientSession() as http:
        api = Api(a.url, http)
        await create_counselor(a, "dr.dua")
        counselor = Person(await api.login("dr.dua", "counselor pw 123", device="console"))
        client = Person(await api.register("dua.client"))
        conversation_id = await open_direct(api, counselor, client)
        phones = Phones(a.url, api, clients)
        yield counselor, client, conversation_id, phones
        await phones.close()


async def test_devices_on_both_nodes_ring_and_one_answer_wins(
    nodes: tuple[RunningServer, RunningServer], people: Any
) -> None:
    a, b = nodes
    counselor, client, conversation_id, phones = people
    caller = await phones.of(counselor, a.url)
    phone = await phones.of(client, a.url)
    laptop = await phones.another_device(client, "correct horse 42", "laptop", b.url)
    call_id = new_call_id()
    assert (await caller.invite(conversation_id, call_id))["ok"]
    for device in (phone, laptop):
        assert (await device.socket.next("call.incoming"))["call_id"] == call_id

    replies = await asyncio.gather(phone.answer(call_id), laptop.answer(call_id))
    assert sorted(r["ok"] for r in replies) == [False, True], replies
    assert [r["error"]["code"] for r in replies if not r["ok"]] == ["call_taken"]
    winner, other = (phone, laptop) if replies[0]["ok"] else (laptop, phone)
    answered = await caller.socket.next("call.answered")
    assert answered["answered_by"]["device_id"] == winner.person.device_id
    assert (await other.socket.next("call.selected"))["device_id"] == winner.person.device_id

    # Candidates cross nodes device to device.
    await caller.socket.call("call.candidate", {"call_id": call_id, "candidate": CANDIDATE})
    assert (await winner.socket.next("call.candidate"))["from_device_id"] == counselor.device_id
    hung = await caller.socket.call("call.hangup", {"call_id": call_id})
    assert hung["end_reason"] == "hangup"
    for device in (phone, laptop):
        assert (await device.socket.next("call.ended"))["end_reason"] == "hangup"


async def test_a_call_resumes_on_the_other_node(
    nodes: tuple[RunningServer, RunningServer], people: Any
) -> None:
    a, b = nodes
    counselor, client, conversation_id, phones = people
    caller = await phones.of(counselor, a.url)
    callee = await phones.of(client, b.url)
    call_id = new_call_id()
    assert (await caller.invite(conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")
    assert (await callee.answer(call_id))["ok"]

    await caller.socket.close()
    assert (await callee.socket.next("call.peer"))["state"] == "reconnecting"
    moved = await phones.of(counselor, b.url)
    resumed = await moved.socket.call("call.resume", {"call_id": call_id})
    assert resumed["ok"] and resumed["call"]["state"] == "active", resumed
    assert (await callee.socket.next("call.peer"))["state"] == "connected"
    await asyncio.sleep(4)  # past the 3 s grace that node A started: the call goes on
    assert callee.socket.queue("call.ended").empty()
    await callee.socket.call("call.candidate", {"call_id": call_id, "candidate": CANDIDATE})
    assert (await moved.socket.next("call.candidate"))["from_device_id"] == client.device_id


async def test_the_sweeper_ends_a_ring_whose_node_died(
    nodes: tuple[RunningServer, RunningServer], people: Any
) -> None:
    a, b = nodes
    counselor, client, conversation_id, phones = people
    caller = await phones.of(counselor, a.url)
    callee = await phones.of(client, b.url)
    call_id = new_call_id()
    assert (await caller.invite(conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")
    assert a.process is not None
    a.process.send_signal(signal.SIGKILL)  # its ring timer dies with it
    a.process.wait(timeout=10)
    ended = await callee.socket.next("call.ended", timeout=10)
    assert ended["end_reason"] == "missed"
    assert (await callee.socket.next("notification"))["kind"] == "call.missed"
