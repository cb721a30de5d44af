"""Call quality from aiortc's getStats(), as the `call.stats` report a device sends."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from aiortc import RTCPeerConnection
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCTransportStats,
)

from rtclient.ice import is_relayed

CLOCK_RATES = {"audio": 48_000, "video": 90_000}  # Opus and VP8/H.264 RTP clocks


@dataclass(frozen=True)
class QualityReport:
    rtt_ms: float | None
    jitter_ms: float | None
    packet_loss_pct: float | None
    bitrate_kbps: float | None
    relayed: bool

    def payload(self, call_id: str) -> dict[str, object]:
        return {"call_id": call_id, **asdict(self)}


class QualitySampler:
    """Turns successive getStats() snapshots into reports. Bitrate is what this device
    received over the transport since the previous sample (or since the sampler started)."""

    def __init__(self) -> None:
        self._last = (time.monotonic(), 0)

    async def sample(self, pc: RTCPeerConnection) -> QualityReport:
        stats = await pc.getStats()
        now = time.monotonic()
        rtts = [
            s.roundTripTime * 1000
            for s in stats.values()
            if isinstance(s, RTCRemoteInboundRtpStreamStats) and s.roundTripTime is not None
        ]
        inbound = [s for s in stats.values() if isinstance(s, RTCInboundRtpStreamStats)]
        jitters = [s.jitter * 1000 / CLOCK_RATES.get(s.kind, 90_000) for s in inbound]
        received = sum(s.packetsReceived for s in inbound)
        lost = sum(max(0, s.packetsLost) for s in inbound)
        transport_bytes = sum(
            s.bytesReceived for s in stats.values() if isinstance(s, RTCTransportStats)
        )
        bitrate = None
        if now > self._last[0]:
            bitrate = max(0, transport_bytes - self._last[1]) * 8 / (now - self._last[0]) / 1000
        self._last = (now, transport_bytes)
        return QualityReport(
            rtt_ms=round(sum(rtts) / len(rtts), 3) if rtts else None,
            jitter_ms=round(max(jitters), 3) if jitters else None,
            packet_loss_pct=round(100 * lost / (received + lost), 3) if received + lost else None,
            bitrate_kbps=round(bitrate, 3) if bitrate is not None else None,
            relayed=is_relayed(pc),
        )

    def restart(self) -> None:
        """A new peer connection: its byte counters start at zero."""
        self._last = (time.monotonic(), 0)
