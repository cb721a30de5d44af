"""E2EE key rules: what is signed, in which exact bytes, and who must be covered.

Every signed structure is domain-separated and canonical (sorted keys, compact, ASCII JSON),
so the Python SDK, the browser module and the server sign and verify the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.signing

DEVICE_KEYS = "rtserver-device-keys-v1"
DEVICE_LIST = "rtserver-device-list-v1"
ENVELOPE = "rtserver-envelope-v1"
SDP = "rtserver-sdp-v1"


def canonical(purpose: str, body: Mapping[str, Any]) -> bytes:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{purpose}\n{text}".encode("ascii")


def b64decode(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def verify(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    """Ed25519 verification; False for any malformed key or signature."""
    try:
        nacl.signing.VerifyKey(b64decode(public_key_b64)).verify(message, b64decode(signature_b64))
    except (
        nacl.exceptions.BadSignatureError,
        nacl.exceptions.ValueError,
        binascii.Error,
        ValueError,
        TypeError,
    ):
        return False
    return True


def device_keys_body(user_id: str, device_id: str, signing_key: str, encryption_key: str) -> bytes:
    return canonical(
        DEVICE_KEYS,
        {
            "user_id": user_id,
            "device_id": device_id,
            "signing_key": signing_key,
            "encryption_key": encryption_key,
        },
    )


def device_list_body(user_id: str, version: int, device_ids: Iterable[str]) -> bytes:
    return canonical(
        DEVICE_LIST, {"user_id": user_id, "version": version, "devices": sorted(device_ids)}
    )


def envelope_body(
    envelope: Mapping[str, Any],
    conversation_id: str,
    member_ids: Iterable[str],
    sender_user_id: str,
    client_msg_id: str,
) -> bytes:
    """What a sender signs: the envelope bound to its conversation, members and client id, so
    it cannot be re-addressed or replayed elsewhere."""
    return canonical(
        ENVELOPE,
        {
            "v": envelope["v"],
            "conversation_id": conversation_id,
            "members": sorted(member_ids),
            "sender_user_id": sender_user_id,
            "sender_device_id": envelope["sender_device_id"],
            "client_msg_id": client_msg_id,
            "ephemeral_key": envelope["ephemeral_key"],
            "nonce": envelope["nonce"],
            "ciphertext": envelope["ciphertext"],
            "recipients": sorted(
                ({"device_id": r["device_id"], "key": r["key"]} for r in envelope["recipients"]),
                key=lambda r: r["device_id"],
            ),
        },
    )


@dataclass(frozen=True)
class Coverage:
    missing: list[dict[str, str]]
    unknown: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.unknown


def coverage(
    current_devices: Mapping[str, Iterable[str]], recipient_device_ids: Iterable[str]
) -> Coverage:
    """Every current device of every member (user -> device ids) must be a recipient, and no
    recipient may be anything else."""
    wanted = {d: u for u, devices in current_devices.items() for d in devices}
    given = set(recipient_device_ids)
    return Coverage(
        missing=[{"user_id": wanted[d], "device_id": d} for d in sorted(set(wanted) - given)],
        unknown=sorted(given - set(wanted)),
    )


def sdp_body(call_id: str, kind: str, sdp: str, sender_device_id: str) -> bytes:
    """What a device signs for a call's offer or answer (rtclient.signed.sdp_body)."""
    return canonical(
        SDP, {"call_id": call_id, "type": kind, "sdp": sdp, "sender_device_id": sender_device_id}
    )
