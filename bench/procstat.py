"""What a process costs, read from /proc (Linux): resident memory, CPU time, core pinning."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """VmRSS of a live process."""
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise ValueError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of every thread of a process so far; 0 once it has gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)"; comm may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idle and I/O wait since boot."""
    fields = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def pids_with(comm: str, cmdline_contains: str = "") -> list[int]:
    """Processes named `comm` whose command line contains the text (e.g. the PostgreSQL
    backends serving one database: `postgres: postgres bench_chat_1a2b 127.0.0.1(5678) idle`)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != comm:
                continue
            if cmdline_contains.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of a process (like `taskset -a -p`); threads it starts later inherit."""
    for task in (PROC / str(pid) / "task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except ProcessLookupError:
            continue


def usable_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


@dataclass
class CpuMeter:
    """CPU use of named groups of processes between `start()` and `stop()`, in percent of one
    core (200% = two cores busy), plus `machine`, everything the host ran, and `outside`, what
    ran outside the groups: it shows when something else competed for the cores."""

    groups: Mapping[str, Iterable[int]]
    _start: dict[str, dict[int, float]] = field(default_factory=dict)
    _wall: float = 0.0
    _machine: float = 0.0

    def start(self) -> None:
        self._wall = time.monotonic()
        self._start = {
            name: {pid: cpu_seconds(pid) for pid in pids} for name, pids in self.groups.items()
        }
        self._machine = machine_busy_seconds()

    def stop(self) -> dict[str, float]:
        elapsed = max(time.monotonic() - self._wall, 1e-6)
        used = {}
        for name, before in self._start.items():
            spent = sum(max(cpu_seconds(pid) - t, 0.0) for pid, t in before.items())
            used[name] = round(100 * spent / elapsed, 1)
        used["machine"] = round(100 * (machine_busy_seconds() - self._machine) / elapsed, 1)
        used["outside"] = round(max(used["machine"] - sum(used[n] for n in self._start), 0), 1)
        return used
