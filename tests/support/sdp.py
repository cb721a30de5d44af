"""Signed SDP for signalling tests: well-formed descriptions signed by a test device, as a real
client would send them (tests with real media use aiortc's and Chromium's own SDP)."""

from __future__ import annotations

import secrets
from typing import Any

from rtclient.crypto import DeviceIdentity, sign_sdp


def fake_sdp(kind: str = "offer") -> str:
    fingerprint = ":".join(f"{b:02X}" for b in secrets.token_bytes(32))
    setup = "actpass" if kind == "offer" else "active"
    return "\r\n".join(
        [
            "v=0",
            f"o=- {secrets.randbelow(10**9)} 2 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "c=IN IP4 0.0.0.0",
            "a=mid:0",
            f"a=fingerprint:sha-256 {fingerprint}",
            f"a=setup:{setup}",
            "a=rtpmap:111 opus/48000/2",
            "",
        ]
    )


def signed_sdp(device: DeviceIdentity, call_id: str, kind: str, sdp: str | None = None) -> Any:
    body = sdp if sdp is not None else fake_sdp(kind)
    return {"type": kind, "sdp": body, "signature": sign_sdp(device, call_id, kind, body)}


CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdp_mid": "0",
    "sdp_mline_index": 0,
}
