"""`python -m bench calls`: call set-up latency on a real `rtserver serve` (docs/calls.md).

1. Set-up storm: N conversations (default 500), each with a caller and a callee device on its
   own Socket.IO connection (python-socketio, all in this process, pinned to its own core; the
   server on another). All N callers send `call.invite` at once, each with one real aiortc offer
   signed for its call (so the server verifies N signatures); each callee sends `call.answer`
   (a real aiortc answer, signed) the moment its `call.incoming` arrives. Per call: invite ->
   call.incoming at the callee, call.answer -> call.answered at the caller, both acks; then
   every caller hangs up (hangup ack, call.ended at the callee).
2. First media: aiortc calls aiortc through the same server on loopback (rtclient.calls), one
   call at a time: from place_call to the first decoded video and audio frame on each side.

    python -m bench calls [--calls 500] [--media-trials 5] [--database sqlite|postgresql]

Results: bench/results/calls-<database>.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import aioice.ice
import socketio
from aiortc import RTCPeerConnection

from bench.population import Device, Pair, make_pairs
from bench.procstat import CpuMeter, pids_with, pin, usable_cpus
from bench.servers import Deployment, cluster
from bench.steps import wait_for_quiet_host
from rtclient.calls import CallDevice
from rtclient.crypto import sign_sdp
from rtclient.ice import split_candidates
from rtclient.keyring import Keyring
from rtclient.media import local_tracks

RESULTS_DIR = Path(__file__).resolve().parent / "results"
CONNECTS_IN_FLIGHT = 100
STORM_TIMEOUT = 120.0


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: Sequence[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p99_ms": round(percentile(values, 0.99), 2),
        "max_ms": round(max(values), 2),
    }


def _loopback(use_ipv4: bool = True, use_ipv6: bool = True) -> list[str]:
    return ["127.0.0.1"]


def loopback_only() -> None:
    """aioice offers every interface address except loopback; keep media on 127.0.0.1."""
    aioice.ice.get_host_addresses = _loopback


async def real_sdp() -> tuple[str, str]:
    """One genuine aiortc video offer and its answer (candidates trickle separately)."""
    caller, callee = RTCPeerConnection(), RTCPeerConnection()
    try:
        for pc in (caller, callee):
            for track in local_tracks(("audio", "video")):
                pc.addTrack(track)
        await caller.setLocalDescription(await caller.createOffer())
        await callee.setRemoteDescription(caller.localDescription)
        await callee.setLocalDescription(await callee.createAnswer())
        return (
            split_candidates(caller.localDescription.sdp)[0],
            split_candidates(callee.localDescription.sdp)[0],
        )
    finally:
        await caller.close()
        await callee.close()


async def open_socket(url: str, token: str) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
    return sio


@dataclass
class Setup:
    """One call of the storm: its two sockets, its pre-signed SDP and what happened when."""

    pair: Pair
    caller: socketio.AsyncClient
    callee: socketio.AsyncClient
    invite: dict[str, Any]
    answer: dict[str, Any]
    at: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def ms(self, start: str, end: str) -> float | None:
        if start in self.at and end in self.at:
            return (self.at[end] - self.at[start]) * 1000
        return None


def signed(device: Device, call_id: str, kind: str, sdp: str) -> dict[str, str]:
    return {"type": kind, "sdp": sdp, "signature": sign_sdp(device.identity, call_id, kind, sdp)}


async def prepare(url: str, pairs: list[Pair], offer: str, answer: str) -> list[Setup]:
    limit = asyncio.Semaphore(CONNECTS_IN_FLIGHT)

    async def one(pair: Pair) -> Setup:
        call_id = str(uuid.uuid4())
        async with limit:
            caller = await open_socket(url, pair.client.token)
            callee = await open_socket(url, pair.counselor.token)
        setup = Setup(
            pair,
            caller,
            callee,
            invite={
                "call_id": call_id,
                "conversation_id": pair.conversation_id,
                "media": "video",
                "sdp": signed(pair.client, call_id, "offer", offer),
            },
            answer={"call_id": call_id, "sdp": signed(pair.counselor, call_id, "answer", answer)},
        )
        wire(setup)
        return setup

    return list(await asyncio.gather(*(one(pair) for pair in pairs)))


def wire(setup: Setup) -> None:
    async def on_incoming(event: dict[str, Any]) -> None:
        setup.at["incoming"] = time.perf_counter()
        setup.at["answer"] = time.perf_counter()
        reply = await setup.callee.call("call.answer", setup.answer, timeout=STORM_TIMEOUT)
        setup.at["answer_ack"] = time.perf_counter()
        if not reply.get("ok"):
            setup.errors.append(f"answer: {reply.get('error')}")

    async def on_answered(event: dict[str, Any]) -> None:
        setup.at["answered"] = time.perf_counter()
        setup.answered.set()

    async def on_ended(event: dict[str, Any]) -> None:
        setup.at["ended"] = time.perf_counter()
        setup.ended.set()

    setup.callee.on("call.incoming", on_incoming)
    setup.caller.on("call.answered", on_answered)
    setup.callee.on("call.ended", on_ended)


async def storm(setups: list[Setup]) -> dict[str, Any]:
    async def invite(setup: Setup) -> None:
        setup.at["invite"] = time.perf_counter()
        reply = await setup.caller.call("call.invite", setup.invite, timeout=STORM_TIMEOUT)
        setup.at["invite_ack"] = time.perf_counter()
        if not reply.get("ok"):
            setup.errors.append(f"invite: {reply.get('error')}")
            setup.answered.set()

    started = time.perf_counter()
    await asyncio.gather(*(invite(s) for s in setups))
    await asyncio.wait_for(asyncio.gather(*(s.answered.wait() for s in setups)), STORM_TIMEOUT)
    set_up_seconds = time.perf_counter() - started

    async def hangup(setup: Setup) -> None:
        setup.at["hangup"] = time.perf_counter()
        call_id = setup.invite["call_id"]
        reply = await setup.caller.call("call.hangup", {"call_id": call_id}, timeout=60)
        setup.at["hangup_ack"] = time.perf_counter()
        if not reply.get("ok"):
            setup.errors.append(f"hangup: {reply.get('error')}")
            setup.ended.set()

    await asyncio.gather(*(hangup(s) for s in setups if "answered" in s.at))
    ended = [s.ended.wait() for s in setups if "answered" in s.at]
    await asyncio.wait_for(asyncio.gather(*ended), STORM_TIMEOUT)

    def timings(start: str, end: str) -> list[float]:
        return [v for s in setups if (v := s.ms(start, end)) is not None]

    errors = [e for s in setups for e in s.errors]
    return {
        "calls": len(setups),
        "answered": sum(1 for s in setups if "answered" in s.at),
        "errors": errors[:20],
        "error_count": len(errors),
        "set_up_seconds": round(set_up_seconds, 3),
        "calls_set_up_per_s": round(len(setups) / set_up_seconds, 1),
        "invite_to_incoming": summary(timings("invite", "incoming")),
        "invite_ack": summary(timings("invite", "invite_ack")),
        "answer_to_answered": summary(timings("answer", "answered")),
        "answer_ack": summary(timings("answer", "answer_ack")),
        "invite_to_answered": summary(timings("invite", "answered")),
        "hangup_ack": summary(timings("hangup", "hangup_ack")),
        "hangup_to_ended": summary(timings("hangup", "ended")),
    }


async def first_media(url: str, pair: Pair, trials: int) -> dict[str, Any]:
    """aiortc to aiortc on loopback through the server, one call at a time."""
    loopback_only()
    rows: dict[str, list[float]] = {}
    async with aiohttp.ClientSession() as http:
        caller_sio = await open_socket(url, pair.client.token)
        callee_sio = await open_socket(url, pair.counselor.token)
        caller = CallDevice(caller_sio, pair.client.identity, Keyring(url, pair.client.token, http))
        callee = CallDevice(
            callee_sio, pair.counselor.identity, Keyring(url, pair.counselor.token, http)
        )
        try:
            for trial in range(trials + 1):  # the first, untimed, warms up codecs and imports
                started = time.perf_counter()
                outgoing = await caller.place_call(pair.conversation_id, "video")
                incoming = await callee.next_incoming()
                answered = time.perf_counter()
                await incoming.answer()
                for call, side in ((outgoing, "caller"), (incoming, "callee")):
                    for kind in ("video", "audio"):
                        await call.frames.wait_for(kind, 1, timeout=20)
                        if trial == 0:
                            continue
                        at = call.frames.first_frame_at[kind]
                        rows.setdefault(f"invite_to_first_{kind}_{side}", []).append(
                            (at - started) * 1000
                        )
                        rows.setdefault(f"answer_to_first_{kind}_{side}", []).append(
                            (at - answered) * 1000
                        )
                await outgoing.hangup()
                await incoming.wait_ended()
        finally:
            await caller.close()
            await callee.close()
            for sio in (caller_sio, callee_sio):
                await sio.disconnect()
    return {"trials": trials, **{name: summary(values) for name, values in rows.items()}}


async def run(database: str, calls: int, trials: int) -> dict[str, Any]:
    started = time.time()
    everywhere = set(usable_cpus())
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as tmp:
        deployment = Deployment(database, "postgresql" if database == "postgresql" else "sqlite")
        async with cluster(deployment, Path(tmp)) as nodes:
            url = nodes.urls[0]
            t0 = time.monotonic()
            pairs = await make_pairs(nodes.urls, nodes.admin_login, nodes.admin_password, calls + 1)
            setup_seconds = time.monotonic() - t0
            if len(everywhere) >= 2:
                cpus = sorted(everywhere)
                for pid in nodes.pids:
                    pin(pid, {cpus[0]})
                os.sched_setaffinity(0, {cpus[1]})
            try:
                offer, answer = await real_sdp()
                setups = await prepare(url, pairs[:calls], offer, answer)
                groups = {"server": nodes.pids, "clients (this process)": [os.getpid()]}
                if nodes.database_name:
                    groups["postgres"] = pids_with("postgres", nodes.database_name)
                outside_before = await wait_for_quiet_host(lambda: groups)
                meter = CpuMeter(groups)
                try:
                    meter.start()
                    stormed = await storm(setups)
                    stormed["cpu_percent_of_one_core"] = meter.stop()
                    stormed["outside_cpu_before_percent"] = outside_before
                finally:
                    for setup in setups:
                        for sio in (setup.caller, setup.callee):
                            with contextlib.suppress(Exception):
                                await sio.disconnect()
                media = await first_media(url, pairs[calls], trials)
            finally:
                os.sched_setaffinity(0, everywhere)
    return {
        "benchmark": "calls",
        "database": database,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": {"nproc": os.cpu_count(), "python": sys.version.split()[0]},
        "pinning": "server on the first core, this process (all clients, aiortc) on the second"
        + ("; PostgreSQL unpinned" if database == "postgresql" else ""),
        "offer_sdp_bytes": len(offer),
        "setup_seconds": round(setup_seconds, 1),
        "storm": stormed,
        "first_media": media,
        "duration_seconds": round(time.time() - started, 1),
    }


def table(result: dict[str, Any]) -> str:
    s, m = result["storm"], result["first_media"]

    def cell(entry: dict[str, Any]) -> str:
        return f"{entry.get('p50_ms', '-')} ms / {entry.get('p99_ms', '-')} ms"

    rows = [
        (
            "calls set up at once",
            f"{s['calls']} ({s['answered']} answered, {s['error_count']} errors)",
        ),
        ("invite -> call.incoming, p50 / p99", cell(s["invite_to_incoming"])),
        ("call.answer -> call.answered, p50 / p99", cell(s["answer_to_answered"])),
        ("invite ack, p50 / p99", cell(s["invite_ack"])),
        ("answer ack, p50 / p99", cell(s["answer_ack"])),
        ("all calls ringing and answered in", f"{s['set_up_seconds']} s"),
        (
            "CPU meanwhile, % of one core",
            ", ".join(f"{k} {v}" for k, v in s["cpu_percent_of_one_core"].items()),
        ),
        ("hangup -> call.ended, p50 / p99", cell(s["hangup_to_ended"])),
        (
            f"place_call -> first video frame at callee ({m['trials']} calls)",
            cell(m.get("invite_to_first_video_callee", {})),
        ),
        ("answer -> first video frame at caller", cell(m.get("answer_to_first_video_caller", {}))),
        ("answer -> first audio frame at caller", cell(m.get("answer_to_first_audio_caller", {}))),
    ]
    lines = [f"| calls benchmark ({result['database']}) | |", "| --- | --- |"]
    return "\n".join(lines + [f"| {name} | {value} |" for name, value in rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench calls", description=__doc__)
    parser.add_argument("--calls", type=int, default=500, help="calls set up at once")
    parser.add_argument("--media-trials", type=int, default=5, help="aiortc calls to time")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where JSON goes")
    args = parser.parse_args(argv)
    print(f"calls benchmark: {args.calls} calls, {args.database}", flush=True)
    result = asyncio.run(run(args.database, args.calls, args.media_trials))
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"calls-{args.database}.json"
    out.write_text(json.dumps(result, indent=2))
    print(table(result))
    print(f"\nfull results: {out}")
    return 0 if result["storm"]["error_count"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
