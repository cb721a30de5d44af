"""One measured load window ("step") and how to judge it; shared by the workloads.

A step offers a fixed rate for a while and records latency, what the generator managed, and the
CPU of every process involved. It is judged in three grades: `pass` (p99 under the limit),
`tail` (most messages are fast but the p99 is not: stalls), and `saturated` (the median is over
the limit, deliveries fall behind, or sends fail): a rate ladder stops at the first saturated
step. A failing step measured while something outside the benchmark used the cores is repeated
once the host is quiet again, since this 2-core machine may be shared with test runs.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.loadgen import LoadGenerator
from bench.procstat import CpuMeter

LIMIT_MS = 50.0
DELIVERED_FRACTION = 0.99  # of the offered messages, within the step and its drain
STALL_MS = 200.0  # a second whose worst latency is at least this holds a stall
BUSY = 90.0  # percent of one core: a process at or above this is saturated
QUIET = 15.0  # percent of one core used outside the benchmark: the host counts as quiet
DISTURBED = 25.0  # a failing step with more outside CPU than this is measured again
RETRIES = 2
QUIET_PATIENCE = 600.0  # seconds to wait for a quiet host before measuring anyway

Groups = Callable[[], dict[str, list[int]]]


def grade(load: Mapping[str, Any], seconds: float) -> tuple[str, str]:
    """(grade, reason): grade is "pass", "tail" or "saturated"; the reason is empty on a pass."""
    latency = load["latency_ms"]
    if load["ack_errors"]:
        return "saturated", f"errors {load['ack_errors']}"
    if load["delivered"] < DELIVERED_FRACTION * load["sent"]:
        return "saturated", f"delivered {load['delivered']} of {load['sent']}"
    if load["send_seconds"] > 1.05 * seconds:
        return "saturated", "generator fell behind its schedule"
    if latency["p50"] is None or latency["p50"] >= LIMIT_MS:
        return "saturated", f"p50 {latency['p50']} ms"
    if latency["p99"] is None or latency["p99"] >= LIMIT_MS:
        return "tail", f"p99 {latency['p99']} ms, {stalls(load)} stall(s)"
    return "pass", ""


def stalls(load: Mapping[str, Any]) -> int:
    """Seconds of the window whose slowest message took STALL_MS or more."""
    return sum(1 for worst in load["worst_ms_per_second"] if worst is None or worst >= STALL_MS)


def limited_by(step: Mapping[str, Any] | None) -> str:
    """What most likely saturated a step, from the CPU figures of that step."""
    if step is None:
        return "not reached (top of the ladder)"
    cpu, load = step["cpu"], step["load"]
    if cpu.get("loadgen", 0) >= BUSY or load["event_loop_utilization"] >= BUSY / 100:
        return "load generator (its core is saturated)"
    if cpu.get("server", 0) >= BUSY:
        return "server CPU (its core is saturated)"
    if cpu.get("machine", 0) >= 2 * BUSY:
        return "both cores saturated"
    return "waiting on the store or the bus (no core saturated)"


async def wait_for_quiet_host(groups: Groups, patience: float = QUIET_PATIENCE) -> float:
    """Wait (at most `patience` seconds) until other work on this host (tests, other benchmarks)
    leaves the cores alone; returns the CPU it used over the last second, in percent of one
    core."""
    deadline = time.monotonic() + patience
    while True:
        meter = CpuMeter(groups())
        meter.start()
        await asyncio.sleep(1)
        outside = meter.stop()["outside"]
        if outside < QUIET or time.monotonic() > deadline:
            return outside
        print(f"  waiting for a quiet host: {outside:.0f}% CPU used outside", flush=True)
        await asyncio.sleep(4)


def process_groups(
    servers: list[int], generator: LoadGenerator | None, extra: Groups | None = None
) -> Groups:
    """Who to measure: the server nodes, the generator, this process, and `extra` (e.g. the
    PostgreSQL backends of the run's database), re-read at every step."""

    def groups() -> dict[str, list[int]]:
        found = {"server": servers, "orchestrator": [os.getpid()]}
        if generator is not None:
            found["loadgen"] = [generator.pid]
        return {**found, **(extra() if extra else {})}

    return groups


@dataclass
class _Window:
    """Told by the generator when its sending window opens and closes; meters CPU in between."""

    meter: CpuMeter
    cpu: dict[str, float] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)  # epoch seconds of start and end

    def __call__(self, phase: str) -> None:
        self.times.append(time.time())
        if phase == "start":
            self.meter.start()
        else:
            self.cpu.update(self.meter.stop())


async def measure_step(
    generator: LoadGenerator,
    groups: Groups,
    rate: int,
    seconds: float,
    drain: float,
    retries: int = RETRIES,
    patience: float = QUIET_PATIENCE,
) -> dict[str, Any]:
    for attempt in range(retries + 1):
        window = _Window(CpuMeter(groups()))
        load = await generator.load(rate=rate, seconds=seconds, drain_s=drain, on_window=window)
        cpu = window.cpu
        verdict, reason = grade(load, seconds)
        step = {
            "rate": rate,
            "grade": verdict,
            "verdict": reason,
            "load": load,
            "cpu": cpu,
            "window": window.times,
            "stall_seconds": stalls(load),
            "attempts": attempt + 1,
        }
        if verdict == "pass" or cpu["outside"] < DISTURBED or attempt == retries:
            return step
        print(f"  {rate} msg/s disturbed ({cpu['outside']:.0f}% CPU outside); again", flush=True)
        await wait_for_quiet_host(groups, patience)
    raise AssertionError("unreachable")
