"""`python -m bench chat`: durable 1:1 chat on real rtserver nodes (issue 3's benchmark).

For each configuration: start the nodes on a fresh store, create the conversations through the
API, pin the server(s) to one core and the load generator to another, then measure the connect
storm, memory per idle connection, latency at a fixed load, and a ladder of offered rates: the
highest rate whose p99 send-to-delivery latency stays under 50 ms (every lower step too), and
the ceiling, the highest rate the server still keeps up with (median under 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench import gcprobe, host
from bench.chat_plan import chat_plan, envelope_bytes
from bench.chat_report import steps_table, summary_table
from bench.loadgen import LoadGenerator, LoadGenError
from bench.population import make_pairs
from bench.procstat import CpuMeter, pids_with, pin, rss_bytes, usable_cpus
from bench.servers import Cluster, Deployment, cluster
from bench.steps import Groups, limited_by, measure_step, process_groups, wait_for_quiet_host

RESULTS_DIR = Path(__file__).resolve().parent / "results"
CONFIGS = {
    d.name: d
    for d in (
        Deployment("sqlite", "sqlite"),
        Deployment("postgresql", "postgresql"),
        Deployment("postgresql-redis-2nodes", "postgresql", nodes=2),
    )
}


@dataclass(frozen=True)
class Profile:
    name: str
    pairs: int
    ladder: tuple[int, ...]
    step_seconds: float
    fixed_rate: int
    fixed_seconds: float
    drain_seconds: float = 3.0
    pause_seconds: float = 2.0
    storm_concurrency: int = 200
    idle_seconds: float = 3.0


FULL = Profile(
    "full",
    pairs=1000,
    ladder=(25, 50, 75, 100, 125, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000),
    step_seconds=15,
    fixed_rate=50,
    fixed_seconds=30,
)
QUICK = Profile(
    "quick",
    pairs=25,
    ladder=(50, 100, 200, 400),
    step_seconds=3,
    fixed_rate=50,
    fixed_seconds=4,
    drain_seconds=2,
    pause_seconds=1,
    idle_seconds=1,
)


def _store_groups(nodes: Cluster) -> Groups:
    def groups() -> dict[str, list[int]]:
        found = {}
        if nodes.database_name:
            found["postgres"] = pids_with("postgres", nodes.database_name)
        if nodes.deployment.redis:
            found["redis"] = pids_with("redis-server", ":6379")
        return found

    return groups


def _rss(nodes: Cluster) -> int:
    return sum(rss_bytes(pid) for pid in nodes.pids)


async def _measure(nodes: Cluster, plan: Path, work: Path, profile: Profile) -> dict[str, Any]:
    server_cpus, generator_cpus = host.split_cores()
    if server_cpus and generator_cpus:
        for pid in nodes.pids:
            pin(pid, server_cpus)
        os.sched_setaffinity(0, generator_cpus)
    outside_before = await wait_for_quiet_host(process_groups(nodes.pids, None))
    rss_before = _rss(nodes)
    async with LoadGenerator(plan, cpus=generator_cpus, log=work / "loadgen.log") as generator:
        groups = process_groups(nodes.pids, generator, _store_groups(nodes))
        meter = CpuMeter(groups())
        meter.start()
        connect = await generator.connect(concurrency=profile.storm_concurrency, timeout_s=60)
        connect["cpu"] = meter.stop()
        await asyncio.sleep(profile.idle_seconds)
        rss_idle = _rss(nodes)
        await generator.load(rate=50, seconds=2, drain_s=profile.drain_seconds)  # warm-up
        fixed = await measure_step(
            generator, groups, profile.fixed_rate, profile.fixed_seconds, profile.drain_seconds
        )
        steps = []
        for rate in profile.ladder:
            await asyncio.sleep(profile.pause_seconds)
            step = await measure_step(
                generator, groups, rate, profile.step_seconds, profile.drain_seconds
            )
            steps.append(step)
            if step["grade"] == "saturated":
                break
        rss_end = _rss(nodes)
    strict = next((i for i, s in enumerate(steps) if s["grade"] != "pass"), len(steps))
    within = [s for s in steps if s["grade"] != "saturated"]
    saturated = next((s for s in steps if s["grade"] == "saturated"), None)
    return {
        "pinning": {
            "server_cpus": sorted(server_cpus or []),
            "loadgen_cpus": sorted(generator_cpus or []),
            "unpinned": "PostgreSQL and Redis (shared system services) run on any core",
        },
        "outside_cpu_before": outside_before,
        "connect": connect,
        "memory": {
            "rss_before_bytes": rss_before,
            "rss_idle_bytes": rss_idle,
            "rss_after_load_bytes": rss_end,
            "per_connection_bytes": (rss_idle - rss_before) / max(connect["connected"], 1),
        },
        "fixed": {"seconds": profile.fixed_seconds, **fixed},
        "steps": steps,
        "max_sustained": steps[strict - 1] if strict else None,
        "first_failing": steps[strict] if strict < len(steps) else None,
        "ceiling": within[-1] if within else None,
        "limited_by": limited_by(saturated),
    }


def _attach_gc_pauses(result: dict[str, Any], logs: list[str], drain: float) -> None:
    """Each measured window gets the collections of >= 20 ms that happened in it."""
    pauses = [p for log in logs for p in gcprobe.pauses(log)]
    for step in [result["fixed"], *result["steps"]]:
        start, end = step["window"][0], step["window"][-1] + drain
        step["gc_pauses_ms"] = [p["ms"] for p in pauses if start <= p["at"] <= end]
    result["gc_pauses"] = pauses


async def run_config(deployment: Deployment, profile: Profile, gc_probe: bool) -> dict[str, Any]:
    started = time.time()
    everywhere = set(usable_cpus())
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp:
        work = Path(tmp)
        prepare = (lambda env: gcprobe.install(work, env)) if gc_probe else None
        async with cluster(deployment, work, prepare) as nodes:
            t0 = time.monotonic()
            pairs = await make_pairs(
                nodes.urls, nodes.admin_login, nodes.admin_password, profile.pairs
            )
            setup_seconds = time.monotonic() - t0
            plan = work / "plan.json"
            plan.write_text(json.dumps(chat_plan(pairs, nodes.urls)))
            try:
                measured = await _measure(nodes, plan, work, profile)
            finally:
                os.sched_setaffinity(0, everywhere)
        if gc_probe:
            logs = [node.log.read_text(errors="replace") for node in nodes.nodes]
            _attach_gc_pauses(measured, logs, profile.drain_seconds)
    return {
        "benchmark": "chat",
        "config": deployment.name,
        "deployment": {**asdict(deployment), "redis": deployment.redis},
        "profile": asdict(profile),
        "devices": 2 * profile.pairs,
        "conversations": profile.pairs,
        "envelope_bytes": envelope_bytes(pairs[0]),
        "machine": host.describe(),
        "gc_probe": gc_probe,
        "setup_seconds": round(setup_seconds, 1),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_seconds": round(time.time() - started, 1),
        **measured,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench chat", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (~2 minutes)")
    parser.add_argument(
        "--config",
        action="append",
        choices=sorted(CONFIGS),
        help="run only this configuration (repeatable; default: all)",
    )
    parser.add_argument("--pairs", type=int, help="conversations (2 devices each)")
    parser.add_argument("--fixed-rate", type=int, help="msg/s of the fixed-load measurement")
    parser.add_argument(
        "--gc-probe",
        action="store_true",
        help="log the server's garbage-collection pauses of 20 ms or more (bench/gcprobe.py)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where JSON goes")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    profile = QUICK if args.quick else FULL
    if args.pairs:
        profile = replace(profile, pairs=args.pairs)
    if args.fixed_rate:
        profile = replace(profile, fixed_rate=args.fixed_rate)
    args.results.mkdir(parents=True, exist_ok=True)
    suffix = ".quick" if args.quick else ""
    results = []
    for name in args.config or list(CONFIGS):
        print(f"chat benchmark: {name} ({profile.name}, {2 * profile.pairs} devices)", flush=True)
        try:
            result = asyncio.run(run_config(CONFIGS[name], profile, args.gc_probe))
        except LoadGenError as exc:
            print(f"chat benchmark: {exc}", file=sys.stderr)
            return 1
        (args.results / f"chat-{name}{suffix}.json").write_text(json.dumps(result, indent=2))
        print(steps_table(result), "", sep="\n", flush=True)
        results.append(result)
    print(
        f"Host: {os.cpu_count()} cores; server node(s) pinned to one core, load generator to "
        "another (two nodes share their core); PostgreSQL and Redis unpinned."
    )
    print(summary_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
