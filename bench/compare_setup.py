"""What `python -m bench compare` runs: its profiles (rate ladders, sizes) and the load
generator's plans (who connects where and sends what)."""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.chat_plan import wire_bytes
from bench.population import Pair

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
        base = wire_bytes(envelope)
        length = max((size - base) // 4 * 3, 17)
    envelope["ciphertext"] = _b64(length)
    return envelope


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
