"""Relay-only calls through a real coturn on loopback, credentials from GET /api/v1/turn: the
media path is TURN on both sides; with a wrong shared secret no call connects and the reason
is clear."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rtclient.errors import CallError
from rtclient.ice import IceConfig, selected_pair_types
from tests.calls.media_devices import (
    CallDevices,
    connected_call,
    media_flows,
    record,
)
from tests.conftest import SettingsFactory
from tests.support.clients import Api
from tests.support.coturn import running_coturn
from tests.support.people import Pair
from tests.support.server import RunningServer, serve_in_process

SECRET = "turn-secret-for-call-tests-only"


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[int]:
    with running_coturn(tmp_path, SECRET) as port:
        yield port


@pytest.fixture
def turn_secret() -> str:
    return SECRET


@pytest.fixture
async def server(
    make_settings: SettingsFactory, coturn: int, turn_secret: str
) -> AsyncIterator[RunningServer]:
    settings = make_settings(
        turn_secret=turn_secret,
        turn_uris=[f"turn:127.0.0.1:{coturn}?transport=udp"],
        turn_prefer_relay=True,
    )
    async with serve_in_process(settings) as running:
        yield running


async def test_relay_only_call_goes_through_turn(pair: Pair, lines: CallDevices, api: Api) -> None:
    console = await lines.open(pair.counselor)
    phone = await lines.open(pair.client)
    ice = await phone.ice_config()
    assert ice.relay_only and ice.servers[0].username  # short-lived TURN REST credentials

    outgoing, incoming = await connected_call(console, phone, pair.conversation_id)
    for call in (outgoing, incoming):
        assert call.connection is not None
        assert selected_pair_types(call.connection.pc) == ("relay", "relay")
        local = call.connection.pc.localDescription.sdp
        assert "typ relay" in local and "typ host" not in local  # host addresses never offered
    await media_flows(outgoing, incoming, frames=20)
    report = await outgoing.send_stats()
    assert report is not None and report.relayed
    await outgoing.hangup()
    stored = await record(api, pair.client, outgoing.call_id)
    assert stored["quality"]["relayed"] is True and stored["end_reason"] == "hangup"


@pytest.mark.parametrize("turn_secret", ["not-the-secret-coturn-has"])
async def test_a_wrong_turn_secret_fails_clearly(pair: Pair, lines: CallDevices, api: Api) -> None:
    console = await lines.open(pair.counselor)
    with pytest.raises(CallError) as refused:
        await console.place_call(pair.conversation_id)
    assert refused.value.code == "turn_unavailable"  # nothing was sent: no call rang
    history = await api.request(
        "GET", f"/api/v1/conversations/{pair.conversation_id}/calls", token=pair.client.token
    )
    assert history.status == 200 and history.body["calls"] == []

    # A caller that can reach the callee directly rings, but the callee, relay-only with
    # credentials coturn refuses, cannot answer: it declines, and both sides say why.
    direct = await lines.open(pair.client, ice_config=IceConfig((), relay_only=False))
    outgoing = await direct.place_call(pair.conversation_id, "audio")
    incoming = await console.next_incoming()
    with pytest.raises(CallError) as no_relay:
        await incoming.answer()
    assert no_relay.value.code == "turn_unavailable" and incoming.failure == "turn_unavailable"
    assert (await outgoing.wait_ended()).reason == "rejected"
    assert (await incoming.wait_ended()).reason == "rejected"
    stored = await record(api, pair.client, outgoing.call_id)
    assert stored["state"] == "ended" and stored["answered_at"] is None
