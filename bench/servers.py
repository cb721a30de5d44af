"""rtserver nodes for a benchmark: a fresh store, shared secrets, real `rtserver serve` processes.

Everything runs on loopback and is removed afterwards: the temp data dir, the PostgreSQL
database and the Redis keys under the run's own prefix.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import aiohttp
import asyncpg
import redis.asyncio

from bench.proctree import kill_tree, tree, wait_for_workers

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
REDIS_URL = "redis://127.0.0.1:6379/0"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0

# Limits that protect production from abuse but would throttle the load generator.
LOAD_LIMITS = {
    "RTSERVER_CHAT_RATE_PER_CONNECTION": "100000",
    "RTSERVER_CHAT_BURST_PER_CONNECTION": "100000",
    "RTSERVER_CHAT_MAX_PER_USER_PER_MINUTE": "100000000",
    "RTSERVER_LOGIN_MAX_ATTEMPTS_PER_IP": "100000000",
    "RTSERVER_ACCESS_TOKEN_TTL_SECONDS": "3600",
}


@dataclass(frozen=True)
class Deployment:
    """What to run: which store, how many nodes, each with how many worker processes
    (`serve --workers`), and whether they share Redis (needed by more than one of either)."""

    name: str
    database: Literal["sqlite", "postgresql"]
    nodes: int = 1
    workers: int = 1

    @property
    def redis(self) -> bool:
        return self.nodes > 1 or self.workers > 1


@dataclass
class Node:
    url: str
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def pids(self) -> list[int]:
        """The node's process and its descendants (a supervisor's workers)."""
        return tree(self.pid)


@dataclass
class Cluster:
    deployment: Deployment
    nodes: list[Node]
    admin_login: str
    admin_password: str
    database_name: str | None  # PostgreSQL only

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def pids(self) -> list[int]:
        """Every process of every node: measure CPU and memory over all of them."""
        return [pid for node in self.nodes for pid in node.pids]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def server_env(data_dir: Path, database_url: str, redis_prefix: str | None) -> dict[str, str]:
    """The environment every node of one deployment shares (same secrets, same store)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTSERVER_")}
    env.update(LOAD_LIMITS)
    env.update(
        {
            "RTSERVER_ENVIRONMENT": "development",
            "RTSERVER_DATA_DIR": str(data_dir),
            "RTSERVER_DATABASE_URL": database_url,
            "RTSERVER_REDIS_URL": REDIS_URL if redis_prefix else "",
            "RTSERVER_REDIS_PREFIX": redis_prefix or "bench",
            "RTSERVER_LOG_LEVEL": "WARNING",
            "RTSERVER_SHUTDOWN_GRACE_SECONDS": "1",
            "RTSERVER_TOKEN_SIGNING_KEY": _secret(),
            "RTSERVER_DATA_KEY": _secret(),
            "RTSERVER_TURN_SECRET": _secret(),
        }
    )
    return env


async def _run_cli(env: Mapping[str, str], *args: str, stdin: bytes = b"") -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rtserver",
        *args,
        env=dict(env),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate(stdin)
    if process.returncode != 0:
        raise RuntimeError(f"rtserver {args[0]} failed:\n{output.decode(errors='replace')}")


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one run, dropped afterwards."""
    name = f"bench_chat_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield POSTGRES_URL.format(name=name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _forget_redis_keys(prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def _wait_ready(node: Node) -> None:
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
    async with aiohttp.ClientSession() as http:
        while asyncio.get_running_loop().time() < deadline:
            if node.process.returncode is not None:
                raise RuntimeError(f"node exited early:\n{node.log.read_text(errors='replace')}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(node.url + "/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"node not ready in {READY_TIMEOUT}s:\n{node.log.read_text()}")


async def start_node(env: Mapping[str, str], log_dir: Path, workers: int = 1) -> Node:
    """`rtserver serve` (with `--workers N`: a supervisor and N worker processes), ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    node_env = dict(env, RTSERVER_PORT=str(port), RTSERVER_PUBLIC_URL=url)
    log = log_dir / f"node-{port}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "rtserver",
            "serve",
            *(["--workers", str(workers)] if workers > 1 else []),
            env=node_env,
            cwd=ROOT,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    node = Node(url, process, log)
    try:
        await _wait_ready(node)
        if workers > 1:
            await wait_for_workers(node.pid, workers, port, READY_TIMEOUT)
    except BaseException:
        await stop_node(node)
        raise
    return node


async def stop_node(node: Node) -> None:
    if node.process.returncode is not None:
        return
    pids = node.pids  # a supervisor's workers would outlive its SIGKILL
    node.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(node.process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        kill_tree(pids)
        await node.process.wait()


@contextlib.asynccontextmanager
async def cluster(
    deployment: Deployment,
    workdir: Path,
    prepare_env: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> AsyncIterator[Cluster]:
    """A fresh store, an admin account, and the deployment's nodes, all ready; torn down after.
    `prepare_env` may adjust the nodes' environment (e.g. bench/gcprobe.py)."""
    async with contextlib.AsyncExitStack() as stack:
        database_url = ""
        if deployment.database == "postgresql":
            database_url = await stack.enter_async_context(postgres_database())
        prefix = f"bench-{secrets.token_hex(4)}" if deployment.redis else None
        if prefix:
            stack.push_async_callback(_forget_redis_keys, prefix)
        env = server_env(workdir / "data", database_url, prefix)
        if database_url:
            await _run_cli(env, "migrate")
        admin_password = secrets.token_urlsafe(18)
        await _run_cli(
            env,
            "create-user",
            "--role=admin",
            "--login=bench.admin",
            "--display-name=Bench admin",
            "--password-stdin",
            stdin=admin_password.encode() + b"\n",
        )
        nodes: list[Node] = []
        stack.push_async_callback(lambda: _stop_all(nodes))
        node_env = prepare_env(env) if prepare_env else env
        for _ in range(deployment.nodes):
            nodes.append(await start_node(node_env, workdir, deployment.workers))
        database_name = database_url.rsplit("/", 1)[1] if database_url else None
        yield Cluster(deployment, nodes, "bench.admin", admin_password, database_name)


async def _stop_all(nodes: list[Node]) -> None:
    await asyncio.gather(*(stop_node(node) for node in nodes))
