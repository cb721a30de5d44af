"""Measuring one server in `python -m bench compare`: idle memory with a reconnect storm, and
rate ladders (climb until a step fails or saturates, then bisect)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.compare_setup import LOAD_CONCURRENCY, MAX_FAILED_CONNECTIONS, CompareError, Profile
from bench.loadgen import LoadGenerator
from bench.procstat import pids_with, rss_bytes
from bench.steps import (
    Groups,
    limited_by,
    measure_step,
    process_groups,
    wait_for_quiet_host,
)


@dataclass
class Target:
    """What runs on the server core: its pids, and other processes working for it."""

    label: str
    pids: list[int]
    database_name: str | None = None
    redis: bool = False  # the shared Redis server works for it (rtserver's workers)

    def groups(self) -> Groups:
        def extra() -> dict[str, list[int]]:
            found = {}
            if self.database_name is not None:
                found["postgres"] = pids_with("postgres", self.database_name)
            if self.redis:
                found["redis"] = pids_with("redis-server")
            return found

        return extra

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)


@dataclass(frozen=True)
class Cores:
    server: set[int] | None
    generator: set[int] | None


UNPINNED = Cores(None, None)


async def _connect(
    generator: LoadGenerator, profile: Profile, count: int, concurrency: int
) -> dict[str, Any]:
    connect = await generator.connect(concurrency=concurrency, timeout_s=60)
    if connect["failed"] > MAX_FAILED_CONNECTIONS * count:
        raise CompareError(f"{connect['failed']} of {count} connections failed: {connect}")
    if connect["failed"]:
        print(f"  {connect['failed']} of {count} connections failed: {connect['errors']}")
    return connect


async def measure_idle(
    target: Target,
    plan: dict[str, Any],
    work: Path,
    cores: Cores,
    profile: Profile,
    *,
    sync: bool,
) -> dict[str, Any]:
    """(d) memory per idle connection: server RSS with every socket connected and idle, minus
    its RSS before, per connection. Then a reconnect storm: every socket drops at once and
    comes back (with `sync`: and asks for what it missed, as rtserver's clients do)."""
    connections = len(plan["devices"])
    path = work / f"{target.label}-idle-{connections}.json"
    path.write_text(json.dumps(plan))
    rss_before = target.rss()
    log = work / f"loadgen-{target.label}-idle-{connections}.log"
    async with LoadGenerator(path, cpus=cores.generator, log=log) as generator:
        started = time.monotonic()
        connect = await _connect(generator, profile, connections, profile.storm_concurrency)
        storm_seconds = time.monotonic() - started
        await asyncio.sleep(profile.idle_seconds)
        rss_idle = target.rss()
        storm = await generator.reconnect(
            concurrency=profile.storm_concurrency, timeout_s=60, sync=sync
        )
    print(
        f"  {target.label}: reconnect storm{' with sync' if sync else ''}: "
        f"{storm['back']} of {storm['connections']} back in {storm['seconds']:.1f} s "
        f"(p50 {storm['reconnect_ms']['p50']} ms, p99 {storm['reconnect_ms']['p99']} ms)",
        flush=True,
    )
    print(
        f"  {target.label}: {connections} idle connections "
        f"({storm_seconds:.1f} s to connect): "
        f"{(rss_idle - rss_before) / connections / 1024:.1f} KiB each",
        flush=True,
    )
    await asyncio.sleep(2 * profile.idle_seconds)  # let the server finish closing them
    return {
        "connections": connections,
        "connect": connect,
        "rss_before_bytes": rss_before,
        "rss_idle_bytes": rss_idle,
        "per_connection_bytes": (rss_idle - rss_before) / max(connect["connected"], 1),
        "reconnect": storm,
    }


def _step_line(label: str, step: dict[str, Any]) -> str:
    load, cpu = step["load"], step["cpu"]
    latency = load["latency_ms"]
    return (
        f"  {label} {step['rate']:>6} msg/s: delivered {load['delivered_per_s']:.0f}/s, "
        f"p50 {latency['p50']} ms, p99 {latency['p99']} ms, server {cpu.get('server', 0):.0f}%, "
        f"generator {cpu.get('loadgen', 0):.0f}% -> {step['grade']} {step['verdict']}"
    )


async def _ladder(
    generator: LoadGenerator, groups: Groups, label: str, rates: Sequence[int], profile: Profile
) -> dict[str, Any]:
    """Climb the ladder until a step saturates (or two steps fail), then bisect once or twice
    between the last rate that passed and the first that did not."""

    async def step_at(rate: int) -> dict[str, Any]:
        await asyncio.sleep(profile.pause_seconds)
        step = await measure_step(
            generator,
            groups,
            rate,
            profile.step_seconds,
            profile.drain_seconds,
            retries=profile.retries,
            patience=profile.quiet_patience,
        )
        print(_step_line(label, step), flush=True)
        return step

    steps: list[dict[str, Any]] = []
    for rate in rates:
        steps.append(await step_at(rate))
        failed = [s for s in steps if s["grade"] != "pass"]
        if steps[-1]["grade"] == "saturated" or len(failed) >= 2:
            break
    strict = next((i for i, s in enumerate(steps) if s["grade"] != "pass"), len(steps))
    best = steps[strict - 1] if strict else None
    first_failing = steps[strict] if strict < len(steps) else None
    refined: list[dict[str, Any]] = []
    if first_failing is not None:
        low, high = (best["rate"] if best else 0), first_failing["rate"]
        for _ in range(profile.refine):
            middle = _round_rate((low + high) / 2)
            if not low < middle < high:
                break
            step = await step_at(middle)
            refined.append(step)
            if step["grade"] == "pass":
                low, best = middle, step
            else:
                high = middle
    floor = best["rate"] if best else 0
    above = [s for s in [*steps, *refined] if s["grade"] != "pass" and s["rate"] > floor]
    first_failing = min(above, key=lambda s: s["rate"], default=None)
    saturated = next((s for s in steps if s["grade"] == "saturated"), None)
    within = [s for s in steps if s["grade"] != "saturated"]
    return {
        "steps": steps,
        "refined": refined,
        "max_sustained": best,
        "first_failing": first_failing,
        "ceiling": within[-1] if within else None,
        "limited_by": limited_by(saturated or first_failing),
    }


def _round_rate(rate: float) -> int:
    """Bisection rates rounded to two significant digits."""
    digits = max(len(str(int(rate))) - 2, 0)
    return int(round(rate, -digits))


async def measure_load(
    target: Target,
    plan: dict[str, Any],
    workload: str,
    rates: Sequence[int],
    work: Path,
    cores: Cores,
    profile: Profile,
) -> dict[str, Any]:
    """Connect the plan's devices, warm up, then climb the rate ladder."""
    label = f"{target.label} {workload}"
    path = work / f"{target.label}-{workload}.json"
    path.write_text(json.dumps(plan))
    log = work / f"loadgen-{target.label}-{workload}.log"
    async with LoadGenerator(path, cpus=cores.generator, log=log) as generator:
        groups = process_groups(target.pids, generator, target.groups())
        # Gently: the connect storm is measured by the idle phase; rtserver closes a socket
        # that has not authenticated within socket_auth_timeout_seconds (5 s).
        connect = await _connect(generator, profile, len(plan["devices"]), LOAD_CONCURRENCY)
        await asyncio.sleep(profile.idle_seconds)
        await generator.load(rate=rates[0], seconds=2, drain_s=profile.drain_seconds)  # warm-up
        ladder = await _ladder(generator, groups, label, rates, profile)
        rss_loaded = target.rss()
    best = ladder["max_sustained"]
    print(
        f"  {label}: max {best['load']['delivered_per_s']:.0f} msg/s with p99 < 50 ms"
        if best
        else f"  {label}: no step passed",
        flush=True,
    )
    return {
        "workload": workload,
        "connections": len(plan["devices"]),
        "connect_seconds": connect["seconds"],
        "connect_failed": connect["failed"],
        "connect_errors": connect["errors"],
        "rss_after_bytes": rss_loaded,
        **ladder,
    }


# --- the servers -------------------------------------------------------------------------------


async def wait_until_quiet(target: Target, profile: Profile) -> float:
    groups = process_groups(target.pids, None, target.groups())
    return await wait_for_quiet_host(groups, profile.quiet_patience)
