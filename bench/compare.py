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
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench import host
from bench.compare_measure import Cores
from bench.compare_report import markdown, write_docs
from bench.compare_servers import run_node, run_rtserver, run_whole_host
from bench.compare_setup import (
    FULL,
    QUICK,
    RELAY_DIR,
    RESULTS_DIR,
    STORES,
    CompareError,
    Profile,
    synthetic_envelope,
)
from bench.loadgen import LoadGenError
from bench.procstat import usable_cpus
from bench.servers import LOAD_LIMITS


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
