"""`python -m bench compare`: rtserver side by side with Node's socket.io (issue 8).

One invocation measures, with the same load generator (bench/node/loadgen.mjs), the same number
of connections and the same offered-rate ladder:

- the reference peer, a stock Node socket.io 4 relay (bench/node-relay/relay.mjs): (d) memory
  per idle connection, (a) the ephemeral relay (`typing`) and a durable-like `message.send` of
  the same envelope size, relayed without storing anything;
- rtserver on SQLite, one process: (d) memory per idle connection, (a) its real `typing` event
  between the two devices of 1:1 conversations of real registered users, and (b) durable chat
  (`message.send`, persisted before the ack, envelope signature verified);
- rtserver on PostgreSQL, one process: (b) durable chat;
- then (c) the whole host, nothing pinned (servers, the load generator and Redis share every
  core): one Node process's `typing` relay against rtserver `serve --workers 2` (a supervisor
  and two worker processes sharing the port with SO_REUSEPORT) on SQLite with Redis, its real
  `typing` and its durable `message.send`; rtserver's CPU and memory are those of its whole
  process tree. `--no-whole-host` skips this phase.

In the other phases each server runs pinned to one core and the load generator to the other
(like `taskset -c 0` / `taskset -c 1`). For every ladder the figure is the highest offered rate
whose p99 send-to-delivery latency stayed under 50 ms at that step and every lower one (refined
by bisection between the last passing and the first failing step), so every rtserver figure is
also a ratio to Node's. JSON goes to bench/results/compare*.json; a full run also rewrites its
section of docs/performance.md (between marker comments).

rtserver's per-connection and per-user chat limits are raised for the benchmark process
(bench/servers.py LOAD_LIMITS); the report says so.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench import host
from bench.chat_plan import chat_plan, envelope_bytes
from bench.compare_report import markdown, write_docs
from bench.loadgen import LoadGenerator, LoadGenError, check_installed
from bench.population import Pair, make_pairs
from bench.procstat import pids_with, pin, rss_bytes, usable_cpus
from bench.servers import LOAD_LIMITS, Cluster, Deployment, cluster, free_port
from bench.steps import (
    BUSY,
    Groups,
    limited_by,
    measure_step,
    process_groups,
    wait_for_quiet_host,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
RELAY_DIR = Path(__file__).resolve().parent / "node-relay"
RELAY_HINT = "npm ci --prefix bench/node-relay"
STORES = ("sqlite", "postgresql")
# A connect storm may lose a few sockets; the load then runs between the connected pairs only.
MAX_FAILED_CONNECTIONS = 0.1
LOAD_CONCURRENCY = 50  # handshakes in flight when connecting for a load phase
WHOLE_HOST_WORKERS = 2  # rtserver processes on the whole host (`serve --workers`)


class CompareError(RuntimeError):
    """Something the comparison needs is missing or failed."""


@dataclass(frozen=True)
class Profile:
    name: str
    pairs: int  # 1:1 conversations: 2 connections each
    relay_ladder: tuple[int, ...]  # msg/s offered to both servers' ephemeral relays
    durable_ladder: tuple[int, ...]  # msg/s offered to rtserver's message.send
    idle_connections: tuple[int, ...]
    step_seconds: float
    drain_seconds: float
    pause_seconds: float
    refine: int  # bisection steps between the last passing and the first failing rate
    idle_seconds: float
    storm_concurrency: int = 200
    # Other work on this 2-core host (test runs): wait up to `quiet_patience` seconds for it to
    # stop before each server and before measuring a failing step again (`retries` times) when
    # it was disturbed (steps.py); every step records the CPU used outside the benchmark.
    quiet_patience: float = 90.0
    retries: int = 1


# fmt: off
RELAY_LADDER = (
    100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 14000,
    16000, 18000, 20000, 24000, 28000, 32000, 40000,
)
DURABLE_LADDER = (
    25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 6000,
    8000,
)
# fmt: on
FULL = Profile(
    "full",
    pairs=1000,
    relay_ladder=RELAY_LADDER,
    durable_ladder=DURABLE_LADDER,
    idle_connections=(2000,),
    step_seconds=10,
    drain_seconds=3,
    pause_seconds=2,
    refine=2,
    idle_seconds=3,
)
QUICK = Profile(
    "quick",
    pairs=25,
    relay_ladder=(250, 1000, 4000),
    durable_ladder=(50, 200),
    idle_connections=(200,),
    step_seconds=2,
    drain_seconds=1.5,
    pause_seconds=0.5,
    refine=0,
    idle_seconds=1,
    quiet_patience=0.0,
    retries=0,
)


# --- plans (what the load generator's connections are and send) -----------------------------


def _b64(size: int) -> str:
    return base64.b64encode(os.urandom(size)).decode()


def synthetic_envelope(size: int | None) -> dict[str, Any]:
    """An envelope of rtclient's shape for two recipient devices, for the Node reference (which
    never looks inside). Default size: what rtclient seals for a short line (ciphertext of a
    256-byte padded content); otherwise the ciphertext is sized to make `size` bytes of JSON."""
    envelope: dict[str, Any] = {
        "v": 1,
        "sender_device_id": str(uuid.uuid4()),
        "ephemeral_key": _b64(32),
        "nonce": _b64(24),
        "ciphertext": "",
        "recipients": [{"device_id": str(uuid.uuid4()), "key": _b64(72)} for _ in range(2)],
        "signature": _b64(64),
    }
    if size is None:
        length = 256 + 16
    else:
        base = len(json.dumps(envelope, separators=(",", ":")))
        length = max((size - base) // 4 * 3, 17)
    envelope["ciphertext"] = _b64(length)
    return envelope


def wire_bytes(envelope: dict[str, Any]) -> int:
    return len(json.dumps(envelope, separators=(",", ":")))


def relay_plan(
    pairs: int, url: str, workload: str, envelope: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Connections for the Node reference: pairs of (user, device) in 1:1 conversations, with
    ids shaped like rtserver's (UUIDs) so payloads have the same size."""
    devices: list[dict[str, Any]] = []
    for number in range(pairs):
        conversation = str(uuid.uuid4())
        for side in (0, 1):
            devices.append(
                {
                    "url": url,
                    "auth": {
                        "user": str(uuid.uuid4()),
                        "device": str(uuid.uuid4()),
                        "conversation": conversation,
                    },
                    "conversation_id": conversation,
                    "peer": 2 * number + 1 - side,
                    "envelope": envelope,
                }
            )
    return {"workload": workload, "devices": devices}


