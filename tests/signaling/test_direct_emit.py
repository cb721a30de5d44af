"""Local delivery of an emit without a task per recipient (signaling.direct_emit): the same
recipients and packets as python-socketio's own manager, and one failing recipient does not
stop the others."""

from __future__ import annotations

from typing import Any

import socketio
import socketio.packet

from signaling.packets import FastPacket
from signaling.room_index import IndexedAsyncManager


class _Server:
    packet_class = FastPacket

    def __init__(self, failing: set[str] | None = None) -> None:
        self.eio = self
        self._issued = 0
        self.sent: list[tuple[str, Any]] = []
        self._failing = failing or set()

    def generate_id(self) -> str:
        self._issued += 1
        return f"s{self._issued}"

    async def _send_eio_packet(self, eio_sid: str, pkt: Any) -> None:
        if eio_sid in self._failing:
            raise ConnectionResetError("gone")
        self.sent.append((eio_sid, pkt.encode()))

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        self.sent.append((eio_sid, pkt.encode()))


async def _populated(manager: Any) -> dict[str, str]:
    """Four sockets e1..e4; e1-e3 in room "r", e4 alone; returns eio sid by sid."""
    sids = {}
    for n in range(1, 5):
        sid = await manager.connect(f"e{n}", "/")
        sids[f"e{n}"] = sid
        if n < 4:
            await manager.enter_room(sid, "/", "r")
    return sids


async def _deliveries(manager: Any, server: _Server, **emit: Any) -> list[tuple[str, Any]]:
    sids = await _populated(manager)
    if "skip" in emit:
        emit["skip_sid"] = [sids[e] for e in emit.pop("skip")]
    await manager.emit("typing", {"on": True}, "/", **emit)
    return sorted(server.sent)


async def test_the_same_deliveries_as_python_socketio() -> None:
    for emit in (
        {"room": "r"},
        {"room": ["r", "nobody"]},
        {"room": None},
        {"room": "r", "skip": ["e2"]},
        {"to": "r", "skip": ["e1", "e3"]},
    ):
        ours, stock = _Server(), _Server()
        ours_manager, stock_manager = IndexedAsyncManager(), socketio.AsyncManager()
        ours_manager.set_server(ours)
        stock_manager.set_server(stock)
        ours_manager.initialize()
        stock_manager.initialize()
        got = await _deliveries(ours_manager, ours, **dict(emit))
        expected = await _deliveries(stock_manager, stock, **dict(emit))
        assert got == expected and got, emit


async def test_a_failing_recipient_does_not_stop_the_others() -> None:
    server = _Server(failing={"e2"})
    manager = IndexedAsyncManager()
    manager.set_server(server)
    manager.initialize()
    sent = await _deliveries(manager, server, room="r")
    assert [eio for eio, _ in sent] == ["e1", "e3"]
    assert sent[0][1] == '42["typing",{"on":true}]'  # engine.io MESSAGE, Socket.IO EVENT
