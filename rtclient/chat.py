"""A chat device: sends with retry, receives in order with no gap and no duplicate, recovers by
`sync` after a gap, a `sync.required` hint or a reconnect, and fails over between nodes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import socketio

if TYPE_CHECKING:
    from rtclient.secure import SecureDevice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceivedMessage:
    conversation_id: str
    seq: int
    sender_user_id: str
    sender_device_id: str
    client_msg_id: str
    envelope: dict[str, Any]
    sent_at: str

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> ReceivedMessage:
        return cls(
            conversation_id=event["conversation_id"],
            seq=int(event["seq"]),
            sender_user_id=event["sender"]["user_id"],
            sender_device_id=event["sender"]["device_id"],
            client_msg_id=event["client_msg_id"],
            envelope=event["envelope"],
            sent_at=event["sent_at"],
        )


class ChatError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = str(error.get("code"))
        self.error = error


class ChatClient:
    def __init__(
        self,
        urls: str | Sequence[str],
        token: str,
        *,
        renew_token: Callable[[], Awaitable[str]] | None = None,
        failover: bool = True,
        connect_timeout: float = 10.0,
        connect_rounds: int = 3,
    ) -> None:
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        self.token = token
        self.cursors: dict[str, int] = {}
        self.delivered: list[ReceivedMessage] = []
        self.live: list[tuple[str, int]] = []  # (conversation, seq) of every live `message`
        self.inbox: asyncio.Queue[ReceivedMessage] = asyncio.Queue()
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._renew_token = renew_token
        self._failover = failover
        self._connect_timeout = connect_timeout
        self._connect_rounds = connect_rounds
        self._sync_lock = asyncio.Lock()
        self._closing = False
        self._url_index = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.connected = asyncio.Event()
        self.sio = self._new_socket()
        self.secure: SecureDevice | None = None

    async def send_text(
        self, conversation_id: str, text: str, client_msg_id: str | None = None
    ) -> dict[str, Any]:
        """Seal `text` end to end for the conversation's devices and send it (needs `secure`)."""
        if self.secure is None:
            raise RuntimeError("attach a SecureDevice to send encrypted text")
        return await self.secure.send_text(conversation_id, text, client_msg_id)

    async def read(self, message: ReceivedMessage) -> str:
        if self.secure is None:
            raise RuntimeError("attach a SecureDevice to read encrypted text")
        return await self.secure.read(message)

    # connection -------------------------------------------------------------------------------

    def _new_socket(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("message", self._on_message)
        sio.on("sync.required", self._on_sync_required)
        sio.on("auth.expired", self._on_auth_expired)
        sio.on("disconnect", self._on_disconnect)
        sio.on("*", self._on_other)
        return sio

    async def connect(self) -> None:
        """Connect to the first node that accepts, trying each in turn for `connect_rounds`
        rounds with a growing pause between them: a node that does not answer in time is tried
        again, a refusal (such as a bad token) ends the attempt after the round."""
        last_error: Exception | None = None
        for round_ in range(self._connect_rounds):
            if round_:
                await asyncio.sleep(0.5 * 2 ** (round_ - 1))
            refused = False
            for _ in range(len(self.urls)):
                url = self.urls[self._url_index % len(self.urls)]
                try:
                    await self.sio.connect(
                        url,
                        auth={"token": self.token},
                        transports=["websocket"],
                        wait_timeout=self._connect_timeout,
                    )
                    self.connected.set()
                    await self.sync()
                    return
                except (socketio.exceptions.ConnectionError, OSError) as exc:
                    refused = refused or _refused(exc)
                    last_error = exc
                    self._url_index += 1
                    self.sio = self._new_socket()
            if refused:
                break
        raise ConnectionError(f"no node accepted the connection: {last_error}")

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        if self.sio.connected:
            await self.sio.disconnect()
        with contextlib.suppress(Exception):
            await self.sio.shutdown()

    async def _on_disconnect(self, *_: Any) -> None:
        self.connected.clear()
        if not self._closing and self._failover:
            self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.05
        while not self._closing:
            self._url_index += 1
            self.sio = self._new_socket()
            try:
                await self.connect()
                return
            except ConnectionError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # calls --------------------------------------------------------------------------------------

    async def call(self, event: str, payload: dict[str, Any], timeout: float = 10) -> Any:
        reply = await self.sio.call(event, payload, timeout=timeout)
        if not isinstance(reply, dict) or not reply.get("ok"):
            raise ChatError(reply.get("error", {}) if isinstance(reply, dict) else {})
        return reply

    async def send(
        self,
        conversation_id: str,
        envelope: dict[str, Any],
        client_msg_id: str | None = None,
        attempts: int = 5,
    ) -> dict[str, Any]:
        """Send until acked. A retry reuses the client_msg_id, so it is never stored twice."""
        client_msg_id = client_msg_id or uuid.uuid4().hex
        payload = {
            "conversation_id": conversation_id,
            "client_msg_id": client_msg_id,
            "envelope": envelope,
        }
        for attempt in range(attempts):
            try:
                await asyncio.wait_for(self.connected.wait(), 10)
                reply = await self.call("message.send", payload)
                self._record_own(payload, reply)
                return dict(reply)
            except (
                socketio.exceptions.TimeoutError,
                socketio.exceptions.BadNamespaceError,
                socketio.exceptions.DisconnectedError,
                TimeoutError,
            ):
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    # receiving ----------------------------------------------------------------------------------

    def _accept(self, message: ReceivedMessage) -> bool:
        """Deliver only the next seq of its conversation; report whether a gap was seen."""
        cursor = self.cursors.get(message.conversation_id, 0)
        if message.seq <= cursor:
            return False
        if message.seq > cursor + 1:
            return True
        self.cursors[message.conversation_id] = message.seq
        self.delivered.append(message)
        self.inbox.put_nowait(message)
        return False

    def _record_own(self, payload: dict[str, Any], ack: dict[str, Any]) -> None:
        """The sending socket gets an ack, not a copy: put our own message in the log."""
        own = ReceivedMessage(
            conversation_id=payload["conversation_id"],
            seq=int(ack["seq"]),
            sender_user_id="",
            sender_device_id=payload["envelope"]["sender_device_id"],
            client_msg_id=payload["client_msg_id"],
            envelope=payload["envelope"],
            sent_at=ack["sent_at"],
        )
        if self._accept(own):
            self._spawn(self.sync())

    async def _on_message(self, event: dict[str, Any]) -> None:
        self.live.append((event["conversation_id"], int(event["seq"])))
        if self._accept(ReceivedMessage.from_event(event)):
            self._spawn(self.sync())

    async def _on_sync_required(self, _: Any = None) -> None:
        self._spawn(self.sync())

    async def _on_auth_expired(self, _: Any = None) -> None:
        if self._renew_token is not None:
            self.token = await self._renew_token()
            await self.call("auth.renew", {"token": self.token})

    async def _on_other(self, event: str, *args: Any) -> None:
        if self.secure is not None and event == "conversation.updated" and args:
            self.secure.members.pop(args[0].get("conversation_id", ""), None)
        if self.secure is not None and event == "keys.changed" and args:
            self.secure.keyring.forget(args[0].get("user_id"))
        self.events.put_nowait((event, args[0] if len(args) == 1 else args))

    async def sync(self) -> int:
        """Fetch every page after the cursors; returns how many messages were delivered."""
        delivered = 0
        async with self._sync_lock:
            while True:
                reply = await self.call("sync", {"cursors": dict(self.cursors)})
                for conversation_id, floor in reply["floors"].items():
                    # a member who joined later starts after the messages before their join
                    if self.cursors.get(conversation_id, 0) < floor:
                        self.cursors[conversation_id] = floor
                for event in reply["messages"]:
                    before = len(self.delivered)
                    self._accept(ReceivedMessage.from_event(event))
                    delivered += len(self.delivered) - before
                if not reply["more"]:
                    return delivered


def _refused(exc: Exception) -> bool:
    """The server answered the connection with a refusal (auth), as opposed to not answering."""
    return isinstance(exc, socketio.exceptions.ConnectionError) and str(exc).startswith(
        "One or more namespaces failed to connect"
    )
