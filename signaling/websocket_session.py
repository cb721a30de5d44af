"""A WebSocket connection's read and write loops, leaner than engine.io's own.

engine.io's handler (`AsyncSocket._websocket_handler`) wraps the read of every incoming frame
in a new Task plus `wait_for`, and every read of its outgoing queue in `wait_for`; it decodes
every frame by first trying it as JSON (which a Socket.IO packet never is: it raises and is
caught), and its aiohttp driver asks `iscoroutinefunction` on every send. In the relay profile
(`python -m bench profile --event typing`) those were a third of the event loop's time.

These loops speak the same engine.io v4 protocol over the same socket object and packet queue,
so the rest of engine.io and python-socketio (handshake, ping/pong, close, rooms, emit) works
unchanged. A connection upgraded from long polling keeps engine.io's handler for its probe
handshake: that path is rare and not worth a second copy.

Liveness: engine.io's reader timed out after ping interval + timeout of silence. Here its
service task's ping check does that job: a socket whose client stopped answering pings is
closed and gets a CLOSE packet (SocketServer queues it), and writing a CLOSE packet ends the
writer, which closes the WebSocket (aiohttp gives the peer its close timeout, then drops the
transport), which ends the reader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType
from aiohttp.web import WebSocketResponse
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet

from signaling.socket_queue import SocketQueue

log = logging.getLogger(__name__)

_MESSAGE = str(eio_packet.MESSAGE)  # "4": a Socket.IO packet follows
_DATA_FRAMES = (WSMsgType.TEXT, WSMsgType.BINARY)


async def serve_websocket(socket: Any, ws: WebSocketResponse) -> None:
    """Run one engine.io socket (an `engineio.AsyncSocket`) over an open WebSocket until
    either side closes it."""
    socket.connected = True
    socket.upgraded = True
    socket.queue.write_through = _frame_writer(ws)  # SocketServer makes every queue a SocketQueue
    writer = asyncio.create_task(_write(socket.queue, ws))
    try:
        await _read(socket, ws)
    finally:
        socket.queue.put_nowait(None)  # the writer sends what is queued, then closes
        await writer
        await socket.close(wait=False, abort=True, reason=socket.server.reason.TRANSPORT_CLOSE)


async def _read(socket: Any, ws: WebSocketResponse) -> None:
    on_message: Callable[[str, str | bytes], Awaitable[Any]] = socket.server.handlers["message"]
    # signaling.server.SocketServer reads text packets faster; any Socket.IO server works
    sio = getattr(on_message, "__self__", None)
    on_text: Callable[[str, str], Awaitable[Any]] = getattr(sio, "receive_text", on_message)
    sid = socket.sid
    while True:
        frame = await ws.receive()
        if frame.type not in _DATA_FRAMES:
            return  # closing, closed or a transport error
        data = frame.data
        if frame.type is WSMsgType.TEXT:
            if data[:1] != _MESSAGE:  # PONG, CLOSE, UPGRADE ...: engine.io's own handling
                try:
                    await socket.receive(eio_packet.Packet(encoded_packet=data))
                except eio_exceptions.SocketIsClosedError:
                    return
                except (ValueError, eio_exceptions.UnknownPacketError):
                    log.info("closing a WebSocket that sent an invalid engine.io packet")
                    return
                continue
            data = data[1:]
        # a Socket.IO packet: the text after "4", or a binary frame (an attachment)
        try:
            if isinstance(data, str):
                await on_text(sid, data)
            else:
                await on_message(sid, data)
        except ValueError:
            # python-socketio's verdict on a packet it cannot decode (unknown type, bad id,
            # an attachment nobody announced): a protocol violation, not worth a traceback
            log.info("closing a WebSocket that sent an invalid Socket.IO packet")
            return
        except Exception:
            # as engine.io does: a handler's failure is logged, the connection stays
            log.exception("handling a Socket.IO packet failed")


def _frame(pkt: Any) -> tuple[bytes, WSMsgType]:
    """An engine.io packet as a WebSocket frame's payload and type."""
    encoded = pkt.encode()
    if isinstance(encoded, str):
        return encoded.encode(), WSMsgType.TEXT
    return encoded, WSMsgType.BINARY


def _frame_writer(ws: WebSocketResponse) -> Callable[[Any], bool]:
    """Write a packet to the WebSocket at once when that cannot block or reorder: the writer
    task is idle (the queue calls this only then) and the transport holds no unsent bytes.
    Saves waking the writer task twice per relayed event (the ack, the delivery). CLOSE and the
    end-of-socket None still go through the writer, which closes the WebSocket after them."""
    frames = ws._writer  # aiohttp's WebSocketWriter (pinned): its synchronous frame write
    assert frames is not None, "the WebSocket is prepared"
    transport = frames.transport

    def write_now(pkt: Any) -> bool:
        if (
            pkt is None
            or pkt.packet_type == eio_packet.CLOSE
            or ws.closed
            or transport.is_closing()
            or transport.get_write_buffer_size()
        ):
            return False
        frames._write_websocket_frame(*_frame(pkt), 0)
        return True

    return write_now


async def _write(queue: SocketQueue, ws: WebSocketResponse) -> None:
    """Send queued packets in order until a None (the socket is done) or a CLOSE packet (the
    server closed the socket), then close the WebSocket."""
    try:
        while True:
            pkt = await queue.get()
            while True:
                queue.task_done()
                if pkt is None:
                    return
                await ws.send_frame(*_frame(pkt))
                if pkt.packet_type == eio_packet.CLOSE:
                    return
                try:
                    pkt = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
    except (ConnectionError, RuntimeError):
        pass  # the peer went away (aiohttp raises ClientConnectionResetError, a ConnectionError)
    finally:
        queue.write_through = None
        await ws.close()
