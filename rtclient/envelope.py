"""Envelope v1 shape helpers. Until device keys exist (E2EE issue) the content here is sealed
with a random key that is wrapped for nobody in particular: the server only ever sees bytes."""

from __future__ import annotations

import base64
from typing import Any

import nacl.secret
import nacl.utils


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sealed_envelope(
    sender_device_id: str, recipient_device_ids: list[str], content: bytes
) -> dict[str, Any]:
    key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
    box = nacl.secret.SecretBox(key)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = box.encrypt(content, nonce).ciphertext
    return {
        "v": 1,
        "sender_device_id": sender_device_id,
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
        "recipients": [
            {"device_id": device_id, "key": _b64(nacl.utils.random(80))}
            for device_id in recipient_device_ids or [sender_device_id]
        ],
        "signature": _b64(nacl.utils.random(64)),
    }
