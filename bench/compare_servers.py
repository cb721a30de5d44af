"""The servers `python -m bench compare` measures: the Node socket.io reference and rtserver,
each pinned to its core, and both again on the whole host with nothing pinned."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from bench.chat_plan import chat_plan, envelope_bytes, wire_bytes
from bench.compare_measure import (
    UNPINNED,
    Cores,
    Target,
    measure_idle,
    measure_load,
    wait_until_quiet,
)
from bench.compare_setup import (
    RELAY_DIR,
    RELAY_HINT,
    WHOLE_HOST_WORKERS,
    CompareError,
    Profile,
    idle_plan,
    relay_plan,
    typing_plan,
)
from bench.loadgen import check_installed
from bench.population import Pair, make_pairs
from bench.procstat import pin, usable_cpus
from bench.servers import Cluster, Deployment, cluster, free_port
from bench.steps import (
    BUSY,
)


@contextlib.asynccontextmanager
async def node_relay(cpus: set[int] | None, log: Path) -> AsyncIterator[tuple[str, int]]:
    """The reference peer on its own core; yields (url, pid)."""
    node = check_installed()
    if not (RELAY_DIR / "node_modules" / "socket.io").is_dir():
        raise CompareError(f"the Node reference's packages are missing: run `{RELAY_HINT}`")
    port = free_port()
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            node,
            str(RELAY_DIR / "relay.mjs"),
            str(port),
            cwd=RELAY_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=sink,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
        )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        if not line.startswith(b"listening"):
            raise CompareError(f"the Node reference did not start (see {log}): {line!r}")
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def run_node(
    profile: Profile, work: Path, cores: Cores, envelope: dict[str, Any]
) -> dict[str, Any]:
    print(f"compare: Node socket.io reference ({2 * profile.pairs} connections)", flush=True)
    async with node_relay(cores.server, work / "node-relay.log") as (url, pid):
        target = Target("node", [pid])
        outside = await wait_until_quiet(target, profile)
        idle = []
        for connections in profile.idle_connections:
            plan = relay_plan(-(-connections // 2), url, "idle")
            plan["devices"] = plan["devices"][:connections]
            idle.append(await measure_idle(target, plan, work, cores, profile, sync=False))
        typing = await measure_load(
            target,
            relay_plan(profile.pairs, url, "relay.typing"),
            "typing",
            profile.relay_ladder,
            work,
            cores,
            profile,
        )
        message = await measure_load(
            target,
            relay_plan(profile.pairs, url, "relay.message", envelope),
            "message.send",
            profile.relay_ladder,
            work,
            cores,
            profile,
        )
    return {
        "server": "node",
        "outside_cpu_before": outside,
        "idle": idle,
        "typing": typing,
        "message_relay": {**message, "envelope_bytes": wire_bytes(envelope)},
    }


async def run_rtserver(
    store: str, profile: Profile, work: Path, cores: Cores, envelope_size: int | None
) -> dict[str, Any]:
    """One rtserver process on `store`: on SQLite (d) idle memory, (a) typing and (b) durable
    chat; on PostgreSQL (b) only (plus idle memory)."""
    print(f"compare: rtserver on {store} ({2 * profile.pairs} devices)", flush=True)
    deployment = Deployment(store, "sqlite" if store == "sqlite" else "postgresql")
    (work / store).mkdir()
    async with cluster(deployment, work / store) as nodes:
        pairs, setup_seconds = await _setup_pairs(nodes, profile)
        if cores.server:
            for pid in nodes.pids:
                pin(pid, cores.server)
        target = Target(store, nodes.pids, nodes.database_name)
        outside = await wait_until_quiet(target, profile)
        url = nodes.urls[0]
        devices = typing_plan(pairs, url)
        idle = [
            await measure_idle(target, idle_plan(devices, n), work, cores, profile, sync=True)
            for n in profile.idle_connections
        ]
        typing = None
        if store == "sqlite":
            typing = await measure_load(
                target, devices, "typing", profile.relay_ladder, work, cores, profile
            )
        durable = await measure_load(
            target,
            chat_plan(pairs, nodes.urls, envelope_size),
            "message.send",
            profile.durable_ladder,
            work,
            cores,
            profile,
        )
    return {
        "server": "rtserver",
        "store": store,
        "setup_seconds": round(setup_seconds, 1),
        "outside_cpu_before": outside,
        "idle": idle,
        "typing": typing,
        "durable": {**durable, "envelope_bytes": envelope_bytes(pairs[0], envelope_size)},
    }


async def _setup_pairs(nodes: Cluster, profile: Profile) -> tuple[list[Pair], float]:
    """Registered users in 1:1 conversations, each with a device; and the seconds it took."""
    t0 = time.monotonic()
    pairs = await make_pairs(nodes.urls, nodes.admin_login, nodes.admin_password, profile.pairs)
    setup_seconds = time.monotonic() - t0
    print(f"  {len(pairs)} conversations set up in {setup_seconds:.0f} s", flush=True)
    return pairs, setup_seconds


# --- (c) the whole host, nothing pinned --------------------------------------------------------


def host_limited_by(ladder: dict[str, Any], cores: int, processes: int) -> str:
    """What ended a whole-host ladder. steps.limited_by judges a server pinned to one core;
    here the server's `processes`, the generator and Redis share all `cores`."""
    saturated = next((s for s in ladder["steps"] if s["grade"] == "saturated"), None)
    step = saturated or ladder["first_failing"]
    if step is None:
        return str(ladder["limited_by"])
    cpu, load = step["cpu"], step["load"]
    server, generator = cpu.get("server", 0.0), cpu.get("loadgen", 0.0)
    if cpu.get("machine", 0.0) >= BUSY * cores:
        shares = {"server": server, "generator": generator, "Redis": cpu.get("redis")}
        shares["outside the benchmark"] = cpu["outside"]
        said = ", ".join(f"{name} {v:.0f}%" for name, v in shares.items() if v is not None)
        return f"all {cores} cores saturated ({said})"
    if generator >= BUSY or load["event_loop_utilization"] >= BUSY / 100:
        return "load generator (one Node process: one core's worth)"
    if server >= BUSY * processes:
        return f"server CPU ({processes} process(es), each a core's worth)"
    return "waiting on the store or the bus (no core saturated)"


