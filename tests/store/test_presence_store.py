"""Presence entries expire unless refreshed, in memory and in Redis: a crashed node's devices
fall offline by themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from rtserver.clock import FrozenClock
from rtserver.domain.presence import PresenceState
from rtserver.store.presence import MemoryPresence, PresenceStore, RedisPresence
from tests.conftest import require
from tests.support.services import REDIS_URL, redis_up

START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "redis"])
async def store_and_clock(
    request: pytest.FixtureRequest, redis_prefix: str
) -> AsyncIterator[tuple[PresenceStore, FrozenClock]]:
    clock = FrozenClock(START)
    if request.param == "memory":
        yield MemoryPresence(clock), clock
        return
    require("Redis", redis_up())
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        yield RedisPresence(client, redis_prefix, clock), clock
    finally:
        await client.aclose()


async def test_entries_expire_without_refresh(
    store_and_clock: tuple[PresenceStore, FrozenClock],
) -> None:
    store, clock = store_and_clock
    await store.put("u1", "phone", PresenceState.ONLINE, ttl=60)
    await store.put("u1", "laptop", PresenceState.AWAY, ttl=60)
    assert sorted(await store.states("u1")) == ["away", "online"]
    clock.advance(timedelta(seconds=40))
    await store.refresh([("u1", "laptop", PresenceState.AWAY)], ttl=60)
    clock.advance(timedelta(seconds=30))  # the phone's node stopped refreshing: it lapsed
    assert await store.states("u1") == [PresenceState.AWAY]
    clock.advance(timedelta(seconds=31))
    assert await store.states("u1") == []
    seen = await store.last_seen(["u1", "u2"])
    assert seen["u1"] == START + timedelta(seconds=40) and seen["u2"] is None


async def test_remove_is_immediate(store_and_clock: tuple[PresenceStore, FrozenClock]) -> None:
    store, clock = store_and_clock
    await store.put("u1", "phone", PresenceState.IN_SESSION, ttl=60)
    clock.advance(timedelta(seconds=5))
    await store.remove("u1", "phone")
    assert await store.states("u1") == []
    assert (await store.last_seen(["u1"]))["u1"] == START + timedelta(seconds=5)
