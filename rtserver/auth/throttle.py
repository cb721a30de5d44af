"""Login throttle counters: in memory for one node, in Redis when nodes share it."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, Protocol, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from rtserver.clock import Clock
from rtserver.domain.login_throttle import ThrottlePolicy, account_key, ip_key, is_blocked
from rtserver.errors import RateLimited

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


class CountersUnavailable(Exception):
    """The shared counter store cannot be reached; callers decide to fail open or closed."""


def _unavailable_on_redis_error(
    fn: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except (RedisError, OSError) as exc:
            raise CountersUnavailable(type(exc).__name__) from exc

    return run


class Counters(Protocol):
    async def get(self, key: str) -> tuple[int, int]:
        """(count, seconds until the window resets)"""
        ...

    async def hit(self, key: str, window: int) -> int: ...

    async def reset(self, key: str) -> None: ...


class MemoryCounters:
    def __init__(self, clock: Clock, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._entries: dict[str, tuple[int, float]] = {}

    def _live(self, key: str) -> tuple[int, float] | None:
        entry = self._entries.get(key)
        if entry and entry[1] <= self._clock.now().timestamp():
            del self._entries[key]
            return None
        return entry

    async def get(self, key: str) -> tuple[int, int]:
        entry = self._live(key)
        if entry is None:
            return 0, 0
        return entry[0], math.ceil(entry[1] - self._clock.now().timestamp())

    async def hit(self, key: str, window: int) -> int:
        entry = self._live(key)
        if entry is None:
            if len(self._entries) >= self._max_keys:
                self._evict_expired()
            entry = (0, self._clock.now().timestamp() + window)
        self._entries[key] = (entry[0] + 1, entry[1])
        return entry[0] + 1

    async def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def _evict_expired(self) -> None:
        now = self._clock.now().timestamp()
        for key in [k for k, (_, until) in self._entries.items() if until <= now]:
            del self._entries[key]
        if len(self._entries) >= self._max_keys:
            self._entries.pop(next(iter(self._entries)))


class RedisCounters:
    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    @_unavailable_on_redis_error
    async def get(self, key: str) -> tuple[int, int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._prefix + key)
            pipe.ttl(self._prefix + key)
            count, ttl = await pipe.execute()
        return int(count or 0), max(int(ttl), 0)

    @_unavailable_on_redis_error
    async def hit(self, key: str, window: int) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._prefix + key)
            pipe.expire(self._prefix + key, window, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    @_unavailable_on_redis_error
    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class LoginThrottle:
    def __init__(self, counters: Counters, policy: ThrottlePolicy) -> None:
        self._counters = counters
        self._policy = policy

    async def check(self, login: str, ip: str) -> None:
        """Count this attempt for the IP; refuse if the IP or the account is over its limit.
        If the counters are unreachable, let the attempt through (people must be able to reach
        their counselor; the password hash is the real defence) and say so in the log."""
        await self.check_ip(ip)
        try:
            failures, ttl = await self._counters.get(account_key(login))
        except CountersUnavailable:
            log.warning("login throttle counters unavailable; not throttling")
            return
        if is_blocked(failures, self._policy.max_failures_per_account):
            raise RateLimited(
                "too many failed logins for this account; try again later",
                code="too_many_attempts",
                retry_after=max(ttl, 1),
            )

    async def check_ip(self, ip: str) -> None:
        """Count an attempt (login or sign-up) from this address; refuse over the limit."""
        try:
            attempts = await self._counters.hit(ip_key(ip), self._policy.window_seconds)
        except CountersUnavailable:
            log.warning("login throttle counters unavailable; not throttling")
            return
        if is_blocked(attempts - 1, self._policy.max_attempts_per_ip):
            _, ttl = await self._counters.get(ip_key(ip))
            raise RateLimited(
                "too many login attempts from this address; try again later",
                code="too_many_attempts",
                retry_after=max(ttl, 1),
            )

    async def failed(self, login: str) -> None:
        try:
            await self._counters.hit(account_key(login), self._policy.window_seconds)
        except CountersUnavailable:
            log.warning("login throttle counters unavailable; failure not counted")

    async def succeeded(self, login: str) -> None:
        try:
            await self._counters.reset(account_key(login))
        except CountersUnavailable:
            log.warning("login throttle counters unavailable; failures not reset")
