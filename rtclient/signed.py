"""The exact bytes that get signed (the server's rtserver/domain/keys.py spells the same; a test
checks they agree). Canonical JSON: sorted keys, no spaces, ASCII, after a purpose line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

DEVICE_KEYS = "rtserver-device-keys-v1"
DEVICE_LIST = "rtserver-device-list-v1"
ENVELOPE = "rtserver-envelope-v1"
SDP = "rtserver-sdp-v1"


def canonical(purpose: str, body: Mapping[str, Any]) -> bytes:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{purpose}\n{text}".encode("ascii")


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


def sdp_body(call_id: str, kind: str, sdp: str, sender_device_id: str) -> bytes:
    return canonical(
        SDP, {"call_id": call_id, "type": kind, "sdp": sdp, "sender_device_id": sender_device_id}
    )
