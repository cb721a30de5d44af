"""The room-indexed manager ends every sequence of connects, joins, leaves, room closes and
disconnects in exactly the state python-socketio's own manager does."""

from __future__ import annotations

import random
from typing import Any

import socketio
import socketio.packet

from signaling.room_index import IndexedAsyncManager


def _state(manager: Any) -> dict[str, Any]:
    return {
        "rooms": {
            namespace: {room: dict(members) for room, members in rooms.items()}
            for namespace, rooms in manager.rooms.items()
        },
        "callbacks": sorted(manager.callbacks),
        "pending_connect": manager.pending_connect,
        "pending_disconnect": manager.pending_disconnect,
    }


class _Server:
    """What a manager asks of its server here: new socket ids (the same sequence for both)."""

    packet_class = socketio.packet.Packet

    def __init__(self) -> None:
        self.eio = self
        self._issued = 0

    def generate_id(self) -> str:
        self._issued += 1
        return f"s{self._issued}"


async def test_random_histories_end_in_the_stock_managers_state() -> None:
    for seed in range(30):
        chance = random.Random(seed)
        ours, stock = IndexedAsyncManager(), socketio.AsyncManager()
        ours.set_server(_Server())
        stock.set_server(_Server())
        sids: list[str] = []
        for step in range(300):
            action = chance.random()
            namespace = chance.choice(["/", "/ops"])
            if action < 0.25 or not sids:
                eio_sid = f"e{step}"
                sid = await ours.connect(eio_sid, namespace)
                assert await stock.connect(eio_sid, namespace) == sid
                sids.append(sid)
                continue
            sid = chance.choice(sids)
            room = chance.choice(["user:a", "user:b", "device:x", "circle"])
            if action < 0.5:
                if ours.is_connected(sid, namespace):
                    await ours.enter_room(sid, namespace, room)
                    await stock.enter_room(sid, namespace, room)
            elif action < 0.62:
                await ours.leave_room(sid, namespace, room)
                await stock.leave_room(sid, namespace, room)
            elif action < 0.67:
                await ours.close_room(room, namespace)
                await stock.close_room(room, namespace)
            elif action < 0.75:  # an emit that waits for the client's ack
                ours._generate_ack_id(sid, print)
                stock._generate_ack_id(sid, print)
            else:
                ours.basic_disconnect(sid, namespace)
                stock.basic_disconnect(sid, namespace)
            assert sorted(ours.get_rooms(sid, namespace), key=str) == sorted(
                stock.get_rooms(sid, namespace), key=str
            )
        assert _state(ours) == _state(stock), seed
