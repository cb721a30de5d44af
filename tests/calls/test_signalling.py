"""Call signalling through the real server and WebSocket, on SQLite and PostgreSQL: ringing
every device, answer-wins, decline, timeout, glare, busy, reconnect grace, renegotiation,
records; every refusal changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rtserver.api.keys import ACCOUNTS, CALLS
from rtserver.clock import FrozenClock
from rtserver.domain.accounts import Role
from tests.conftest import SettingsFactory
from tests.support.calls import Phones, new_call_id
from tests.support.clients import Api
from tests.support.people import Devices, Pair, Person, make_counselor, open_direct
from tests.support.sdp import CANDIDATE, fake_sdp
from tests.support.server import RunningServer, serve_in_process


@pytest.fixture
async def phones(server: RunningServer, api: Api, clients: Devices) -> AsyncIterator[Phones]:
    made = Phones(server.url, api, clients)
    yield made
    await made.close()


async def record(api: Api, person: Person, call_id: str) -> dict[str, Any]:
    reply = await api.request("GET", f"/api/v1/calls/{call_id}", token=person.token)
    assert reply.status == 200, reply.body
    return dict(reply.body)


async def test_invite_rings_every_device_and_the_first_answer_wins(
    pair: Pair, phones: Phones, api: Api
) -> None:
    caller = await phones.of(pair.counselor)
    phone = await phones.of(pair.client)
    laptop = await phones.another_device(pair.client, "correct horse 42", "laptop")
    call_id = new_call_id()

    ack = await caller.invite(pair.conversation_id, call_id)
    assert ack["ok"] and ack["state"] == "ringing", ack
    for device in (phone, laptop):
        incoming = await device.socket.next("call.incoming")
        assert incoming["call_id"] == call_id
        assert incoming["caller"] == {
            "user_id": pair.counselor.id,
            "device_id": pair.counselor.device_id,
        }
        assert incoming["media"] == "video" and incoming["sdp"]["type"] == "offer"

    # Before the answer, the caller's candidates reach every ringing device.
    assert (
        await caller.socket.call("call.candidate", {"call_id": call_id, "candidate": CANDIDATE})
    )["ok"]
    for device in (phone, laptop):
        got = await device.socket.next("call.candidate")
        assert got["from_device_id"] == pair.counselor.device_id

    first, second = await asyncio.gather(phone.answer(call_id), laptop.answer(call_id))
    winners = [r for r in (first, second) if r["ok"]]
    losers = [r for r in (first, second) if not r["ok"]]
    assert len(winners) == 1 and len(losers) == 1, (first, second)
    assert losers[0]["error"]["code"] == "call_taken"
    winner, other = (phone, laptop) if first["ok"] else (laptop, phone)

    answered = await caller.socket.next("call.answered")
    assert answered["answered_by"]["device_id"] == winner.person.device_id
    assert answered["sdp"]["type"] == "answer"
    selected = await other.socket.next("call.selected")
    assert selected == {"call_id": call_id, "device_id": winner.person.device_id}

    # After it, candidates go device to device only.
    assert (
        await caller.socket.call("call.candidate", {"call_id": call_id, "candidate": CANDIDATE})
    )["ok"]
    assert (await winner.socket.next("call.candidate"))["from_device_id"] == caller.person.device_id
    assert (
        await winner.socket.call("call.candidate", {"call_id": call_id, "candidate": CANDIDATE})
    )["ok"]
    assert (await caller.socket.next("call.candidate"))["from_device_id"] == winner.person.device_id
    refused = await other.socket.call(
        "call.candidate", {"call_id": call_id, "candidate": CANDIDATE}
    )
    assert refused["error"]["code"] == "not_in_call"
    assert other.socket.queue("call.candidate").empty()

    hung = await winner.socket.call("call.hangup", {"call_id": call_id})
    assert hung["ok"] and hung["end_reason"] == "hangup" and hung["duration_seconds"] >= 0
    for device in (caller, phone, laptop):
        ended = await device.socket.next("call.ended")
        assert ended["end_reason"] == "hangup"
        assert ended["ended_by"] == {
            "user_id": pair.client.id,
            "device_id": winner.person.device_id,
        }
    stored = await record(api, pair.counselor, call_id)
    assert stored["state"] == "ended" and stored["end_reason"] == "hangup"
    assert stored["answered_by_device_id"] == winner.person.device_id
    assert stored["duration_seconds"] is not None and stored["ended_by_user_id"] == pair.client.id


async def test_decline_on_one_device_stops_every_device(
    pair: Pair, phones: Phones, api: Api
) -> None:
    caller = await phones.of(pair.counselor)
    phone = await phones.of(pair.client)
    laptop = await phones.another_device(pair.client, "correct horse 42", "laptop")
    call_id = new_call_id()
    assert (await caller.invite(pair.conversation_id, call_id, media="audio"))["ok"]
    await phone.socket.next("call.incoming")
    await laptop.socket.next("call.incoming")

    declined = await phone.socket.call("call.reject", {"call_id": call_id})
    assert declined["ok"] and declined["end_reason"] == "rejected"
    for device in (caller, phone, laptop):
        assert (await device.socket.next("call.ended"))["end_reason"] == "rejected"
    late = await laptop.answer(call_id)
    assert late["error"]["code"] == "call_ended"
    stored = await record(api, pair.client, call_id)
    assert (stored["end_reason"], stored["duration_seconds"]) == ("rejected", None)


async def test_caller_hanging_up_while_ringing_cancels(pair: Pair, phones: Phones) -> None:
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    call_id = new_call_id()
    assert (await caller.invite(pair.conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")
    hung = await caller.socket.call("call.hangup", {"call_id": call_id})
    assert hung["end_reason"] == "cancelled"
    assert (await callee.socket.next("call.ended"))["end_reason"] == "cancelled"
    # The callee's device never joined: it may only decline or answer, and the call is over.
    assert (await callee.answer(call_id))["error"]["code"] == "call_ended"


@pytest.fixture
async def quick_server(make_settings: SettingsFactory) -> AsyncIterator[RunningServer]:
    settings = make_settings(call_ring_timeout_seconds=0.6, call_reconnect_grace_seconds=0.8)
    async with serve_in_process(settings) as running:
        yield running


@pytest.fixture
async def quick(quick_server: RunningServer, http: Any, clients: Devices) -> AsyncIterator[Any]:
    api = Api(quick_server.url, http)
    counselor = await make_counselor(api, quick_server, "dr.quick")
    client = Person(await api.register("quick-client"))
    conversation_id = await open_direct(api, counselor, client)
    made = Phones(quick_server.url, api, clients)
    yield Pair(counselor, client, conversation_id), made, api
    await made.close()


async def test_unanswered_call_is_missed_and_the_callee_is_notified(quick: Any) -> None:
    pair, phones, api = quick
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    call_id = new_call_id()
    assert (await caller.invite(pair.conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")
    for device in (caller, callee):
        assert (await device.socket.next("call.ended", timeout=5))["end_reason"] == "missed"
    notice = await callee.socket.next("notification")
    assert notice["kind"] == "call.missed" and notice["payload"]["call_id"] == call_id
    inbox = await api.request("GET", "/api/v1/notifications", token=pair.client.token)
    assert any(n["payload"].get("call_id") == call_id for n in inbox.body["notifications"])
    assert (await record(api, pair.counselor, call_id))["end_reason"] == "missed"
    assert (await callee.answer(call_id))["error"]["code"] == "call_ended"


async def test_glare_is_settled_by_the_server_and_both_agree(pair: Pair, phones: Phones) -> None:
    counselor = await phones.of(pair.counselor)
    client = await phones.of(pair.client)
    ids = new_call_id(), new_call_id()
    acks = await asyncio.gather(
        counselor.invite(pair.conversation_id, ids[0]),
        client.invite(pair.conversation_id, ids[1]),
    )
    assert sorted(a["ok"] for a in acks) == [False, True], acks
    won = ids[0] if acks[0]["ok"] else ids[1]
    lost_ack = acks[1] if acks[0]["ok"] else acks[0]
    assert lost_ack["error"]["code"] == "glare"
    assert lost_ack["error"]["details"] == {"call_id": won}
    # The loser was rung by the winner's call and answers it.
    loser = client if acks[0]["ok"] else counselor
    assert (await loser.socket.next("call.incoming"))["call_id"] == won
    assert (await loser.answer(won))["ok"]
    # And the same person placing a second call meanwhile is told theirs is on.
    winner = counselor if acks[0]["ok"] else client
    again = await winner.invite(pair.conversation_id, new_call_id())
    assert again["error"] == {
        "code": "call_in_progress",
        "message": "you already have a call in this conversation",
        "details": {"call_id": won},
    }


async def test_callee_in_another_call_is_busy(
    pair: Pair, phones: Phones, api: Api, server: RunningServer
) -> None:
    first = await phones.of(pair.counselor)
    client = await phones.of(pair.client)
    call_id = new_call_id()
    assert (await first.invite(pair.conversation_id, call_id))["ok"]
    await client.socket.next("call.incoming")
    assert (await client.answer(call_id))["ok"]

    other = await make_counselor(api, server, "dr.lain")
    other_conversation = await open_direct(api, other, pair.client)
    second = await phones.of(other)
    busy_id = new_call_id()
    busy = await second.invite(other_conversation, busy_id)
    assert busy["error"]["code"] == "callee_busy"
    assert (await client.socket.next("notification"))["kind"] == "call.missed"
    assert (await record(api, other, busy_id))["end_reason"] == "busy"


async def test_reconnect_within_the_grace_keeps_the_call(quick: Any) -> None:
    pair, phones, api = quick
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    call_id = new_call_id()
    assert (await caller.invite(pair.conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")
    assert (await callee.answer(call_id))["ok"]

    await caller.socket.close()  # the network dropped the caller's signalling
    peer = await callee.socket.next("call.peer")
    assert peer["state"] == "reconnecting" and peer["device_id"] == pair.counselor.device_id
    again = await phones.of(pair.counselor)
    resumed = await again.socket.call("call.resume", {"call_id": call_id})
    assert resumed["ok"] and resumed["call"]["state"] == "active", resumed
    assert (await callee.socket.next("call.peer"))["state"] == "connected"
    await asyncio.sleep(1.5)  # longer than the 0.8 s grace: nothing may end the call now
    assert callee.socket.queue("call.ended").empty()
    assert (await record(api, pair.client, call_id))["state"] == "active"
    # Signalling goes on through the new socket.
    assert (
        await again.socket.call("call.candidate", {"call_id": call_id, "candidate": CANDIDATE})
    )["ok"]
    assert (await callee.socket.next("call.candidate"))[
        "from_device_id"
    ] == pair.counselor.device_id


async def test_a_device_that_does_not_come_back_ends_the_call(quick: Any) -> None:
    pair, phones, api = quick
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    call_id = new_call_id()
    assert (await caller.invite(pair.conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")
    assert (await callee.answer(call_id))["ok"]
    await callee.socket.close()
    assert (await caller.socket.next("call.peer"))["state"] == "reconnecting"
    ended = await caller.socket.next("call.ended", timeout=5)
    assert ended["end_reason"] == "connection_lost"
    assert (await record(api, pair.counselor, call_id))["end_reason"] == "connection_lost"


async def test_renegotiation_restarts_ice_and_changes_media(
    pair: Pair, phones: Phones, api: Api
) -> None:
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    call_id = new_call_id()
    assert (await caller.invite(pair.conversation_id, call_id, media="video"))["ok"]
    await callee.socket.next("call.incoming")
    assert (await callee.answer(call_id))["ok"]

    restart = await callee.socket.call(
        "call.renegotiate",
        {"call_id": call_id, "reason": "ice_restart", "sdp": callee.sdp(call_id, "offer")},
    )
    assert restart["ok"] and restart["media"] == "video"
    got = await caller.socket.next("call.renegotiate")
    assert got["reason"] == "ice_restart" and got["sdp"]["type"] == "offer"
    assert got["from_device_id"] == pair.client.device_id
    reply = await caller.socket.call(
        "call.renegotiate",
        {"call_id": call_id, "reason": "ice_restart", "sdp": caller.sdp(call_id, "answer")},
    )
    assert reply["ok"]
    assert (await callee.socket.next("call.renegotiate"))["sdp"]["type"] == "answer"

    to_audio = await caller.socket.call(
        "call.renegotiate",
        {
            "call_id": call_id,
            "reason": "media_change",
            "media": "audio",
            "sdp": caller.sdp(call_id, "offer"),
        },
    )
    assert to_audio["ok"] and to_audio["media"] == "audio"
    assert (await callee.socket.next("call.renegotiate"))["media"] == "audio"
    stats = await callee.socket.call(
        "call.stats",
        {
            "call_id": call_id,
            "rtt_ms": 40,
            "jitter_ms": 2.5,
            "packet_loss_pct": 1.5,
            "bitrate_kbps": 64,
            "relayed": True,
        },
    )
    assert stats["ok"], stats
    hung = await caller.socket.call(
        "call.hangup", {"call_id": call_id, "reason": "switched_to_chat"}
    )
    assert hung["end_reason"] == "switched_to_chat"
    stored = await record(api, pair.client, call_id)
    assert stored["media_used"] == ["video", "audio"] and stored["media"] == "audio"
    assert stored["quality"]["reports"] == 1 and stored["quality"]["relayed"] is True
    assert stored["quality"]["packet_loss_pct_max"] == 1.5
    listed = await api.request(
        "GET", f"/api/v1/conversations/{pair.conversation_id}/calls", token=pair.counselor.token
    )
    assert [c["call_id"] for c in listed.body["calls"]] == [call_id]


async def test_ops_see_live_calls_and_quality_but_no_people(
    pair: Pair, phones: Phones, api: Api, server: RunningServer
) -> None:
    assert server.app is not None
    await server.app[ACCOUNTS].create_user("ops.rina", "ops password 123", "Rina", Role.OPS)
    ops = await api.login("ops.rina", "ops password 123")
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    call_id = new_call_id()
    assert (await caller.invite(pair.conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")
    assert (await callee.answer(call_id))["ok"]
    await callee.socket.call("call.stats", {"call_id": call_id, "rtt_ms": 80, "relayed": False})

    overview = await api.request("GET", "/api/v1/ops/calls", token=ops["access_token"])
    assert overview.status == 200, overview.body
    assert overview.body["active"] == 1 and overview.body["live"][0]["call_id"] == call_id
    assert overview.body["live"][0]["quality"]["rtt_ms_avg"] == 80
    text = str(overview.body)
    for secret in (pair.client.id, pair.counselor.id, pair.conversation_id, "fingerprint"):
        assert secret not in text
    denied = await api.request("GET", "/api/v1/ops/calls", token=pair.counselor.token)
    assert denied.status == 403


async def test_nobody_outside_the_call_can_touch_it(
    pair: Pair, phones: Phones, api: Api, server: RunningServer
) -> None:
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    stranger = await phones.of(Person(await api.register("orang-lain")))
    caller_laptop = await phones.another_device(pair.counselor, "counselor pw 123", "laptop")
    call_id = new_call_id()

    intruder = await stranger.invite(pair.conversation_id, new_call_id())
    assert intruder["error"]["code"] == "conversation_not_found"
    assert (await caller.invite(pair.conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")

    for attempt in (
        stranger.answer(call_id),
        stranger.socket.call("call.candidate", {"call_id": call_id, "candidate": CANDIDATE}),
        stranger.socket.call("call.reject", {"call_id": call_id}),
        stranger.socket.call("call.hangup", {"call_id": call_id}),
        stranger.socket.call("call.resume", {"call_id": call_id}),
        stranger.socket.call("call.stats", {"call_id": call_id, "rtt_ms": 1}),
        caller_laptop.answer(call_id),  # the caller's own other device is not the callee
    ):
        assert (await attempt)["error"]["code"] == "call_not_found"
    not_in = await caller_laptop.socket.call("call.hangup", {"call_id": call_id})
    assert not_in["error"]["code"] == "not_in_call"
    reply = await api.request("GET", f"/api/v1/calls/{call_id}", token=stranger.person.token)
    assert (reply.status, reply.body["error"]["code"]) == (404, "call_not_found")
    listed = await api.request(
        "GET", f"/api/v1/conversations/{pair.conversation_id}/calls", token=stranger.person.token
    )
    assert listed.status == 404
    assert (await record(api, pair.client, call_id))["state"] == "ringing"


async def test_group_conversations_have_no_calls(pair: Pair, phones: Phones, api: Api) -> None:
    group = await api.request(
        "POST",
        "/api/v1/conversations",
        {"conversation": {"kind": "group", "title": "support", "member_ids": [pair.client.id]}},
        token=pair.counselor.token,
    )
    assert group.status == 201, group.body
    caller = await phones.of(pair.counselor)
    refused = await caller.invite(group.body["id"], new_call_id())
    assert refused["error"]["code"] == "not_direct"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda p, c: {**p, "sdp": {**p["sdp"], "sdp": "hello"}}, "bad_sdp"),
        (
            lambda p, c: {
                **p,
                "sdp": {**p["sdp"], "sdp": fake_sdp().replace("a=fingerprint", "a=x")},
            },
            "bad_sdp",
        ),
        (lambda p, c: {**p, "sdp": {**p["sdp"], "type": "answer"}}, "bad_sdp"),
        (
            lambda p, c: {
                **p,
                "sdp": {**p["sdp"], "signature": c.sdp(p["call_id"], "offer")["signature"]},
            },
            "bad_signature",
        ),
        (lambda p, c: {**p, "media": "hologram"}, "invalid_payload"),
        (lambda p, c: {k: v for k, v in p.items() if k != "sdp"}, "invalid_payload"),
        (lambda p, c: {**p, "extra": 1}, "invalid_payload"),
        (
            lambda p, c: {**p, "sdp": {**p["sdp"], "sdp": "v=0\r\n" + "a=x\r\n" * 5000}},
            "invalid_payload",
        ),
    ],
)
async def test_malformed_invites_are_refused_and_change_nothing(
    pair: Pair, phones: Phones, api: Api, change: Any, code: str
) -> None:
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    call_id = new_call_id()
    payload = {
        "call_id": call_id,
        "conversation_id": pair.conversation_id,
        "media": "video",
        "sdp": caller.sdp(call_id, "offer"),
    }
    refused = await caller.socket.call("call.invite", change(payload, caller))
    assert refused["ok"] is False and refused["error"]["code"] == code, refused
    reply = await api.request("GET", f"/api/v1/calls/{call_id}", token=pair.counselor.token)
    assert reply.status == 404
    assert callee.socket.queue("call.incoming").empty()
    # The conversation is free for a good call afterwards.
    assert (await caller.invite(pair.conversation_id, call_id))["ok"]


async def test_malformed_answers_and_candidates_are_refused(pair: Pair, phones: Phones) -> None:
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    call_id = new_call_id()
    assert (await caller.invite(pair.conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")
    forged = {"call_id": call_id, "sdp": caller.sdp(call_id, "answer")}  # signed by another device
    assert (await callee.socket.call("call.answer", forged))["error"]["code"] == "bad_signature"
    for candidate, code in (
        ({"candidate": "rm -rf /"}, "bad_candidate"),
        ({"candidate": "candidate:1 1 udp 1 10.0.0.1 9 typ bogus"}, "bad_candidate"),
        ({"candidate": CANDIDATE["candidate"], "sdp_mline_index": -1}, "invalid_payload"),
        ({"candidate": "x" * 600}, "invalid_payload"),
    ):
        reply = await caller.socket.call(
            "call.candidate", {"call_id": call_id, "candidate": candidate}
        )
        assert reply["error"]["code"] == code, (candidate, reply)
    # None of that answered the call: a good answer still can.
    assert (await callee.answer(call_id))["ok"]
    end_of_candidates = {"candidate": "", "sdp_mid": "0", "sdp_mline_index": 0}
    assert (
        await caller.socket.call(
            "call.candidate", {"call_id": call_id, "candidate": end_of_candidates}
        )
    )["ok"]


async def test_a_call_id_cannot_be_reused(pair: Pair, phones: Phones) -> None:
    caller = await phones.of(pair.counselor)
    callee = await phones.of(pair.client)
    call_id = new_call_id()
    assert (await caller.invite(pair.conversation_id, call_id))["ok"]
    await callee.socket.next("call.incoming")
    assert (await caller.socket.call("call.hangup", {"call_id": call_id}))["ok"]
    again = await caller.invite(pair.conversation_id, call_id)
    assert again["error"]["code"] == "call_exists"


async def test_the_sweeper_ends_only_what_no_one_came_back_to(
    make_settings: SettingsFactory, http: Any, clients: Devices
) -> None:
    clock = FrozenClock(datetime(2026, 11, 29, 9, 0, tzinfo=UTC))
    async with serve_in_process(make_settings(), clock=clock) as running:
        assert running.app is not None
        api = Api(running.url, http)
        counselor = await make_counselor(api, running, "dr.sweep")
        client = Person(await api.register("sweep-client"))
        conversation_id = await open_direct(api, counselor, client)
        phones = Phones(running.url, api, clients)
        try:
            caller = await phones.of(counselor)
            callee = await phones.of(client)
            call_id = new_call_id()
            assert (await caller.invite(conversation_id, call_id))["ok"]
            await callee.socket.next("call.incoming")
            assert (await callee.answer(call_id))["ok"]
            await caller.socket.close()
            await callee.socket.next("call.peer")
            back = await phones.of(counselor)
            assert (await back.socket.call("call.resume", {"call_id": call_id}))["ok"]
            assert (await callee.socket.next("call.peer"))["state"] == "connected"

            clock.advance(timedelta(minutes=5))  # far past the ring deadline and the grace
            assert await running.app[CALLS].sweep() == 0
            assert (await record(api, client, call_id))["state"] == "active"

            await back.socket.close()  # gone for good this time
            assert (await callee.socket.next("call.peer"))["state"] == "reconnecting"
            clock.advance(timedelta(minutes=5))
            assert await running.app[CALLS].sweep() == 1
            assert (await callee.socket.next("call.ended"))["end_reason"] == "connection_lost"
        finally:
            await phones.close()
