"""Where device presence lives: this process (one node) or Redis (shared by all nodes).

Entries expire unless refreshed, so a crashed node's devices fall offline by themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import redis.asyncio as aioredis

from rtserver.clock import Clock
from rtserver.domain.presence import PresenceState


class PresenceStore(Protocol):
    async def put(self, user_id: str, device_id: str, state: PresenceState, ttl: int) -> None: ...

    async def refresh(self, entries: list[tuple[str, str, PresenceState]], ttl: int) -> None: ...

    async def remove(self, user_id: str, device_id: str) -> None: ...

    async def states(self, user_id: str) -> list[PresenceState]: ...

    async def last_seen(self, user_ids: list[str]) -> dict[str, datetime | None]: ...


class MemoryPresence:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._devices: dict[str, dict[str, tuple[PresenceState, float]]] = {}
        self._last_seen: dict[str, datetime] = {}

    async def put(self, user_id: str, device_id: str, state: PresenceState, ttl: int) -> None:
        now = self._clock.now()
        self._devices.setdefault(user_id, {})[device_id] = (state, now.timestamp() + ttl)
        self._last_seen[user_id] = now

    async def refresh(self, entries: list[tuple[str, str, PresenceState]], ttl: int) -> None:
        for user_id, device_id, state in entries:
            await self.put(user_id, device_id, state, ttl)

    async def remove(self, user_id: str, device_id: str) -> None:
        self._devices.get(user_id, {}).pop(device_id, None)
        self._last_seen[user_id] = self._clock.now()

    async def states(self, user_id: str) -> list[PresenceState]:
        now = self._clock.now().timestamp()
        devices = self._devices.get(user_id, {})
        for device_id in [d for d, (_, until) in devices.items() if until <= now]:
            del devices[device_id]
        return [state for state, _ in devices.values()]

    async def last_seen(self, user_ids: list[str]) -> dict[str, datetime | None]:
        return {user_id: self._last_seen.get(user_id) for user_id in user_ids}


class RedisPresence:
    """Per user: a sorted set device -> expiry and a hash device -> state; one hash of
    last-seen instants. Commands are pipelined: one round trip per operation."""

    def __init__(self, redis: aioredis.Redis, prefix: str, clock: Clock) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:presence"
        self._clock = clock

    def _keys(self, user_id: str) -> tuple[str, str]:
        return f"{self._prefix}:{user_id}:expiry", f"{self._prefix}:{user_id}:state"

    async def put(self, user_id: str, device_id: str, state: PresenceState, ttl: int) -> None:
        await self.refresh([(user_id, device_id, state)], ttl)

    async def refresh(self, entries: list[tuple[str, str, PresenceState]], ttl: int) -> None:
        if not entries:
            return
        now = self._clock.now()
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, device_id, state in entries:
                expiry, states = self._keys(user_id)
                pipe.zadd(expiry, {device_id: now.timestamp() + ttl})
                pipe.hset(states, device_id, state.value)
                pipe.expire(expiry, ttl * 2)
                pipe.expire(states, ttl * 2)
                pipe.hset(f"{self._prefix}:last_seen", user_id, now.isoformat())
            await pipe.execute()

    async def remove(self, user_id: str, device_id: str) -> None:
        expiry, states = self._keys(user_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrem(expiry, device_id)
            pipe.hdel(states, device_id)
            pipe.hset(f"{self._prefix}:last_seen", user_id, self._clock.now().isoformat())
            await pipe.execute()

    async def states(self, user_id: str) -> list[PresenceState]:
        expiry, states = self._keys(user_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(expiry, self._clock.now().timestamp(), "+inf")
            pipe.hgetall(states)
            live, all_states = await pipe.execute()
        by_device = {k.decode(): v.decode() for k, v in all_states.items()}
        return [PresenceState(by_device[d.decode()]) for d in live if d.decode() in by_device]

    async def last_seen(self, user_ids: list[str]) -> dict[str, datetime | None]:
        if not user_ids:
            return {}
        values = await self._redis.hmget(f"{self._prefix}:last_seen", user_ids)
        return {
            user_id: datetime.fromisoformat(_text(v)).astimezone(UTC) if v else None
            for user_id, v in zip(user_ids, values, strict=True)
        }


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
