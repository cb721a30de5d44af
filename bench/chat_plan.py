"""The load generator's plan for durable 1:1 chat: which node each device talks to, and the
envelope each device re-signs for every message it sends.

Each device seals one real E2EE envelope (rtclient.crypto.seal, for both devices of its
conversation) and the generator signs it anew per message, because the signature binds the
client_msg_id. The signed bytes are cut around a placeholder id here, so the Node side never
has to reimplement the canonical JSON; a probe signature checks that both sides agree.

By default the envelope is exactly what rtclient seals for a short line (985 bytes of JSON for
two recipient devices: the content is padded to 256 bytes). A benchmark may ask for another
size: the ciphertext is then replaced by random bytes of the length that makes the envelope
that size (the server cannot tell: it checks shape, signature and device coverage, never the
plaintext), and the envelope is signed anew over the resized body.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from bench.population import Device, Pair
from rtclient import signed
from rtclient.crypto import seal

WORKLOAD = "chat.e2ee"
# A short chat line; padded by the client to its smallest size bucket (256 bytes).
CONTENT = b"Thanks for today. I tried the breathing exercise before my exam and it helped a bit."
PLACEHOLDER = "client-msg-id-placeholder"
PROBE_ID = "probe-1"
MIN_CIPHERTEXT = 17  # bytes: a secretbox of one byte (what the server's schema accepts)


def _signed_parts(device: Device, pair: Pair, envelope: dict[str, Any]) -> tuple[str, str]:
    body = signed.envelope_body(
        envelope, pair.conversation_id, pair.members, device.user_id, PLACEHOLDER
    ).decode("ascii")
    parts = body.split(json.dumps(PLACEHOLDER))
    if len(parts) != 2:
        raise ValueError("the client_msg_id must appear exactly once in the signed body")
    return parts[0], parts[1]


def wire_bytes(envelope: dict[str, Any]) -> int:
    """Its size as sent: compact JSON."""
    return len(json.dumps(envelope, separators=(",", ":")))


def _resized(device: Device, pair: Pair, envelope: dict[str, Any], size: int) -> dict[str, Any]:
    """`envelope` with a random ciphertext making it `size` bytes of JSON (rounded down to
    base64's 4-character steps), signed again."""
    base = wire_bytes({**envelope, "ciphertext": ""})
    length = (size - base) // 4 * 3
    if length < MIN_CIPHERTEXT:
        smallest = base + 4 * -(-MIN_CIPHERTEXT // 3)
        raise ValueError(f"an envelope for {len(pair.members)} devices has at least {smallest} B")
    resized = {**envelope, "ciphertext": base64.b64encode(os.urandom(length)).decode()}
    del resized["signature"]
    body = signed.envelope_body(
        resized, pair.conversation_id, pair.members, device.user_id, PLACEHOLDER
    )
    signature = device.identity.signing_key.sign(body).signature
    return {**resized, "signature": base64.b64encode(signature).decode()}


def sealed_envelope(device: Device, pair: Pair, size: int | None = None) -> dict[str, Any]:
    """A real envelope as rtclient sends it (signature included, for a placeholder id);
    resized to `size` bytes of JSON when given."""
    envelope = seal(
        device.identity,
        pair.conversation_id,
        pair.members,
        PLACEHOLDER,
        CONTENT,
        [pair.counselor.peer, pair.client.peer],
    )
    return envelope if size is None else _resized(device, pair, envelope, size)


def envelope_bytes(pair: Pair, size: int | None = None) -> int:
    """Size of one envelope as JSON on the wire (what chat_max_envelope_bytes limits)."""
    return wire_bytes(sealed_envelope(pair.client, pair, size))


def chat_plan(pairs: list[Pair], urls: list[str], size: int | None = None) -> dict[str, Any]:
    """Devices in pair order (counselor, client). With several nodes the two devices of a
    conversation always sit on different nodes, so every message crosses the Redis bus.
    `size`: envelope bytes (default: the real sealed envelope, see the module's docstring)."""
    devices: list[dict[str, Any]] = []
    for number, pair in enumerate(pairs):
        for side, device in enumerate((pair.counselor, pair.client)):
            envelope = sealed_envelope(device, pair, size)
            del envelope["signature"]
            prefix, suffix = _signed_parts(device, pair, envelope)
            devices.append(
                {
                    "url": urls[(number + side) % len(urls)],
                    "token": device.token,
                    "conversation_id": pair.conversation_id,
                    "envelope": envelope,
                    "signed_prefix": prefix,
                    "signed_suffix": suffix,
                    "signing_seed": base64.b64encode(bytes(device.identity.signing_key)).decode(),
                    "peer": 2 * number + 1 - side,  # the other device's index
                }
            )
    first = devices[0]
    probe_body = first["signed_prefix"] + json.dumps(PROBE_ID) + first["signed_suffix"]
    probe = pairs[0].counselor.identity.signing_key.sign(probe_body.encode("ascii")).signature
    return {
        "workload": WORKLOAD,
        "probe": {
            "device": 0,
            "client_msg_id": PROBE_ID,
            "signature": base64.b64encode(probe).decode(),
        },
        "devices": devices,
    }
