"""Drives the Node load generator (bench/node/loadgen.mjs) from Python.

One Node process holds every client connection (socket.io-client 4, WebSocket only), so one
core can offer far more messages than a Python client could; it is told what to do over stdin
and answers JSON lines on stdout. The plan (devices, tokens, payload templates) is a JSON file.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "loadgen.mjs"
INSTALL_HINT = "npm ci --prefix bench/node"
LINE_LIMIT = 16 * 1024 * 1024


class LoadGenError(RuntimeError):
    """The generator could not start or a command failed."""


def check_installed() -> str:
    """Path of `node`; raises with the install command when Node or its packages are missing."""
    node = shutil.which("node")
    if node is None:
        raise LoadGenError("node not found: the load generator needs Node.js 18 or later")
    if not (NODE_DIR / "node_modules" / "socket.io-client").is_dir():
        raise LoadGenError(f"load generator packages missing: run `{INSTALL_HINT}`")
    return node


class LoadGenerator:
    """`async with LoadGenerator(plan, cpus={1}, log=...) as gen: await gen.connect(...)`."""

    def __init__(self, plan: Path, *, cpus: set[int] | None, log: Path) -> None:
        self._plan = plan
        self._cpus = cpus
        self._log = log
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise LoadGenError("not started")
        return self._process.pid

    async def __aenter__(self) -> LoadGenerator:
        node = check_installed()
        cpus = self._cpus
        with self._log.open("wb") as sink:
            self._process = await asyncio.create_subprocess_exec(
                node,
                str(SCRIPT),
                str(self._plan),
                cwd=NODE_DIR,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=sink,
                limit=LINE_LIMIT,
                preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            if exc is None:
                await self._command({"op": "close"})
            await asyncio.wait_for(process.wait(), 10)
        except (TimeoutError, LoadGenError, ConnectionError):
            process.kill()
            await process.wait()

    async def connect(self, *, concurrency: int, timeout_s: float) -> dict[str, Any]:
        """Open every planned connection, `concurrency` handshakes at a time."""
        return await self._command(
            {"op": "connect", "concurrency": concurrency, "timeout_s": timeout_s}
        )

    async def reconnect(self, *, concurrency: int, timeout_s: float, sync: bool) -> dict[str, Any]:
        """Drop every open connection at once and reconnect them, `concurrency` at a time; with
        `sync` each also sends rtserver's `sync` and counts as back once it is answered."""
        return await self._command(
            {"op": "reconnect", "concurrency": concurrency, "timeout_s": timeout_s, "sync": sync}
        )

    async def load(
        self,
        *,
        rate: float,
        seconds: float,
        drain_s: float,
        on_window: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Offer `rate` sends/s for `seconds`, then wait up to `drain_s` for deliveries.
        `on_window("start"/"end")` is called when the sending window opens and closes."""
        return await self._command(
            {"op": "load", "rate": rate, "seconds": seconds, "drain_s": drain_s},
            on_window=on_window,
        )

    async def _command(
        self, command: dict[str, Any], on_window: Callable[[str], None] | None = None
    ) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise LoadGenError("not started")
        process.stdin.write(json.dumps(command).encode() + b"\n")
        await process.stdin.drain()
        while True:
            line = await process.stdout.readline()
            if not line:
                await process.wait()
                raise LoadGenError(
                    f"load generator exited ({process.returncode}):\n{self._log.read_text()}"
                )
            answer = json.loads(line)
            if answer.get("op") == "window":
                if on_window is not None:
                    on_window(str(answer["phase"]))
                continue
            if not answer.get("ok"):
                raise LoadGenError(f"{command['op']} failed: {answer.get('error')}")
            return dict(answer["result"])
