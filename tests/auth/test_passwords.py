"""argon2id hashing: correct, at least INTERACTIVE, and off the event loop."""

from __future__ import annotations

import asyncio

import nacl.pwhash
import pytest

from rtserver.auth.passwords import PasswordHasher


async def test_hash_and_verify() -> None:
    hasher = PasswordHasher(concurrency=2)
    try:
        stored = await hasher.hash("correct horse 42")
        assert stored.startswith("$argon2id$")
        assert "correct horse" not in stored
        assert await hasher.verify(stored, "correct horse 42")
        assert not await hasher.verify(stored, "correct horse 43")
        assert not await hasher.verify(None, "anything at all")
        assert not await hasher.verify("$argon2id$garbage", "x")
    finally:
        hasher.close()


def test_refuses_limits_below_interactive() -> None:
    with pytest.raises(ValueError):
        PasswordHasher(1, opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN)
    with pytest.raises(ValueError):
        PasswordHasher(1, memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN)


async def test_event_loop_keeps_running_while_hashing() -> None:
    hasher = PasswordHasher(concurrency=2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    try:
        await asyncio.gather(*(hasher.hash(f"password number {i}") for i in range(6)))
    finally:
        task.cancel()
        hasher.close()
    # six hashes take well over 100 ms; a blocked loop would have ticked once or twice
    assert ticks > 10
