"""argon2id password hashing (libsodium via pynacl), off the event loop and bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import nacl.exceptions
import nacl.pwhash

T = TypeVar("T")


class PasswordHasher:
    """Hashes in a small thread pool behind a semaphore, so a login storm queues instead of
    stalling the loop or exhausting memory (each hash takes MEMLIMIT bytes)."""

    def __init__(
        self,
        concurrency: int,
        opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ) -> None:
        if opslimit < nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE:
            raise ValueError("opslimit below the INTERACTIVE minimum")
        if memlimit < nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE:
            raise ValueError("memlimit below the INTERACTIVE minimum")
        self._opslimit = opslimit
        self._memlimit = memlimit
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy_hash: bytes | None = None

    async def hash(self, password: str) -> str:
        digest = await self._run(
            nacl.pwhash.argon2id.str, password.encode(), self._opslimit, self._memlimit
        )
        return digest.decode("ascii")

    async def verify(self, stored: str | None, password: str) -> bool:
        """Check a password. With no stored hash, still spend the same work (no user oracle)."""
        if stored is None:
            if self._dummy_hash is None:
                self._dummy_hash = (await self.hash("not-a-real-password")).encode()
            await self._run(self._verify, self._dummy_hash, password.encode())
            return False
        return await self._run(self._verify, stored.encode("ascii"), password.encode())

    @staticmethod
    def _verify(stored: bytes, password: bytes) -> bool:
        try:
            return bool(nacl.pwhash.verify(stored, password))
        except nacl.exceptions.InvalidkeyError:
            return False

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
