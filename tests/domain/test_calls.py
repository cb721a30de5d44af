"""The call rules as pure functions: who may answer, reject, hang up; SDP and candidate form;
quality summaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rtserver.domain import calls as rules
from rtserver.domain.calls import (
    Call,
    CallMedia,
    CallRuleError,
    CallState,
    EndReason,
    QualityReport,
    Side,
)
from tests.support.sdp import CANDIDATE, fake_sdp

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def ringing() -> Call:
    return Call(
        id="call-1",
        conversation_id="conv-1",
        session_id=None,
        caller_id="dr",
        caller_device_id="dr-console",
        callee_id="cl",
        answered_device_id=None,
        media=CallMedia.VIDEO,
        media_used=(CallMedia.VIDEO,),
        state=CallState.RINGING,
        created_at=T0,
        ring_deadline=T0 + timedelta(seconds=45),
    )


def refused(code: str) -> pytest.RaisesExc[CallRuleError]:
    return pytest.raises(CallRuleError, check=lambda e: e.code == code)


def test_the_callee_answers_and_the_call_becomes_active() -> None:
    call = rules.answer(ringing(), "cl", "cl-phone", T0 + timedelta(seconds=3))
    assert (call.state, call.answered_device_id) == (CallState.ACTIVE, "cl-phone")
    assert call.side_of_device("cl-phone") is Side.CALLEE
    assert call.peer_device("cl-phone") == "dr-console"
    assert call.peer_device("dr-console") == "cl-phone"
    assert call.side_of_device("cl-laptop") is None


def test_only_the_callee_answers_and_only_once() -> None:
    with refused("call_not_found"):
        rules.answer(ringing(), "dr", "dr-laptop", T0)
    active = rules.answer(ringing(), "cl", "cl-phone", T0)
    with refused("call_taken"):
        rules.answer(active, "cl", "cl-laptop", T0)
    with refused("call_ended"):
        rules.answer(rules.end(ringing(), EndReason.MISSED, None, T0), "cl", "cl-phone", T0)


def test_hanging_up_while_ringing_is_a_cancel_and_after_it_a_hangup() -> None:
    assert rules.hangup(ringing(), "dr", "dr-console", None, T0).end_reason is EndReason.CANCELLED
    active = rules.answer(ringing(), "cl", "cl-phone", T0)
    ended = rules.hangup(active, "cl", "cl-phone", None, T0 + timedelta(seconds=61.5))
    assert (ended.end_reason, ended.duration_seconds) == (EndReason.HANGUP, 61.5)
    chat = rules.hangup(active, "dr", "dr-console", EndReason.SWITCHED_TO_CHAT, T0)
    assert chat.end_reason is EndReason.SWITCHED_TO_CHAT
    with refused("not_in_call"):
        rules.hangup(active, "cl", "cl-laptop", None, T0)
    with refused("call_not_found"):
        rules.hangup(active, "stranger", "x", None, T0)


def test_reject_is_for_a_ringing_call() -> None:
    assert rules.reject(ringing(), "cl", T0).end_reason is EndReason.REJECTED
    with refused("call_taken"):
        rules.reject(rules.answer(ringing(), "cl", "p", T0), "cl", T0)
    with refused("call_not_found"):
        rules.reject(ringing(), "dr", T0)


def test_media_changes_are_recorded_once_each() -> None:
    with refused("call_not_active"):
        rules.change_media(ringing(), CallMedia.AUDIO)
    active = rules.answer(ringing(), "cl", "p", T0)
    audio = rules.change_media(active, CallMedia.AUDIO)
    back = rules.change_media(audio, CallMedia.VIDEO)
    assert back.media_used == (CallMedia.VIDEO, CallMedia.AUDIO)


@pytest.mark.parametrize(
    "sdp",
    ["", "hello", "v=1\r\nm=audio 9 x\r\na=fingerprint:x", "v=0\r\ns=-\r\n", "v=0\r\nm=a\r\nbad"],
)
def test_malformed_sdp_is_refused(sdp: str) -> None:
    with refused("bad_sdp"):
        rules.check_sdp(sdp, "offer")


def test_a_real_shaped_sdp_passes() -> None:
    rules.check_sdp(fake_sdp(), "offer")
    rules.check_sdp(fake_sdp("answer").replace("\r\n", "\n"), "answer")


@pytest.mark.parametrize(
    "candidate",
    [
        CANDIDATE["candidate"],
        "a=candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0",
        "candidate:3 1 tcp 1518280447 fe80::1%eth0 9 typ host tcptype active",
        "candidate:abc 2 UDP 41885439 198.51.100.2 3478 typ relay raddr 1.2.3.4 rport 5",
        "",
    ],
)
def test_ice_candidates_pass(candidate: str) -> None:
    rules.check_candidate(candidate)


@pytest.mark.parametrize(
    "candidate",
    ["x", "candidate:1 1 udp 1 1.2.3.4 9 typ nope", "candidate:1 1 sctp 1 1.2.3.4 9 typ host"],
)
def test_malformed_candidates_are_refused(candidate: str) -> None:
    with refused("bad_candidate"):
        rules.check_candidate(candidate)


def test_quality_summary() -> None:
    def report(rtt: float | None, loss: float | None, relayed: bool) -> QualityReport:
        return QualityReport("c", "d", rtt, 2.0, loss, 500.0, relayed, T0)

    summary = rules.summarise(
        [report(40, 0.5, False), report(80, 3.0, True), report(None, None, False)]
    )
    assert (summary.reports, summary.rtt_ms_avg, summary.rtt_ms_max) == (3, 60.0, 80)
    assert (summary.packet_loss_pct_max, summary.relayed) == (3.0, True)
    empty = rules.summarise([])
    assert (empty.reports, empty.rtt_ms_avg, empty.relayed) == (0, None, False)