def typing_plan(pairs: list[Pair], url: str) -> dict[str, Any]:
    """rtserver's real devices; each sends `typing` in its conversation to its peer."""
    devices: list[dict[str, Any]] = []
    for number, pair in enumerate(pairs):
        for side, device in enumerate((pair.counselor, pair.client)):
            devices.append(
                {
                    "url": url,
                    "token": device.token,
                    "conversation_id": pair.conversation_id,
                    "peer": 2 * number + 1 - side,
                }
            )
    return {"workload": "relay.typing", "devices": devices}


def idle_plan(plan: dict[str, Any], connections: int) -> dict[str, Any]:
    """`connections` sockets over the plan's identities (cycled: with more connections than
    devices, a device holds several sockets, as a user with several tabs would)."""
    devices = plan["devices"]
    chosen = [dict(devices[i % len(devices)], peer=None) for i in range(connections)]
    return {"workload": "idle", "devices": chosen}


# --- measuring ---------------------------------------------------------------------------------


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


def _tree_changes() -> list[str]:
    """Server files changed since the commit (a run may measure work in progress)."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "rtserver", "signaling"],
        capture_output=True,
        text=True,
        cwd=host.ROOT,
        check=False,
    )
    return [line[3:] for line in status.stdout.splitlines() if line.strip()]


def _node_versions() -> dict[str, str]:
    found = {}
    for package, folder in (
        ("socket.io", RELAY_DIR),
        ("socket.io-client", Path(__file__).resolve().parent / "node"),
    ):
        manifest = folder / "node_modules" / package / "package.json"
        if manifest.is_file():
            found[package] = str(json.loads(manifest.read_text())["version"])
    return found


async def _quiet(target: Target, profile: Profile) -> float:
    groups = process_groups(target.pids, None, target.groups())
    return await wait_for_quiet_host(groups, profile.quiet_patience)


async def run_node(
    profile: Profile, work: Path, cores: Cores, envelope: dict[str, Any]
) -> dict[str, Any]:
    print(f"compare: Node socket.io reference ({2 * profile.pairs} connections)", flush=True)
    async with node_relay(cores.server, work / "node-relay.log") as (url, pid):
        target = Target("node", [pid])
        outside = await _quiet(target, profile)
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
        outside = await _quiet(target, profile)
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
        outside = await _quiet(target, profile)
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
        outside = await _quiet(target, profile)
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


def _raise_open_files(connections: int) -> dict[str, int]:
    """Every process started from here inherits the limit: the generator holds one socket per
    connection, and so does the server."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 1024
    if soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    if soft < wanted:
        raise CompareError(f"open files limited to {soft}; {wanted} needed (raise ulimit -n)")
    return {"soft": soft, "hard": hard}


