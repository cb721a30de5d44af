"""A call survives a network change (ICE restart over call.renegotiate), a move from video to
audio, and a dropped signalling connection (reconnect, call.resume): media keeps flowing."""

from __future__ import annotations

from tests.calls.media_devices import (
    CallDevices,
    connected_call,
    media_flows,
    record,
)
from tests.support.clients import Api
from tests.support.people import Pair


async def test_ice_restart_after_a_network_change_keeps_media_flowing(
    pair: Pair, lines: CallDevices, api: Api
) -> None:
    console = await lines.open(pair.counselor)
    phone = await lines.open(pair.client)
    outgoing, incoming = await connected_call(phone, console, pair.conversation_id)
    await media_flows(outgoing, incoming)

    # The phone's network goes away: its ICE transport (sockets, nominated pair) is gone.
    # The device notices and restarts ICE; the console answers the new offer.
    old = outgoing.connection
    assert old is not None
    await old.pc.getTransceivers()[0].sender.transport.transport.stop()
    await outgoing.wait_until(lambda: outgoing.restarts == 1)
    await incoming.wait_until(lambda: incoming.restarts == 1)
    new = outgoing.connection
    assert new is not None and new is not old and new.local_ufrag != old.local_ufrag
    assert old.pc.connectionState == "closed"
    await media_flows(outgoing, incoming)

    # A restart the callee asks for (say it moved from Wi-Fi to cellular) works the same way.
    await incoming.restart_ice()
    await outgoing.wait_until(lambda: outgoing.restarts == 2)
    assert incoming.restarts == 2
    await media_flows(outgoing, incoming)

    live = await record(api, pair.counselor, outgoing.call_id)
    assert live["state"] == "active" and live["media_used"] == ["video"]
    await incoming.hangup()
    assert (await outgoing.wait_ended()).reason == "hangup"


async def test_video_call_moves_to_audio(pair: Pair, lines: CallDevices, api: Api) -> None:
    console = await lines.open(pair.counselor)
    phone = await lines.open(pair.client)
    outgoing, incoming = await connected_call(console, phone, pair.conversation_id)
    await media_flows(outgoing, incoming)

    await outgoing.change_media("audio")
    await incoming.wait_until(lambda: incoming.restarts == 1)
    assert outgoing.media == incoming.media == "audio"
    for call in (outgoing, incoming):
        assert call.connection is not None and call.connection.kinds == ("audio",)
    await media_flows(outgoing, incoming, kinds=("audio",), frames=10)  # old frames drained
    video_before = {id(c): c.frames.count("video") for c in (outgoing, incoming)}
    await media_flows(outgoing, incoming, kinds=("audio",), frames=25)  # 0.5 s of audio
    for call in (outgoing, incoming):  # ... and not one more video frame meanwhile
        assert call.frames.count("video") == video_before[id(call)]

    stored = await record(api, pair.client, outgoing.call_id)
    assert stored["media"] == "audio" and stored["media_used"] == ["video", "audio"]
    await outgoing.hangup()


async def test_signalling_reconnect_mid_call_keeps_the_call(
    pair: Pair, lines: CallDevices, api: Api
) -> None:
    console = await lines.open(pair.counselor)
    phone = await lines.open(pair.client)
    outgoing, incoming = await connected_call(phone, console, pair.conversation_id)
    await media_flows(outgoing, incoming)

    await phone.sio.disconnect()  # the phone's socket drops; its media path does not
    await incoming.wait_until(lambda: incoming.peer_states[-1:] == ["reconnecting"])
    await media_flows(outgoing, incoming)  # media flows while signalling is down

    await lines.reconnect(phone, pair.client.token)
    resumed = await outgoing.resume()
    assert resumed["state"] == "active" and resumed["call_id"] == outgoing.call_id
    await incoming.wait_until(lambda: incoming.peer_states[-1:] == ["connected"])
    assert outgoing.state == incoming.state == "active"
    await media_flows(outgoing, incoming)

    # Signalling works on the new socket: an ICE restart, then the hangup.
    await outgoing.restart_ice()
    await incoming.wait_until(lambda: incoming.restarts == 1)
    await media_flows(outgoing, incoming)
    ended = await outgoing.hangup()
    assert ended.reason == "hangup"
    assert (await incoming.wait_ended()).reason == "hangup"
    stored = await record(api, pair.counselor, outgoing.call_id)
    assert stored["end_reason"] == "hangup" and stored["duration_seconds"] > 0
