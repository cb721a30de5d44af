"""The WebSocket read and write loops (signaling/websocket_session.py) over a real connection,
spoken to byte by byte: liveness by ping, protocol violations, binary frames, in-order typing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from engineio import packet as eio_packet

from signaling.websocket_session import _frame_writer
from tests.conftest import SettingsFactory
from tests.support.clients import Api, connect
from tests.support.people import Person, make_counselor, open_direct
from tests.support.server import RunningServer, serve_in_process

CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)


@pytest.fixture
async def quick_pings(make_settings: SettingsFactory) -> AsyncIterator[RunningServer]:
    settings = make_settings(socket_ping_interval_seconds=0.3, socket_ping_timeout_seconds=0.5)
    async with serve_in_process(settings) as running:
        yield running


async def _raw_connect(http: aiohttp.ClientSession, server: RunningServer) -> Any:
    """A WebSocket that has completed engine.io's OPEN and an authenticated Socket.IO CONNECT."""
    session = await Api(server.url, http).register()
    url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    ws = await http.ws_connect(url)
    opening = await ws.receive(timeout=5)
    assert opening.data.startswith("0{")
    await ws.send_str("40" + json.dumps({"token": session["access_token"]}))
    connected = await ws.receive(timeout=5)
    assert connected.data.startswith("40{"), connected
    return ws


async def _frames_until_closed(ws: Any, answer_pings: bool, seconds: float) -> list[str]:
    """Text frames received until the server closes (or `seconds` pass)."""
    frames: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            message = await ws.receive(timeout=left)
        except TimeoutError:
            break
        if message.type in CLOSED:
            break
        frames.append(message.data)
        if answer_pings and message.data == "2":
            await ws.send_str("3")
    return frames


async def test_a_client_that_stops_answering_pings_is_closed(quick_pings: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await _raw_connect(http, quick_pings)
        frames = await _frames_until_closed(ws, answer_pings=False, seconds=10)
        assert ws.closed
        assert frames[0] == "2"  # it was pinged
        assert frames[-1] == "1"  # and told CLOSE before the server hung up


async def test_a_client_that_answers_pings_stays(quick_pings: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await _raw_connect(http, quick_pings)
        frames = await _frames_until_closed(ws, answer_pings=True, seconds=2.5)
        assert not ws.closed
        assert frames.count("2") >= 3  # several ping rounds passed
        await ws.send_str('421["session.info",{}]')
        ack = await ws.receive(timeout=5)
        assert ack.data.startswith('431[{"ok":true'), ack.data
        await ws.close()


async def _next_frame(ws: Any) -> str:
    """The next text frame that is not a ping (pings are answered)."""
    while True:
        message = await ws.receive(timeout=5)
        assert message.type not in CLOSED, message
        if message.data != "2":
            return str(message.data)
        await ws.send_str("3")


async def test_events_read_by_the_short_path_are_answered_as_before(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await _raw_connect(http, server)
        await ws.send_str('42["session.info",{}]')  # no ack id: no answer
        await ws.send_str('4299["typing",{"conversation_id":"nope","on":true}]')
        await ws.send_str('42["connect",{}]')  # a reserved name: dropped
        await ws.send_str('427["typing",{"conversation_id":"nope","on":true},"extra"]')
        await ws.send_str('421["session.info",{}]')
        typing = await _next_frame(ws)
        assert typing.startswith('4399[{"ok":false,"error":{"code":"'), typing
        extra = await _next_frame(ws)
        assert extra.startswith('437[{"ok":false,"error":{"code":"invalid_payload"'), extra
        info = await _next_frame(ws)
        assert info.startswith('431[{"ok":true,"user_id":'), info
        await ws.close()


@pytest.mark.parametrize("frame", ["x", "9", "", "4x", "49", '47["typing"'])
async def test_a_frame_that_is_no_valid_packet_closes_the_connection(
    server: RunningServer, frame: str
) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await _raw_connect(http, server)
        await ws.send_str(frame)
        await _frames_until_closed(ws, answer_pings=True, seconds=5)
        assert ws.closed


async def test_a_binary_attachment_reaches_the_handler(api: Api, server: RunningServer) -> None:
    sock = await connect(server.url, (await api.register())["access_token"])
    try:
        # a Socket.IO binary event: a text frame then a binary frame; the payload is refused
        # by the handler's model (an unknown field), which proves it was decoded and handled
        answer = await sock.call("session.info", {"blob": b"\x00\x01binary"})
        assert answer["ok"] is False and answer["error"]["code"] == "invalid_payload"
        assert (await sock.call("session.info"))["ok"] is True  # the connection is fine
    finally:
        await sock.close()


async def test_typing_events_of_a_connection_are_relayed_in_order(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(chat_rate_per_connection=10_000, chat_burst_per_connection=10_000)
    async with serve_in_process(settings) as server, aiohttp.ClientSession() as http:
        api = Api(server.url, http)
        counselor = await make_counselor(api, server, "dr.order")
        client = Person(await api.register("quick.typist"))
        conversation_id = await open_direct(api, counselor, client)
        sender = await connect(server.url, client.token)
        receiver = await connect(server.url, counselor.token)
        try:
            flips = [i % 2 == 0 for i in range(40)]
            acks = await asyncio.gather(
                *(
                    sender.call("typing", {"conversation_id": conversation_id, "on": on})
                    for on in flips
                )
            )
            assert all(a["ok"] for a in acks)
            received = [(await receiver.next("typing"))["on"] for _ in flips]
            assert received == flips
        finally:
            await sender.close()
            await receiver.close()


class _Transport:
    def __init__(self) -> None:
        self.buffered = 0
        self.closing = False

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def is_closing(self) -> bool:
        return self.closing


class _Frames:
    def __init__(self) -> None:
        self.transport = _Transport()
        self.written: list[tuple[bytes, int]] = []

    def _write_websocket_frame(self, message: bytes, opcode: int, rsv: int) -> None:
        self.written.append((message, opcode))


class _WebSocket:
    def __init__(self) -> None:
        self._writer = _Frames()
        self.closed = False


def test_a_packet_is_written_at_once_only_when_nothing_is_unsent() -> None:
    ws = _WebSocket()
    write_now = _frame_writer(ws)  # type: ignore[arg-type]
    message = eio_packet.Packet(eio_packet.MESSAGE, '2["typing",{}]')
    assert write_now(message)
    assert ws._writer.written == [(b'42["typing",{}]', aiohttp.WSMsgType.TEXT)]
    assert write_now(eio_packet.Packet(eio_packet.MESSAGE, b"\x01"))  # an attachment
    assert ws._writer.written[-1] == (b"\x01", aiohttp.WSMsgType.BINARY)
    # the writer task's business: the end of the socket, CLOSE, and anything while the
    # transport still holds bytes (it waits for them to drain) or is closing
    assert not write_now(None)
    assert not write_now(eio_packet.Packet(eio_packet.CLOSE))
    ws._writer.transport.buffered = 1
    assert not write_now(message)
    ws._writer.transport.buffered = 0
    ws._writer.transport.closing = True
    assert not write_now(message)
    ws._writer.transport.closing = False
    ws.closed = True
    assert not write_now(message)
    assert len(ws._writer.written) == 2
