"""The `/` namespace: authenticated CONNECT, token renewal, and socket bookkeeping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import socketio
from pydantic import BaseModel, ConfigDict, Field

from rtserver import protocol as events
from rtserver.clock import Clock
from rtserver.domain.accounts import Principal
from rtserver.errors import AppError, Forbidden, Unauthenticated
from rtserver.services.accounts import AccountService
from rtserver.timefmt import wire_time
from signaling.acks import SocketSessions, acked
from signaling.group import EventGroup
from signaling.rooms import device_room, user_room
from signaling.server import SocketServer

log = logging.getLogger(__name__)


class RenewPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=2048)


class EmptyPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class SocketState:
    principal: Principal
    expired: bool = False
    # a timer until the token expires, then the task that warns and closes
    watchdog: asyncio.TimerHandle | asyncio.Task[None] | None = None


class RootNamespace(socketio.AsyncNamespace, SocketSessions):  # type: ignore[misc]
    def __init__(
        self, sio: SocketServer, accounts: AccountService, clock: Clock, reauth_grace: float
    ) -> None:
        super().__init__("/")
        self._sio = sio
        self._accounts = accounts
        self._clock = clock
        self._reauth_grace = reauth_grace
        self._sockets: dict[str, SocketState] = {}
        self._groups: list[EventGroup] = []
        self._handlers: dict[str, Callable[..., Awaitable[Any]]] = {}

    def add_group(self, group: EventGroup) -> None:
        self._groups.append(group)

    def local_principals(self) -> list[tuple[str, Principal]]:
        """This node's authenticated sockets."""
        return [(sid, state.principal) for sid, state in self._sockets.items()]

    def principal(self, sid: str, *, allow_expired: bool = False) -> Principal:
        state = self._sockets.get(sid)
        if state is None:
            raise Unauthenticated("socket is not authenticated", code="unauthenticated")
        if state.expired and not allow_expired:
            raise Unauthenticated(
                "access token expired; send auth.renew with a fresh token", code="token_expired"
            )
        return state.principal

    def connected_count(self) -> int:
        return len(self._sockets)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            if token is None:
                raise Unauthenticated(
                    "connect with auth: {token: <access token>}", code="unauthenticated"
                )
            principal = await self._accounts.authenticate(token)
        except AppError as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.message, exc.to_dict()) from exc
        state = SocketState(principal=principal)
        self._sockets[sid] = state
        self._sio.authenticated(sid)
        await self._sio.enter_room(sid, user_room(principal.user_id))
        await self._sio.enter_room(sid, device_room(principal.device_id))
        self._watch_expiry(sid, state)
        for group in self._groups:
            try:
                await group.socket_connected(sid, principal)
            except Exception:
                # e.g. presence while Redis is away: the socket still works
                log.exception("connect hook of %s failed", type(group).__name__)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        state = self._sockets.pop(sid, None)
        if state is None:
            return
        if state.watchdog:
            state.watchdog.cancel()
        for group in self._groups:
            try:
                await group.socket_disconnected(sid, state.principal)
            except Exception:
                log.exception("disconnect hook of %s failed", type(group).__name__)

    @acked(RenewPayload, allow_expired=True)
    async def on_auth_renew(
        self, sid: str, principal: Principal, payload: RenewPayload
    ) -> dict[str, Any]:
        renewed = await self._accounts.authenticate(payload.token)
        if (renewed.user_id, renewed.device_id) != (principal.user_id, principal.device_id):
            raise Forbidden("token belongs to another device", code="token_mismatch")
        state = self._sockets[sid]
        if state.watchdog:
            state.watchdog.cancel()
        state.principal, state.expired = renewed, False
        self._watch_expiry(sid, state)
        return {"expires_at": wire_time(renewed.expires_at)}

    @acked(EmptyPayload)
    async def on_session_info(
        self, sid: str, principal: Principal, payload: EmptyPayload
    ) -> dict[str, Any]:
        return {
            "user_id": principal.user_id,
            "device_id": principal.device_id,
            "role": principal.role.value,
            "expires_at": wire_time(principal.expires_at),
        }

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, *args)
        handler = self._handlers.get(event) or self._find_handler(event)
        if handler is None:
            return {
                "ok": False,
                "error": {"code": "unknown_event", "message": f"no such event: {event[:64]}"},
            }
        return await handler(*args)

    def _find_handler(self, event: str) -> Callable[..., Awaitable[Any]] | None:
        # Protocol names contain dots (auth.renew); handlers are named on_<event> with
        # underscores. Only found handlers are remembered: unknown names cannot grow the table.
        name = f"on_{event.replace('.', '_')}"
        for owner in (self, *self._groups):
            handler = getattr(owner, name, None)
            if handler is not None:
                self._handlers[event] = handler
                return handler  # type: ignore[no-any-return]
        return None

    def _watch_expiry(self, sid: str, state: SocketState) -> None:
        delay = (state.principal.expires_at - self._clock.now()).total_seconds()
        state.watchdog = asyncio.get_running_loop().call_later(
            max(delay, 0), self._token_expired, sid, state
        )

    def _token_expired(self, sid: str, state: SocketState) -> None:
        state.watchdog = asyncio.create_task(self._expire(sid, state))

    async def _expire(self, sid: str, state: SocketState) -> None:
        """Tell the client its token expired; if it does not renew within the grace, close."""
        state.expired = True
        await self._sio.emit(
            events.AUTH_EXPIRED,
            {"code": "token_expired", "message": "access token expired; send auth.renew"},
            to=sid,
            ignore_queue=True,
        )
        await asyncio.sleep(self._reauth_grace)
        log.info("closing a socket whose token expired without renewal")
        await self._sio.emit(
            events.SESSION_CLOSED, {"reason": "token_expired"}, to=sid, ignore_queue=True
        )
        await self._sio.disconnect(sid)

    async def close_all(self, reconnect_in_ms: int) -> None:
        """On shutdown: ask every local socket to reconnect (to another node), then close."""
        for sid, state in list(self._sockets.items()):
            if state.watchdog:
                state.watchdog.cancel()
            with contextlib.suppress(Exception):
                await self._sio.emit(
                    events.SERVER_SHUTDOWN,
                    {"reconnect": True, "after_ms": reconnect_in_ms},
                    to=sid,
                    ignore_queue=True,
                )
                await self._sio.disconnect(sid)
