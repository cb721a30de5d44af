"""Validated shapes of call events (docs/calls.md). SDP and candidates are checked for form
here and by the call rules; their meaning is for the two devices."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rtserver.domain.calls import CallMedia, EndReason
from rtserver.services.calls import SignedSdp, Stats
from rtserver.validation import Id, Signature

MAX_SDP_CHARS = 16_384


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sdp(Strict):
    type: Literal["offer", "answer"]
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    signature: Signature

    def signed(self) -> SignedSdp:
        return SignedSdp(self.type, self.sdp, self.signature)


class Candidate(Strict):
    candidate: str = Field(max_length=512)
    sdp_mid: str | None = Field(default=None, max_length=32)
    sdp_mline_index: int | None = Field(default=None, ge=0, le=64)


class CallInvite(Strict):
    call_id: Id
    conversation_id: Id
    session_id: Id | None = None
    media: CallMedia
    sdp: Sdp


class CallAnswer(Strict):
    call_id: Id
    sdp: Sdp


class CallRef(Strict):
    call_id: Id


class CallCandidate(Strict):
    call_id: Id
    candidate: Candidate


class CallHangup(Strict):
    call_id: Id
    reason: Literal[EndReason.HANGUP, EndReason.SWITCHED_TO_CHAT] | None = None


class CallRenegotiate(Strict):
    call_id: Id
    reason: Literal["ice_restart", "media_change"]
    media: CallMedia | None = None
    sdp: Sdp


Measure = Annotated[float, Field(ge=0, le=1_000_000)]


class CallStats(Strict):
    call_id: Id
    rtt_ms: Measure | None = None
    jitter_ms: Measure | None = None
    packet_loss_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    bitrate_kbps: Measure | None = None
    relayed: bool = False

    def stats(self) -> Stats:
        return Stats(
            self.rtt_ms, self.jitter_ms, self.packet_loss_pct, self.bitrate_kbps, self.relayed
        )
