"""SocketServer puts outgoing packets on the socket's queue directly (signaling/server.py):
what engine.io's own send path did, minus its layers, for open, closed and unknown sockets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import socketio.packet
from engineio import packet as eio_packet

from signaling.packets import FastPacket
from signaling.server import SocketServer
from signaling.socket_queue import SocketQueue


@dataclass
class _Socket:
    closed: bool = False
    queue: SocketQueue = field(default_factory=SocketQueue)

    def queued(self) -> list[Any]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait().encode())
        return items


async def test_packets_reach_open_sockets_only() -> None:
    server = SocketServer(auth_timeout=1, async_mode="aiohttp", serializer=FastPacket)
    open_socket, closed_socket = _Socket(), _Socket(closed=True)
    server.eio.sockets = {"open": open_socket, "closed": closed_socket}
    ack = FastPacket(socketio.packet.ACK, namespace="/", id=7, data=[{"ok": True}])
    for eio_sid in ("open", "closed", "gone"):
        await server._send_packet(eio_sid, ack)
        await server._send_eio_packet(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, "2[]"))
    assert open_socket.queued() == ['437[{"ok":true}]', "42[]"]
    assert closed_socket.queued() == []


async def test_a_binary_packet_goes_as_its_parts_in_order() -> None:
    server = SocketServer(auth_timeout=1, async_mode="aiohttp", serializer=FastPacket)
    socket = _Socket()
    server.eio.sockets = {"s": socket}
    event = FastPacket(socketio.packet.EVENT, namespace="/", data=["blob", b"\x00\x01"])
    await server._send_packet("s", event)
    header, attachment = socket.queued()
    assert header.startswith("451-") and attachment == b"\x00\x01"
