"""Login throttle counters in memory and in Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from rtserver.auth.throttle import LoginThrottle, MemoryCounters, RedisCounters
from rtserver.clock import FrozenClock
from rtserver.domain.login_throttle import ThrottlePolicy
from rtserver.errors import RateLimited

POLICY = ThrottlePolicy(window_seconds=60, max_failures_per_account=3, max_attempts_per_ip=5)


async def exercise(throttle: LoginThrottle) -> None:
    for _ in range(3):
        await throttle.check("alice", "10.0.0.1")
        await throttle.failed("alice")
    with pytest.raises(RateLimited) as caught:
        await throttle.check("alice", "10.0.0.2")
    assert caught.value.code == "too_many_attempts" and caught.value.retry_after > 0
    await throttle.check("bob", "10.0.0.3")  # other accounts unaffected
    for _ in range(4):
        await throttle.check(f"user{_}", "10.0.0.9")
    await throttle.check("x", "10.0.0.9")
    with pytest.raises(RateLimited):
        await throttle.check("y", "10.0.0.9")  # sixth attempt from one IP


async def test_memory_counters_expire_with_the_window() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    throttle = LoginThrottle(MemoryCounters(clock), POLICY)
    await exercise(throttle)
    clock.advance(timedelta(seconds=61))
    await throttle.check("alice", "10.0.0.1")


async def test_success_resets_account_failures() -> None:
    throttle = LoginThrottle(MemoryCounters(FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))), POLICY)
    for _ in range(2):
        await throttle.failed("alice")
    await throttle.succeeded("alice")
    for _ in range(2):
        await throttle.failed("alice")
    await throttle.check("alice", "10.0.0.1")


async def test_redis_counters_shared(redis_url: str, redis_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        await exercise(LoginThrottle(RedisCounters(client, redis_prefix + ":"), POLICY))
        # a second node sees the same counts
        other = LoginThrottle(RedisCounters(client, redis_prefix + ":"), POLICY)
        with pytest.raises(RateLimited):
            await other.check("alice", "10.0.0.7")
        ttl = await client.ttl(f"{redis_prefix}:login:acct:alice")
        assert 0 < ttl <= 60
    finally:
        await client.aclose()