async def _measure_host(
    target: Target,
    plan: dict[str, Any],
    workload: str,
    rates: Sequence[int],
    work: Path,
    profile: Profile,
    processes: int,
) -> dict[str, Any]:
    ladder = await measure_load(target, plan, workload, rates, work, UNPINNED, profile)
    ladder["limited_by"] = host_limited_by(ladder, len(usable_cpus()), processes)
    return ladder


async def run_node_host(profile: Profile, work: Path) -> dict[str, Any]:
    print("compare: whole host: Node socket.io reference, one process, unpinned", flush=True)
    async with node_relay(None, work / "node-relay-host.log") as (url, pid):
        target = Target("host-node", [pid])
        outside = await wait_until_quiet(target, profile)
        plan = relay_plan(profile.pairs, url, "relay.typing")
        typing = await _measure_host(
            target, plan, "typing", profile.relay_ladder, work, profile, processes=1
        )
    return {"server": "node", "processes": 1, "outside_cpu_before": outside, "typing": typing}


async def run_rtserver_host(
    profile: Profile, work: Path, envelope_size: int | None
) -> dict[str, Any]:
    workers = WHOLE_HOST_WORKERS
    print(f"compare: whole host: rtserver serve --workers {workers}, SQLite + Redis", flush=True)
    deployment = Deployment("whole-host", "sqlite", workers=workers)
    (work / "whole-host").mkdir()
    async with cluster(deployment, work / "whole-host") as nodes:
        pairs, setup_seconds = await _setup_pairs(nodes, profile)
        target = Target("host-rtserver", nodes.pids, redis=True)
        outside = await wait_until_quiet(target, profile)
        typing = await _measure_host(
            target,
            typing_plan(pairs, nodes.urls[0]),
            "typing",
            profile.relay_ladder,
            work,
            profile,
            workers,
        )
        durable = await _measure_host(
            target,
            chat_plan(pairs, nodes.urls, envelope_size),
            "message.send",
            profile.durable_ladder,
            work,
            profile,
            workers,
        )
    return {
        "server": "rtserver",
        "workers": workers,
        "store": "sqlite",
        "redis": True,
        "processes": len(target.pids),  # the supervisor, its workers, multiprocessing's helper
        "setup_seconds": round(setup_seconds, 1),
        "outside_cpu_before": outside,
        "typing": typing,
        "durable": {**durable, "envelope_bytes": envelope_bytes(pairs[0], envelope_size)},
    }


async def run_whole_host(
    profile: Profile, work: Path, envelope_size: int | None, with_node: bool
) -> dict[str, Any]:
    """(c) Every process on every core. This process must already be unpinned: the servers and
    the generator it starts inherit its affinity."""
    result: dict[str, Any] = {"cores": len(usable_cpus()), "pinning": "none"}
    if with_node:
        result["node"] = await run_node_host(profile, work)
    result["rtserver"] = await run_rtserver_host(profile, work, envelope_size)
    return result