async def run_once(
    profile: Profile,
    stores: Sequence[str],
    envelope_size: int | None,
    with_node: bool,
    whole_host: bool,
) -> dict[str, Any]:
    started = time.time()
    limits = _raise_open_files(max([2 * profile.pairs, *profile.idle_connections]))
    server_cpus, generator_cpus = host.split_cores()
    cores = Cores(server_cpus, generator_cpus)
    everywhere = set(usable_cpus())
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        work = Path(tmp)
        try:
            if generator_cpus:
                os.sched_setaffinity(0, generator_cpus)  # this process, with the generator
            if with_node:
                envelope = synthetic_envelope(envelope_size)
                results["node"] = await run_node(profile, work, cores, envelope)
            for store in stores:
                results[store] = await run_rtserver(store, profile, work, cores, envelope_size)
            if whole_host:
                os.sched_setaffinity(0, everywhere)
                results["whole_host"] = await run_whole_host(
                    profile, work, envelope_size, with_node
                )
        finally:
            os.sched_setaffinity(0, everywhere)
    return {
        "benchmark": "compare",
        "profile": asdict(profile),
        "machine": host.describe(),
        "node_packages": _node_versions(),
        "uncommitted_server_changes": _tree_changes(),
        "pinning": {
            "server_cpus": sorted(server_cpus or []),
            "loadgen_cpus": sorted(generator_cpus or []),
            "unpinned": "PostgreSQL (a shared system service) runs on any core",
            "whole_host": "nothing pinned: servers, the generator and Redis on every core",
        },
        "rtserver_env": LOAD_LIMITS,
        "open_files": limits,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_seconds": round(time.time() - started, 1),
        "results": results,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench compare", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (a few minutes)")
    parser.add_argument("--pairs", type=int, help="1:1 conversations (2 connections each)")
    parser.add_argument(
        "--envelope-bytes",
        type=int,
        help="durable message envelope size in bytes of JSON (default: rtclient's real sealed "
        "envelope for a short line, 985 B for two devices; the smallest possible is ~650 B)",
    )
    parser.add_argument(
        "--idle",
        type=int,
        action="append",
        metavar="N",
        help="idle connections for memory per connection (repeatable, e.g. --idle 2000 "
        "--idle 10000; default 2000, quick 200)",
    )
    parser.add_argument(
        "--store",
        action="append",
        choices=STORES,
        help="rtserver store(s) to run (repeatable; default both)",
    )
    parser.add_argument("--step-seconds", type=float, help="length of each ladder step")
    parser.add_argument("--no-node", action="store_true", help="skip the Node reference")
    parser.add_argument(
        "--no-whole-host",
        action="store_true",
        help="skip (c), the whole host unpinned: rtserver serve --workers 2 against one Node",
    )
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole comparison")
    parser.add_argument(
        "--docs",
        choices=("auto", "yes", "no"),
        default="auto",
        help="rewrite the section in docs/performance.md (auto: full runs of everything only)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where JSON goes")
    parser.add_argument(
        "--report",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="measure nothing: print the markdown of saved runs (bench/results/compare-*.json; "
        "with --docs yes also rewrite the docs section)",
    )
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    chosen = {"pairs": args.pairs, "step_seconds": args.step_seconds}
    chosen["idle"] = ",".join(map(str, args.idle)) if args.idle else None
    return {k: v for k, v in chosen.items() if v}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stop like Ctrl-C: servers and generators are shut down


def _publish(runs: list[dict[str, Any]], docs: bool) -> None:
    text = markdown(runs)
    print("", text, sep="\n", flush=True)
    if docs:
        write_docs(text)
        print("compare: docs/performance.md updated", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.report:
        _publish([json.loads(path.read_text()) for path in args.report], args.docs == "yes")
        return 0
    signal.signal(signal.SIGTERM, _interrupt)
    profile = QUICK if args.quick else FULL
    if args.pairs:
        profile = replace(profile, pairs=args.pairs)
    if args.idle:
        profile = replace(profile, idle_connections=tuple(args.idle))
    if args.step_seconds:
        profile = replace(profile, step_seconds=args.step_seconds)
    overrides = [f"--{k.replace('_', '-')} {v}" for k, v in _overrides(args).items()]
    if overrides:
        profile = replace(profile, name=f"{profile.name} with {' '.join(overrides)}")
    stores = args.store or list(STORES)
    if len(usable_cpus()) < 2:
        print("compare: one core only: server and generator will share it", file=sys.stderr)
    complete = (
        not args.quick
        and not args.no_node
        and not args.no_whole_host
        and set(stores) == set(STORES)
    )
    docs = args.docs == "yes" or (args.docs == "auto" and complete)
    args.results.mkdir(parents=True, exist_ok=True)
    runs = []
    for number in range(args.runs):
        if args.runs > 1:
            print(f"compare: run {number + 1} of {args.runs}", flush=True)
        try:
            run = asyncio.run(
                run_once(
                    profile,
                    stores,
                    args.envelope_bytes,
                    with_node=not args.no_node,
                    whole_host=not args.no_whole_host,
                )
            )
        except (LoadGenError, CompareError) as exc:
            print(f"compare: {exc}", file=sys.stderr)
            return 1
        stamp = run["started_at"].replace(":", "").replace("-", "")
        suffix = ".quick" if args.quick else ""
        for name in (f"compare{suffix}.json", f"compare-{stamp}{suffix}.json"):
            (args.results / name).write_text(json.dumps(run, indent=2))
        runs.append(run)
        _publish(runs, docs)  # after every run, so an interrupted series still reports
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
