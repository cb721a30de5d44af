"""Running the real app on a real loopback port, in this process or as a separate process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from rtserver.app import build_app
from rtserver.clock import Clock
from rtserver.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningServer:
    url: str
    app: web.Application | None = None
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] | None = None


@contextlib.asynccontextmanager
async def serve_in_process(
    settings: Settings, clock: Clock | None = None
) -> AsyncIterator[RunningServer]:
    app = build_app(settings, clock=clock)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield RunningServer(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        await runner.cleanup()


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process load exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTSERVER_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, list):
            value = ",".join(value)
        if isinstance(value, bool):
            value = "true" if value else "false"
        env[f"RTSERVER_{name.upper()}"] = str(value)
    return env


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def serve_subprocess(settings: Settings, log_dir: Path, *args: str) -> Iterator[RunningServer]:
    """`python -m rtserver serve` as its own process; the real CLI path."""
    port = free_port()
    env = settings_env(settings)
    env["RTSERVER_PORT"] = str(port)
    log_path = log_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rtserver", "serve", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    server = RunningServer(url=f"http://127.0.0.1:{port}", process=process, env=env)
    try:
        _wait_ready(server, log_path)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(server: RunningServer, log_path: Path, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{_read_log(log_path)}")
        try:
            with urllib.request.urlopen(server.url + "/readyz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not ready in {timeout}s:\n{_read_log(log_path)}")


async def wait_for(predicate: Any, timeout: float = 5.0, interval: float = 0.02) -> None:
    """Poll a condition (sync or async callable) until true, failing after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def create_counselor(server: RunningServer, login: str) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "rtserver",
            "create-user",
            "--role",
            "counselor",
            "--login",
            login,
            "--display-name",
            login,
            "--password-stdin",
        ],
        input="counselor pw 123\n",
        text=True,
        env=server.env,
        cwd=ROOT,
        check=False,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
