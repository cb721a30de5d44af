"""A server's process tree, read from /proc (Linux): `rtserver serve --workers N` is a
supervisor whose worker processes do the work, so CPU and memory are measured over the tree."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"  # TCP state in /proc/net/tcp
# multiprocessing's spawn start method marks its children's command line with this; the
# supervisor's other child, multiprocessing's resource tracker, does not have it.
SPAWNED_WORKER = b"--multiprocessing-fork"


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in (PROC / str(pid) / "task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def tree(pid: int) -> list[int]:
    """The process and all its descendants, the process first."""
    found = [pid]
    for child in children(pid):
        found += tree(child)
    return found


def worker_children(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        with contextlib.suppress(OSError):
            if SPAWNED_WORKER in (PROC / str(child) / "cmdline").read_bytes():
                found.append(child)
    return found


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in (PROC / str(pid) / "fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def listening(pids: list[int], port: int) -> list[int]:
    """The processes among `pids` holding a listening socket on `port` (with SO_REUSEPORT,
    each worker has its own)."""
    inodes = _listening_inodes(port)
    return [pid for pid in pids if _socket_inodes(pid) & inodes]


async def wait_for_workers(pid: int, workers: int, port: int, timeout: float) -> list[int]:
    """Wait until the supervisor `pid` has `workers` worker children, each listening on `port`:
    its /readyz answers as soon as the first one is."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = worker_children(pid)
        if len(found) >= workers and len(listening(found, port)) >= workers:
            return found
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{workers} workers of pid {pid} not listening on {port} in {timeout}s")


def kill_tree(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
