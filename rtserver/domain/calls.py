"""Call rules: who may do what to a call in which state, how it ends, and its quality summary.

Pure functions over a `Call` value; the service loads, applies and stores. See docs/calls.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class CallMedia(StrEnum):
    AUDIO = "audio"
    VIDEO = "video"


class CallState(StrEnum):
    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(StrEnum):
    HANGUP = "hangup"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    MISSED = "missed"
    BUSY = "busy"
    CONNECTION_LOST = "connection_lost"
    SWITCHED_TO_CHAT = "switched_to_chat"


class Side(StrEnum):
    CALLER = "caller"
    CALLEE = "callee"


class CallRuleError(Exception):
    """A call operation that the rules refuse; `code` is the stable wire code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Call:
    id: str
    conversation_id: str
    session_id: str | None
    caller_id: str
    caller_device_id: str
    callee_id: str
    answered_device_id: str | None
    media: CallMedia
    media_used: tuple[CallMedia, ...]
    state: CallState
    created_at: datetime
    ring_deadline: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    ended_by_user_id: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        """Talk time: from the answer to the end (None if never answered or still going)."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return round((self.ended_at - self.answered_at).total_seconds(), 3)

    def participant(self, user_id: str) -> bool:
        return user_id in (self.caller_id, self.callee_id)

    def side_of_device(self, device_id: str) -> Side | None:
        """Which side this device plays in the call (a ringing callee device plays none yet)."""
        if device_id == self.caller_device_id:
            return Side.CALLER
        if self.answered_device_id is not None and device_id == self.answered_device_id:
            return Side.CALLEE
        return None

    def peer_device(self, device_id: str) -> str | None:
        side = self.side_of_device(device_id)
        if side is Side.CALLER:
            return self.answered_device_id
        if side is Side.CALLEE:
            return self.caller_device_id
        return None


def _require_not_ended(call: Call) -> None:
    if call.state is CallState.ENDED:
        raise CallRuleError("call_ended", "the call has ended")


def answer(call: Call, user_id: str, device_id: str, now: datetime) -> Call:
    """The first callee device to answer a ringing call takes it."""
    if user_id != call.callee_id:
        raise CallRuleError("call_not_found", "no such call")
    _require_not_ended(call)
    if call.state is CallState.ACTIVE:
        raise CallRuleError("call_taken", "another device answered this call")
    return replace(call, state=CallState.ACTIVE, answered_device_id=device_id, answered_at=now)


def reject(call: Call, user_id: str, now: datetime) -> Call:
    """A callee device declines: the ringing stops on every device."""
    if user_id != call.callee_id:
        raise CallRuleError("call_not_found", "no such call")
    _require_not_ended(call)
    if call.state is CallState.ACTIVE:
        raise CallRuleError("call_taken", "the call was answered; hang up instead")
    return end(call, EndReason.REJECTED, user_id, now)


def hangup(
    call: Call, user_id: str, device_id: str, reason: EndReason | None, now: datetime
) -> Call:
    """The caller device (ringing or active) or the answering device (active) ends the call."""
    if not call.participant(user_id):
        raise CallRuleError("call_not_found", "no such call")
    _require_not_ended(call)
    if call.side_of_device(device_id) is None:
        raise CallRuleError("not_in_call", "this device is not in the call")
    if call.state is CallState.RINGING:
        return end(call, EndReason.CANCELLED, user_id, now)
    return end(call, reason or EndReason.HANGUP, user_id, now)


def end(call: Call, reason: EndReason, by_user_id: str | None, now: datetime) -> Call:
    return replace(
        call, state=CallState.ENDED, end_reason=reason, ended_at=now, ended_by_user_id=by_user_id
    )


def require_in_call(call: Call, user_id: str, device_id: str) -> Side:
    """For candidates, renegotiation, resume and stats: the device must be one of the two."""
    if not call.participant(user_id):
        raise CallRuleError("call_not_found", "no such call")
    _require_not_ended(call)
    side = call.side_of_device(device_id)
    if side is None:
        raise CallRuleError("not_in_call", "this device is not in the call")
    return side


def change_media(call: Call, media: CallMedia) -> Call:
    if call.state is not CallState.ACTIVE:
        raise CallRuleError("call_not_active", "the call has not been answered")
    used = call.media_used if media in call.media_used else (*call.media_used, media)
    return replace(call, media=media, media_used=used)


# --- what crosses the server unread but must be well-formed ---------------------------------

_CANDIDATE = re.compile(
    r"^(?:a=)?candidate:[!-~]{1,32} \d{1,3} (?:udp|tcp|UDP|TCP) \d{1,10} "
    r"[0-9A-Za-z.:%\-]{1,64} \d{1,5} typ (?:host|srflx|prflx|relay)(?: [ -~]*)?$"
)


def check_sdp(sdp: str, kind: str) -> None:
    """An SDP the peer can use: a session description with media and a DTLS fingerprint.

    The server never parses it further; the receiving device verifies its signature."""
    lines = [line for line in re.split(r"\r?\n", sdp) if line]
    if not lines or lines[0] != "v=0":
        raise CallRuleError("bad_sdp", f"the {kind} is not a session description (v=0 first)")
    if any(len(line) < 2 or line[1] != "=" for line in lines):
        raise CallRuleError("bad_sdp", f"the {kind} has a line that is not <type>=<value>")
    if not any(line.startswith("m=") for line in lines):
        raise CallRuleError("bad_sdp", f"the {kind} has no media section")
    if not any(line.startswith("a=fingerprint:") for line in lines):
        raise CallRuleError("bad_sdp", f"the {kind} has no DTLS fingerprint")


def check_candidate(candidate: str) -> None:
    """An ICE candidate line (RFC 8839), or "" for end of candidates."""
    if candidate and not _CANDIDATE.match(candidate):
        raise CallRuleError("bad_candidate", "not an ICE candidate line")


# --- quality -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityReport:
    call_id: str
    device_id: str
    rtt_ms: float | None
    jitter_ms: float | None
    packet_loss_pct: float | None
    bitrate_kbps: float | None
    relayed: bool
    reported_at: datetime


@dataclass(frozen=True)
class QualitySummary:
    reports: int
    rtt_ms_avg: float | None
    rtt_ms_max: float | None
    jitter_ms_avg: float | None
    packet_loss_pct_max: float | None
    bitrate_kbps_avg: float | None
    relayed: bool


def _avg(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def summarise(reports: Sequence[QualityReport]) -> QualitySummary:
    """What ops and the call record show: averages, the worst loss, and whether TURN relayed."""

    def present(field: str) -> list[float]:
        return [v for r in reports if (v := getattr(r, field)) is not None]

    rtt = present("rtt_ms")
    loss = present("packet_loss_pct")
    return QualitySummary(
        reports=len(reports),
        rtt_ms_avg=_avg(rtt),
        rtt_ms_max=max(rtt) if rtt else None,
        jitter_ms_avg=_avg(present("jitter_ms")),
        packet_loss_pct_max=max(loss) if loss else None,
        bitrate_kbps_avg=_avg(present("bitrate_kbps")),
        relayed=any(r.relayed for r in reports),
    )
