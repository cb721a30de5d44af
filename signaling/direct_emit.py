"""This node's deliveries of an emit, without a Task per recipient.

python-socketio's AsyncManager.emit wraps every recipient's send in a new Task and then waits
for them all with `asyncio.wait`; in the relay profile that was a tenth of the event loop's
time. A send here only puts the packet on the socket's queue (signaling.socket_queue never
blocks, and may write it to the WebSocket at once), so the sends simply run in turn. A
recipient whose send fails is logged and skipped; the others still get the packet.

Emits with a callback (an ack id per recipient) keep python-socketio's own path. Put this class
after a pub/sub manager in the bases (see signaling.fanout) so that the manager's local
delivery of what came over Redis lands here too.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

log = logging.getLogger(__name__)


class DirectEmit(socketio.AsyncManager):  # type: ignore[misc]
    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        if callback:
            await super().emit(
                event, data, namespace, room, skip_sid, callback=callback, to=to, **kwargs
            )
            return
        room = to or room
        if namespace not in self.rooms:
            return
        # a tuple is several arguments, as in python-socketio
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        frames = [
            eio_packet.Packet(eio_packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]
        # listed first: a send may close a socket (a ping timeout), which changes the rooms
        for sid, eio_sid in list(self.get_participants(namespace, room)):
            if sid in skip:
                continue
            try:
                for frame in frames:
                    await self.server._send_eio_packet(eio_sid, frame)
            except Exception:
                log.exception("delivering %s to a socket failed", event)
