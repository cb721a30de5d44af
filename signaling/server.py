"""The Socket.IO server: WebSocket-only by default, Origin allow-list, auth deadline, no deflate."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import socketio
from aiohttp.web import WebSocketResponse
from engineio import packet as eio_packet
from engineio.async_drivers.aiohttp import WebSocket as EngineIOWebSocket

from signaling.packets import encode_ack, parse_event
from signaling.socket_queue import SocketQueue
from signaling.websocket_session import serve_websocket

log = logging.getLogger(__name__)

# Lifecycle names python-socketio dispatches itself; a client sending them as events would
# otherwise reach the connect/disconnect handlers with forged arguments.
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect"})


class _PlainWebSocket(EngineIOWebSocket):  # type: ignore[misc]
    """engine.io's aiohttp WebSocket with per-message deflate off (CPU, and compression side
    channels on encrypted payloads are not worth it), our size limit, and our leaner read and
    write loops (signaling.websocket_session)."""

    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=False
        )
        await self._sock.prepare(request)
        self.environ = environ
        socket = self.handler.__self__  # engine.io passes its socket's bound handler
        if socket.connected:
            await self.handler(self)  # an upgrade from long polling: engine.io's probe dance
        else:
            await serve_websocket(socket, self._sock)
        return self._sock


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server plus what it lacks: an engine.io connection that has not
    completed an authenticated Socket.IO CONNECT within `auth_timeout` seconds is closed, and a
    leaner path for every packet (signaling.websocket_session's loops, SocketQueue, packets
    queued directly, `inline_events`; docs/design.md "The transport's hot path")."""

    manager_initialized: bool  # python-socketio's

    def __init__(
        self, *, auth_timeout: float, inline_events: frozenset[str] = frozenset(), **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._auth_timeout = auth_timeout
        # Events handled in the connection's read loop, in arrival order, instead of in a task
        # of their own: ephemeral ones whose handlers do no slow I/O (a task per event was the
        # largest single cost of relaying typing). The socket reads nothing else meanwhile.
        self._inline_events = inline_events
        # a timer per connection until it authenticates: far smaller than a sleeping task
        self._deadlines: dict[str, asyncio.TimerHandle] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._running: set[asyncio.Task[None]] = set()  # events handled in a task each
        # engine.io picks its WebSocket class from this table; there is no public option for
        # aiohttp's `compress` flag.
        self.eio._async = dict(self.eio._async, websocket=_PlainWebSocket)
        self.eio.create_queue = SocketQueue
        # python-socketio already runs every event in a task of its own; engine.io's own task
        # per incoming message on top of that only costs CPU.
        self.eio.async_handlers = False

    def start_manager(self) -> None:
        """Starts the client manager now rather than at the first connection, as python-socketio
        would: a Redis manager then listens before any socket arrives."""
        if not self.manager_initialized:
            self.manager_initialized = True
            self.manager.initialize()

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        result = await super()._handle_eio_connect(eio_sid, environ)
        self._deadlines[eio_sid] = asyncio.get_running_loop().call_later(
            self._auth_timeout, self._auth_deadline_passed, eio_sid
        )
        return result

    def authenticated(self, sid: str) -> None:
        """The socket completed its CONNECT: its auth deadline is void."""
        eio_sid = self.manager.eio_sid_from_sid(sid, "/")
        deadline = self._deadlines.pop(eio_sid, None) if eio_sid else None
        if deadline is not None:
            deadline.cancel()

    async def emit(
        self,
        event: str,
        data: Any = None,
        to: Any = None,
        room: Any = None,
        skip_sid: Any = None,
        namespace: str | None = None,
        callback: Any = None,
        ignore_queue: bool = False,
    ) -> None:
        """python-socketio's emit without its log line per emit (formatted for a logger that
        drops it: a few percent of the relay's time)."""
        await self.manager.emit(
            event,
            data,
            namespace or "/",
            room=to or room,
            skip_sid=skip_sid,
            callback=callback,
            ignore_queue=ignore_queue,
        )

    async def receive_text(self, eio_sid: str, text: str) -> None:
        """A Socket.IO packet from a text frame (signaling.websocket_session). An EVENT to "/"
        without attachments skips python-socketio's generic packet object and dispatch; any
        other packet, or one in the middle of a binary packet's attachments, goes its way."""
        event = None if eio_sid in self._binary_packet else parse_event(text)
        if event is None:
            await self._handle_eio_message(eio_sid, text)
        else:
            await self._handle_event(eio_sid, "/", *event)

    async def _handle_event(
        self, eio_sid: str, namespace: str | None, id: int | None, data: list[Any]
    ) -> None:
        if not data or not isinstance(data[0], str) or data[0] in RESERVED_EVENTS:
            log.warning("dropped a client event with a reserved or missing name")
            return
        namespace = namespace or "/"
        handler = self.namespace_handlers.get(namespace)
        if handler is None:
            await super()._handle_event(eio_sid, namespace, id, data)
            return
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if not self.manager.is_connected(sid, namespace):
            log.debug("dropped an event of a socket not connected to %s", namespace)
            return
        if data[0] in self._inline_events:
            await self._dispatch(handler, sid, eio_sid, namespace, id, data)
            return
        task = asyncio.create_task(self._dispatch(handler, sid, eio_sid, namespace, id, data))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _dispatch(
        self, handler: Any, sid: str, eio_sid: str, namespace: str, id: int | None, data: list[Any]
    ) -> None:
        """python-socketio's _handle_event_internal and _trigger_event for a namespace class,
        without their layers and log lines; the ack encoded directly when it can be."""
        result = await handler.trigger_event(data[0], sid, *data[1:])
        if id is None or result is self.not_handled:
            return
        args = [] if result is None else list(result) if isinstance(result, tuple) else [result]
        encoded = encode_ack(id, args) if namespace == "/" else None
        if encoded is None:
            ack = self.packet_class(socketio.packet.ACK, namespace=namespace, id=id, data=args)
            await self._send_packet(eio_sid, ack)
        else:
            self._queue(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, data=encoded))

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        encoded = pkt.encode()
        for part in encoded if isinstance(encoded, list) else (encoded,):
            self._queue(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, data=part))

    async def _send_eio_packet(self, eio_sid: str, eio_pkt: Any) -> None:
        self._queue(eio_sid, eio_pkt)

    def _queue(self, eio_sid: str, eio_pkt: Any) -> None:
        """Put a packet on the socket's queue directly. engine.io's way there is four calls
        deep (server send, send_packet, socket lookup, socket send with a ping check and a log
        line) for every packet; its service task checks pings on its own, and a socket that is
        gone or closed gets nothing, as there."""
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None and not socket.closed:
            socket.queue.put_nowait(eio_pkt)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        deadline = self._deadlines.pop(eio_sid, None)
        if deadline:
            deadline.cancel()
        if reason == self.eio.reason.PING_TIMEOUT:
            # engine.io's ping check closes the socket meaning to send CLOSE, but its send()
            # re-runs the same check and drops the packet; its own read loop then hung up at
            # its read timeout. Ours has none: the CLOSE packet is what ends it.
            self._queue(eio_sid, eio_packet.Packet(eio_packet.CLOSE))
        await super()._handle_eio_disconnect(eio_sid, reason)

    def _auth_deadline_passed(self, eio_sid: str) -> None:
        self._deadlines.pop(eio_sid, None)
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        if sid is None or not self.manager.is_connected(sid, "/"):
            log.info("closing a connection that did not authenticate in time")
            task = asyncio.create_task(self._hard_close(eio_sid))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _hard_close(self, eio_sid: str) -> None:
        """engine.io's disconnect queues a CLOSE packet and waits for it to be sent; on a
        WebSocket our writer then hangs up. The None also ends a pending long poll, and closes a
        connection still upgrading (engine.io's own loop), whose client could ignore CLOSE."""
        socket = self.eio.sockets.get(eio_sid)
        with contextlib.suppress(Exception):
            await self.eio.disconnect(eio_sid)
        if socket is not None:
            await socket.queue.put(None)

    async def cancel_deadlines(self) -> None:
        for deadline in self._deadlines.values():
            deadline.cancel()
        self._deadlines.clear()

    def local_sids(self, room: str | None = None) -> list[str]:
        """Sockets of this node in a room (all of this node's sockets for None)."""
        return [sid for sid, _ in self.manager.get_participants("/", room)]
