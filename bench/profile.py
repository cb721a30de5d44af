"""`python -m bench profile`: where a server spends its CPU under durable chat load (issue 8).

Starts one configuration like `bench chat` does, connects the devices, offers a fixed rate of
`message.send` for a while with py-spy sampling the server, and writes the flame graph (SVG),
the speedscope profile, the collapsed stacks and a text summary (the functions with the most
samples, self and total) under bench/results/profiles/<label>/. It also reports the server's
CPU time per delivered message, the figure to compare across changes on a noisy host.

py-spy is not a project dependency: `pip install py-spy` into the venv first.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import io
import json
import os
import pstats
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from bench import gcprobe, host
from bench.chat import CONFIGS
from bench.chat_plan import chat_plan
from bench.compare_setup import typing_plan
from bench.loadgen import LoadGenerator
from bench.population import Api, make_pairs
from bench.procstat import CLOCK_TICKS, CpuMeter, pin, rss_bytes, usable_cpus
from bench.servers import cluster

PROFILES_DIR = Path(__file__).resolve().parent / "results" / "profiles"
_LINE_NUMBER = re.compile(r":\d+\)$")


def summarise(collapsed: Path, top: int = 40) -> str:
    """Functions by self and by total samples, from py-spy's collapsed stacks, per kind of
    thread (idle samples dropped)."""
    threads: dict[str, tuple[collections.Counter[str], collections.Counter[str]]] = {}
    samples: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue  # a frame name with a line break in it (generated code)
        count = int(count_text)
        frames = [_LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]
        thread = _thread_of(frames)
        if thread is None:
            continue
        own, total = threads.setdefault(thread, (collections.Counter(), collections.Counter()))
        samples[thread] += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    everything = sum(samples.values())
    lines = [f"samples: {everything}"]
    for thread, (own, total) in sorted(threads.items()):
        n = samples[thread]
        lines += ["", f"== {thread}: {n} samples ({100 * n / everything:.0f}%)"]
        lines += [f"-- top {top} by self:"]
        lines += [f"{100 * c / n:6.1f}%  {name}" for name, c in own.most_common(top)]
        lines += [f"-- top {top} by total (inclusive):"]
        lines += [f"{100 * c / n:6.1f}%  {name}" for name, c in total.most_common(top)]
    return "\n".join(lines)


def _thread_of(frames: list[str]) -> str | None:
    """Which kind of work a stack is; None when it is idle (waiting for events or work)."""
    leaf = frames[-1]
    if leaf.startswith(("run_app ", "_connection_worker_thread ", "_worker ")):
        return None  # the event loop polling, aiosqlite's or a pool's thread waiting
    if frames[0].startswith("_run_module_as_main"):
        return "event loop"
    if any(f.startswith("_connection_worker_thread ") for f in frames):
        return "aiosqlite thread"
    if frames[0].startswith("Thread._bootstrap"):
        return "other threads"
    return "event loop (SQLAlchemy greenlets)"


async def _profile(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    py_spy = shutil.which("py-spy") or "py-spy"
    if not args.no_spy and shutil.which("py-spy") is None:
        raise SystemExit("py-spy not found: pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        work = Path(tmp)

        def prepare(env: dict[str, str]) -> dict[str, str]:
            if args.gc_probe:
                env = gcprobe.install(work, env)
            if args.cprofile:
                env = _install_cprofile(work, env, out)
            return env

        async with cluster(CONFIGS[args.config], work, prepare) as nodes:
            pairs = await make_pairs(
                nodes.urls, nodes.admin_login, nodes.admin_password, args.pairs
            )
            plan = work / "plan.json"
            if args.event == "typing":
                chosen = typing_plan(pairs, nodes.urls[0])
            else:
                chosen = chat_plan(pairs, nodes.urls)
            plan.write_text(json.dumps(chosen))
            server_cpus, generator_cpus = host.split_cores()
            if server_cpus and generator_cpus:
                for pid in nodes.pids:
                    pin(pid, server_cpus)
            everywhere = set(usable_cpus())
            try:
                if generator_cpus:
                    os.sched_setaffinity(0, generator_cpus)
                async with (
                    LoadGenerator(plan, cpus=generator_cpus, log=work / "loadgen.log") as generator,
                    idle_sockets(nodes.urls[0], nodes.admin_login, nodes.admin_password, args.idle),
                ):
                    await generator.connect(concurrency=200, timeout_s=60)
                    await generator.load(rate=args.rate, seconds=2, drain_s=2)  # warm-up
                    since = time.time()
                    result = await _sampled(py_spy, nodes.pids[0], generator, args, out)
                    if args.gc_probe:
                        log = nodes.nodes[0].log.read_text(errors="replace")
                        result["gc_pauses_ms"] = [p["ms"] for p in gcprobe.pauses(log, since)]
                    return result
            finally:
                os.sched_setaffinity(0, everywhere)


@contextlib.asynccontextmanager
async def idle_sockets(
    url: str, admin_login: str, admin_password: str, count: int
) -> AsyncIterator[None]:
    """`count` extra Socket.IO connections that stay idle (they answer pings), all signed in
    as one device of a user in no conversation: the heap of a node with that many more
    devices connected, without registering that many accounts (argon2 makes that slow)."""
    if count <= 0:
        yield
        return
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        api = Api(http, url)
        admin = await api.call(
            "POST",
            "/api/v1/auth/login",
            {"login": admin_login, "password": admin_password, "device_name": "bench"},
        )
        user = await api.call(
            "POST",
            "/api/v1/auth/register",
            {
                "login": f"idle.{os.getpid()}",
                "password": "idle connections 1",
                "display_name": "Idle",
                "device_name": "idle",
            },
        )
        del admin
        token = str(user["access_token"])
        ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        sockets: list[aiohttp.ClientWebSocketResponse] = []
        tasks: list[asyncio.Task[None]] = []

        async def open_one() -> None:
            ws = await http.ws_connect(ws_url)
            await ws.receive()  # engine.io OPEN
            await ws.send_str("40" + json.dumps({"token": token}))
            reply = await ws.receive()
            if not str(reply.data).startswith("40"):
                raise RuntimeError(f"idle socket refused: {reply.data!r}")
            sockets.append(ws)
            tasks.append(asyncio.create_task(_answer_pings(ws)))

        limit = asyncio.Semaphore(100)

        async def opened() -> None:
            async with limit:
                await open_one()

        await asyncio.gather(*(opened() for _ in range(count)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def _answer_pings(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT and message.data == "2":
            await ws.send_str("3")


async def _sampled(
    py_spy: str, pid: int, generator: LoadGenerator, args: argparse.Namespace, out: Path
) -> dict[str, Any]:
    record_seconds = str(int(args.seconds) + 1)
    formats = {"flamegraph": "flame.svg", "speedscope": "speedscope.json", "raw": "stacks.txt"}
    meter = CpuMeter({"server": [pid]})
    spies = []
    if not args.no_spy:
        for fmt, name in formats.items():
            if fmt != "raw" and args.raw_only:
                continue
            spies.append(
                await asyncio.create_subprocess_exec(
                    py_spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    str(args.sample_rate),
                    "--duration",
                    record_seconds,
                    "--format",
                    fmt,
                    "--output",
                    str(out / name),
                    *(["--native"] if args.native else ["--nonblocking"]),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )
    before = _user_system(pid)
    if args.cprofile:
        os.kill(pid, signal.SIGUSR1)
    meter.start()
    load = await generator.load(rate=args.rate, seconds=args.seconds, drain_s=2)
    cpu = meter.stop()
    after = _user_system(pid)
    if args.cprofile:
        os.kill(pid, signal.SIGUSR2)
        await asyncio.sleep(1)
        _cprofile_summary(out)
    for spy in spies:
        await spy.wait()
    delivered = max(int(load["delivered"]), 1)
    cpu_seconds = cpu["server"] / 100 * (args.seconds + 2)
    return {
        "config": args.config,
        "rate": args.rate,
        "seconds": args.seconds,
        "devices": 2 * args.pairs,
        "delivered": load["delivered"],
        "latency_ms": load["latency_ms"],
        "server_cpu_percent": cpu["server"],
        "server_cpu_ms_per_message": round(1000 * cpu_seconds / delivered, 2),
        "server_user_ms_per_message": round(1000 * (after[0] - before[0]) / delivered, 2),
        "server_system_ms_per_message": round(1000 * (after[1] - before[1]) / delivered, 2),
        "spied": not args.no_spy,
        "idle_connections": args.idle,
        "server_rss_bytes": rss_bytes(pid),
    }


CPROFILE_HOOK = '''"""Installed by bench/profile.py: cProfile of the event loop thread between
SIGUSR1 (start) and SIGUSR2 (stop and write the stats)."""
import cProfile
import os
import signal

_profile = cProfile.Profile()


def _start(*_):
    _profile.enable()


def _stop(*_):
    _profile.disable()
    _profile.dump_stats(os.environ["BENCH_CPROFILE_OUT"])


signal.signal(signal.SIGUSR1, _start)
signal.signal(signal.SIGUSR2, _stop)
'''


def _install_cprofile(work: Path, env: dict[str, str], out: Path) -> dict[str, str]:
    hook = work / "cprofile-hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(CPROFILE_HOOK)
    paths = [str(hook), *filter(None, [env.get("PYTHONPATH", "")])]
    return {
        **env,
        "PYTHONPATH": os.pathsep.join(paths),
        "BENCH_CPROFILE_OUT": str(out / "cprofile.prof"),
    }


def _cprofile_summary(out: Path) -> None:
    stream = io.StringIO()
    stats = pstats.Stats(str(out / "cprofile.prof"), stream=stream)
    stats.sort_stats("tottime").print_stats(60)
    stats.sort_stats("cumulative").print_stats(80)
    (out / "cprofile.txt").write_text(stream.getvalue())


def _user_system(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__)
    parser.add_argument("label", help="output folder name under bench/results/profiles/")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="sqlite")
    parser.add_argument("--pairs", type=int, default=25)
    parser.add_argument(
        "--idle", type=int, default=0, help="extra idle connections (one device, no conversation)"
    )
    parser.add_argument(
        "--event",
        choices=("message.send", "typing"),
        default="message.send",
        help="what the devices send (typing: the ephemeral relay)",
    )
    parser.add_argument("--rate", type=int, default=40, help="offered msg/s")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--sample-rate", type=int, default=250, help="py-spy samples/s")
    parser.add_argument("--raw-only", action="store_true", help="only the collapsed stacks")
    parser.add_argument(
        "--native", action="store_true", help="include C frames (pauses the server per sample)"
    )
    parser.add_argument(
        "--gc-probe", action="store_true", help="report collections of 20 ms or more"
    )
    parser.add_argument(
        "--cprofile",
        action="store_true",
        help="also cProfile the event loop thread (deterministic, slows the server)",
    )
    parser.add_argument(
        "--no-spy", action="store_true", help="no sampling: only CPU per message (no overhead)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = PROFILES_DIR / args.label
    out.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(_profile(args, out))
    (out / "result.json").write_text(json.dumps(result, indent=2))
    if (out / "stacks.txt").exists() and not args.no_spy:
        (out / "summary.txt").write_text(summarise(out / "stacks.txt"))
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
