"""The composition root: build_app(settings) wires every service and owns their lifecycles."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import redis.asyncio as aioredis
import socketio
from aiohttp import web

from rtserver.api import admin, auth, console, conversations, device_keys, devices, health, turn
from rtserver.api import availability as availability_api
from rtserver.api import booking as booking_api
from rtserver.api import calendar as calendar_api
from rtserver.api import calls as calls_api
from rtserver.api import notifications as notifications_api
from rtserver.api import ops as ops_api
from rtserver.api import screening as screening_api
from rtserver.api.keys import (
    ACCOUNTS,
    AVAILABILITY,
    BOOKINGS,
    CALENDAR,
    CALLS,
    CLOCK,
    CONVERSATIONS,
    DATABASE,
    FANOUT_LISTENING,
    KEYS,
    MESSAGES,
    NOTIFICATIONS,
    REDIS,
    SCREENING,
    SETTINGS,
    TURN_SECRET,
)
from rtserver.api.middleware import errors_middleware, security_headers_middleware
from rtserver.api.openapi import openapi_document
from rtserver.api.routing import RouteTable
from rtserver.auth.passwords import PasswordHasher
from rtserver.auth.throttle import Counters, LoginThrottle, MemoryCounters, RedisCounters
from rtserver.auth.tokens import AccessTokens
from rtserver.clock import Clock, SystemClock
from rtserver.domain.accounts import Principal
from rtserver.domain.login_throttle import ThrottlePolicy
from rtserver.domain.screening import load_crisis_directory, load_instruments
from rtserver.protocol import SYNC_REQUIRED, TYPING
from rtserver.secret_keys import load_secret_keys
from rtserver.services.accounts import AccountService
from rtserver.services.at_rest import AtRestBox
from rtserver.services.audit import AuditService
from rtserver.services.booking import BookingService
from rtserver.services.booking_availability import AvailabilityService
from rtserver.services.booking_calendar import CalendarService
from rtserver.services.calls import CallService
from rtserver.services.conversation_views import ConversationViews
from rtserver.services.conversations import ConversationService
from rtserver.services.group_commit import GroupCommit
from rtserver.services.keys import KeyService
from rtserver.services.messages import MessageService
from rtserver.services.notifications import NotificationService
from rtserver.services.presence import PresenceService
from rtserver.services.screening import ANSWERS_PURPOSE, ScreeningService
from rtserver.settings import Settings
from rtserver.store.database import Database
from rtserver.store.migrate import migrate
from rtserver.store.presence import MemoryPresence, PresenceStore, RedisPresence
from signaling.bus import Bus, InProcessBus, RedisBus
from signaling.calls import CallEvents
from signaling.chat import ChatEvents
from signaling.connections import SocketConnections
from signaling.delivery import SocketDelivery
from signaling.fanout import ResyncingRedisManager
from signaling.packets import FastPacket
from signaling.presence import PresenceEvents
from signaling.room_index import IndexedAsyncManager
from signaling.root import RootNamespace
from signaling.server import SocketServer
from signaling.view_invalidation import ViewInvalidation

log = logging.getLogger(__name__)

ROUTE_TABLES: list[RouteTable] = [
    health.routes,
    auth.routes,
    devices.routes,
    admin.routes,
    conversations.routes,
    device_keys.routes,
    turn.routes,
    calls_api.routes,
    availability_api.routes,
    booking_api.routes,
    calendar_api.routes,
    calendar_api.files,
    screening_api.routes,
    notifications_api.routes,
    ops_api.routes,
    console.routes,
]
SOCKETS = web.AppKey("sockets", SocketServer)
ROOT_NAMESPACE = web.AppKey("root_namespace", RootNamespace)


def build_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    clock = clock or SystemClock()
    keys = load_secret_keys(settings)
    database = Database(settings.effective_database_url, echo=settings.database_echo)

    redis: aioredis.Redis | None = None
    bus: Bus
    counters: Counters
    if settings.redis_url:
        redis = aioredis.Redis.from_url(
            settings.redis_url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=15
        )
        bus = RedisBus(redis, settings.redis_prefix)
        counters = RedisCounters(redis, f"{settings.redis_prefix}:")
        fanout = ResyncingRedisManager(
            settings.redis_url,
            f"{settings.redis_prefix}:socketio",
            probe_seconds=settings.redis_probe_seconds,
        )
        manager: socketio.AsyncManager = fanout
    else:
        bus = InProcessBus()
        counters = MemoryCounters(clock)
        manager = IndexedAsyncManager()

    sio = SocketServer(
        auth_timeout=settings.socket_auth_timeout_seconds,
        inline_events=frozenset({TYPING}),
        async_mode="aiohttp",
        client_manager=manager,
        serializer=FastPacket,
        transports=["polling", "websocket"] if settings.socketio_polling else ["websocket"],
        cors_allowed_origins=_origin_check(settings.allowed_origins),
        max_http_buffer_size=settings.socket_max_message_bytes,
        http_compression=False,
        ping_interval=settings.socket_ping_interval_seconds,
        ping_timeout=settings.socket_ping_timeout_seconds,
    )
    hasher = PasswordHasher(settings.password_hash_concurrency)
    accounts = AccountService(
        database,
        hasher,
        AccessTokens(keys.token_signing_key, timedelta(seconds=settings.access_token_ttl_seconds)),
        LoginThrottle(
            counters,
            ThrottlePolicy(
                window_seconds=settings.login_throttle_window_seconds,
                max_failures_per_account=settings.login_max_failures_per_account,
                max_attempts_per_ip=settings.login_max_attempts_per_ip,
            ),
        ),
        SocketConnections(sio, bus),
        clock,
        refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
        password_min_length=settings.password_min_length,
    )
    delivery = SocketDelivery(sio)
    views = ConversationViews(database, ttl=settings.chat_view_cache_seconds)
    conversation_service = ConversationService(
        database, ViewInvalidation(delivery, views, bus), clock
    )
    notifications = NotificationService(database, delivery, clock)
    crisis_file = settings.crisis_resources_file
    screening = ScreeningService(
        database,
        load_instruments(),
        load_crisis_directory(Path(crisis_file) if crisis_file else None),
        AtRestBox(keys.data_key, ANSWERS_PURPOSE),
        notifications,
        AuditService(database, clock),
        delivery,
        clock,
        default_country=settings.crisis_country_default,
        max_per_day=settings.screening_max_submissions_per_day,
    )
    key_service = KeyService(database, delivery, clock)
    availability = AvailabilityService(
        database,
        clock,
        requires_confirmation_default=settings.booking_requires_confirmation,
        max_search_days=settings.slot_search_max_days,
        max_results=settings.slot_search_max_results,
    )
    bookings = BookingService(
        database,
        conversation_service,
        delivery,
        clock,
        join_early=timedelta(minutes=settings.session_join_early_minutes),
        late_cancel_hours=settings.late_cancel_hours,
    )
    calendar = CalendarService(database, clock, settings.public_url)

    async def join_session(principal: Principal, session_id: str) -> str:
        return (await bookings.join(principal, session_id)).conversation_id

    call_service = CallService(
        database,
        delivery,
        notifications,
        join_session,
        clock,
        ring_timeout=timedelta(seconds=settings.call_ring_timeout_seconds),
        reconnect_grace=timedelta(seconds=settings.call_reconnect_grace_seconds),
    )
    root = RootNamespace(sio, accounts, clock, settings.socket_reauth_grace_seconds)
    committer = GroupCommit(
        database,
        views,
        max_batch=settings.chat_commit_max_batch,
        linger=settings.chat_commit_linger_ms / 1000,
    )
    messages = MessageService(
        database,
        delivery,
        counters,
        clock,
        views,
        committer,
        max_per_user_per_minute=settings.chat_max_per_user_per_minute,
        sync_page=settings.chat_sync_page,
    )
    root.add_group(
        ChatEvents(
            root,
            sio,
            messages,
            clock,
            max_envelope_bytes=settings.chat_max_envelope_bytes,
            rate=settings.chat_rate_per_connection,
            burst=settings.chat_burst_per_connection,
            typing_ttl_seconds=settings.typing_ttl_seconds,
        )
    )
    presence_store: PresenceStore = (
        RedisPresence(redis, settings.redis_prefix, clock) if redis else MemoryPresence(clock)
    )
    presence_events = PresenceEvents(
        root, PresenceService(database, presence_store, delivery, settings.presence_ttl_seconds)
    )
    root.add_group(presence_events)
    root.add_group(
        CallEvents(
            root,
            call_service,
            rate=settings.call_events_per_second,
            burst=settings.call_events_burst,
        )
    )
    sio.register_namespace(root)

    async def resync_local_sockets() -> None:
        # Fan-out published while this node was cut off from Redis never arrived here, nor
        # did the bus's cache invalidations.
        views.invalidate_all()
        for sid, _ in root.local_principals():
            await sio.emit(SYNC_REQUIRED, {"reason": "bus_reconnected"}, to=sid, ignore_queue=True)

    if isinstance(manager, ResyncingRedisManager):
        manager.on_resubscribed(resync_local_sockets)

    app = web.Application(
        client_max_size=settings.rest_max_body_bytes,
        middlewares=[security_headers_middleware, errors_middleware],
    )
    app[SETTINGS] = settings
    app[DATABASE] = database
    app[ACCOUNTS] = accounts
    app[CONVERSATIONS] = conversation_service
    app[SCREENING] = screening
    app[NOTIFICATIONS] = notifications
    app[MESSAGES] = messages
    app[KEYS] = key_service
    app[CLOCK] = clock
    app[TURN_SECRET] = keys.turn_secret
    app[AVAILABILITY] = availability
    app[BOOKINGS] = bookings
    app[CALENDAR] = calendar
    app[CALLS] = call_service
    app[SOCKETS] = sio
    app[ROOT_NAMESPACE] = root
    if redis is not None:
        app[REDIS] = redis
    if isinstance(manager, ResyncingRedisManager):
        app[FANOUT_LISTENING] = manager.listening

    for table in ROUTE_TABLES:
        table.install(app)
    document = openapi_document(ROUTE_TABLES)

    async def openapi(_: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/api/v1/openapi.json", openapi)
    sio.attach(app, socketio_path="socket.io")

    async def store_lifecycle(_: web.Application) -> AsyncIterator[None]:
        if database.is_sqlite:
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            await migrate(database)
        yield
        await committer.stop()
        await views.close()
        await database.close()
        hasher.close()

    async def bus_lifecycle(_: web.Application) -> AsyncIterator[None]:
        await bus.start()
        sio.start_manager()
        yield
        await bus.stop()
        await sio.shutdown()
        if isinstance(manager, ResyncingRedisManager):
            await manager.close()
        if redis is not None:
            await redis.aclose()

    async def background_tasks(_: web.Application) -> AsyncIterator[None]:
        heartbeat = asyncio.create_task(presence_events.heartbeat(), name="presence-heartbeat")
        sweeper = asyncio.create_task(
            sweep_calls(call_service, settings.call_sweep_seconds), name="call-sweeper"
        )
        yield
        for task in (heartbeat, sweeper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await call_service.close()

    async def drain_sockets(_: web.Application) -> None:
        # aiohttp has already stopped accepting connections when on_shutdown runs.
        await sio.cancel_deadlines()
        await root.close_all(reconnect_in_ms=int(settings.shutdown_grace_seconds * 1000))

    app.cleanup_ctx.append(store_lifecycle)
    app.cleanup_ctx.append(bus_lifecycle)
    app.cleanup_ctx.append(background_tasks)
    app.on_shutdown.append(drain_sockets)
    return app


def _origin_check(allowed: list[str]):  # type: ignore[no-untyped-def]
    """engine.io treats an empty list as "no check at all"; a callable never does."""
    allowed_set = frozenset(allowed)

    def check(origin: str | None) -> bool:
        return origin in allowed_set

    return check


async def sweep_calls(calls: CallService, every_seconds: float) -> None:
    """End rings and reconnect graces whose timers died with another node."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await calls.sweep()
        except Exception:
            log.exception("call sweep failed; next in %s s", every_seconds)
