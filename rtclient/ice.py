"""ICE for calls: servers and policy from GET /api/v1/turn, trickled candidates on the wire, and
which candidate pair a peer connection ended up on.

aiortc gathers every candidate inside setLocalDescription. We take them out of the SDP we sign
and send them one by one as `call.candidate` (as a browser trickles), each tagged with the ICE
ufrag of the peer connection that gathered it, so that after an ICE restart a late candidate is
never fed to the wrong connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCIceCandidate, RTCIceServer, RTCPeerConnection
from aiortc.rtcconfiguration import RTCBundlePolicy, RTCIceTransportPolicy
from aiortc.sdp import candidate_from_sdp

from rtclient.errors import CallError

_UFRAG = re.compile(r"^a=ice-ufrag:(\S+)$", re.MULTILINE)


class IceError(CallError):
    """No usable ICE: `turn_unavailable` (relay-only and TURN refused us), `no_candidates`."""


@dataclass(frozen=True)
class IceConfig:
    servers: tuple[RTCIceServer, ...]
    relay_only: bool

    def rtc_configuration(self) -> RTCConfiguration:
        """An explicit (possibly empty) server list: aiortc's default would be a public STUN
        server. max-bundle: one transport, one TURN allocation per call."""
        return RTCConfiguration(
            iceServers=list(self.servers),
            iceTransportPolicy=(
                RTCIceTransportPolicy.RELAY if self.relay_only else RTCIceTransportPolicy.ALL
            ),
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        )


def ice_config_from(body: dict[str, Any]) -> IceConfig:
    servers = tuple(
        RTCIceServer(
            urls=list(entry["urls"]),
            username=entry.get("username"),
            credential=entry.get("credential"),
        )
        for entry in body.get("ice_servers", [])
    )
    relay = body.get("ice_transport_policy") == "relay" or bool(body.get("prefer_relay"))
    return IceConfig(servers, relay)


async def fetch_ice_config(http: aiohttp.ClientSession, base_url: str, token: str) -> IceConfig:
    """Fresh servers and TURN credentials (they expire, so fetch before each negotiation)."""
    async with http.get(
        f"{base_url}/api/v1/turn",
        headers={"Authorization": f"Bearer {token}"},
        timeout=aiohttp.ClientTimeout(total=10),
    ) as response:
        body = await response.json()
        if response.status != 200:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise IceError(str(error.get("code", response.status)), "cannot fetch ICE servers")
        return ice_config_from(body)


def ice_ufrag(sdp: str) -> str | None:
    found = _UFRAG.search(sdp.replace("\r\n", "\n"))
    return found.group(1) if found else None


def split_candidates(sdp: str) -> tuple[str, list[dict[str, Any]]]:
    """The SDP without candidate lines, and the bundle transport's candidates (those of the
    first m-section) as `call.candidate` payloads, tagged with the SDP's ufrag."""
    ufrag = ice_ufrag(sdp)
    kept: list[str] = []
    candidates: list[dict[str, Any]] = []
    section, mid = -1, "0"
    for line in sdp.split("\r\n"):
        if line.startswith("m="):
            section += 1
        elif line.startswith("a=mid:") and section == 0:
            mid = line.removeprefix("a=mid:")
        if line.startswith("a=candidate:"):
            if section == 0:
                text = line.removeprefix("a=")
                candidates.append({"candidate": f"{text} ufrag {ufrag}" if ufrag else text})
            continue
        if line == "a=end-of-candidates":
            continue
        kept.append(line)
    for payload in candidates:
        payload.update(sdp_mid=mid, sdp_mline_index=0)
    end = {"candidate": "", "sdp_mid": mid, "sdp_mline_index": 0}
    return "\r\n".join(kept), [*candidates, end]


@dataclass(frozen=True)
class RemoteCandidate:
    candidate: RTCIceCandidate | None  # None: end of candidates
    ufrag: str | None


def parse_candidate(payload: dict[str, Any]) -> RemoteCandidate:
    """A `call.candidate` payload as aiortc wants it; raises ValueError if malformed."""
    text = str(payload.get("candidate") or "")
    ufrag = _attribute(text, "ufrag")
    if not text:
        return RemoteCandidate(None, ufrag)
    body = text.removeprefix("a=").removeprefix("candidate:")
    try:
        candidate = candidate_from_sdp(body)
    except (AssertionError, ValueError, IndexError) as exc:
        raise ValueError(f"not an ICE candidate: {text!r}") from exc
    candidate.sdpMid = payload.get("sdp_mid")
    index = payload.get("sdp_mline_index")
    candidate.sdpMLineIndex = int(index) if index is not None else None
    if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
        candidate.sdpMLineIndex = 0
    return RemoteCandidate(candidate, ufrag)


def _attribute(candidate: str, name: str) -> str | None:
    bits = candidate.split()
    for index in range(8, len(bits) - 1):
        if bits[index] == name:
            return bits[index + 1]
    return None


def local_candidate_types(pc: RTCPeerConnection) -> set[str]:
    types: set[str] = set()
    for transceiver in pc.getTransceivers():
        gatherer = transceiver.sender.transport.transport.iceGatherer
        types |= {candidate.type for candidate in gatherer.getLocalCandidates()}
    return types


def selected_pair_types(pc: RTCPeerConnection) -> tuple[str, str] | None:
    """(local, remote) candidate types of the nominated pair, or None before ICE completes.

    aiortc's getStats() has no candidate-pair entries, so this reads aioice's nominated pair
    (`Connection._nominated`, aioice 0.10 to 0.13) defensively."""
    for transceiver in pc.getTransceivers():
        connection = transceiver.sender.transport.transport._connection
        nominated = getattr(connection, "_nominated", None) or {}
        for pair in nominated.values():
            return str(pair.local_candidate.type), str(pair.remote_candidate.type)
    return None


def is_relayed(pc: RTCPeerConnection) -> bool:
    pair = selected_pair_types(pc)
    return pair is not None and "relay" in pair
