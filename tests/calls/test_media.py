"""aiortc calls aiortc through the real server over real WebSockets, media on loopback: media
flows both ways, quality reports and the hangup are recorded, and a device refuses an SDP whose
signature does not match the caller's published device key."""

from __future__ import annotations

import pytest

from rtclient.crypto import DeviceIdentity, PeerDevice
from rtclient.keyring import Keyring
from tests.calls.media_devices import (
    CallDevices,
    connected_call,
    media_flows,
    record,
)
from tests.support.clients import Api
from tests.support.people import Pair


async def test_video_call_media_flows_both_ways_and_the_hangup_is_recorded(
    pair: Pair, lines: CallDevices, api: Api
) -> None:
    console = await lines.open(pair.counselor, stats_interval=0.3)
    phone = await lines.open(pair.client)
    outgoing, incoming = await connected_call(console, phone, pair.conversation_id)
    assert incoming.peer_device_id == pair.counselor.device_id
    assert outgoing.peer_device_id == pair.client.device_id

    await media_flows(outgoing, incoming, frames=30)  # ~1 s of video, 0.6 s of audio each way
    assert not outgoing.relayed() and not incoming.relayed()  # host to host on loopback
    report = await incoming.send_stats()
    assert report is not None and report.packet_loss_pct == 0.0 and report.bitrate_kbps
    await outgoing.wait_until(lambda: outgoing.reports_sent >= 2)  # the periodic reports

    live = await record(api, pair.client, outgoing.call_id)
    assert live["state"] == "active" and live["answered_by_device_id"] == pair.client.device_id

    ended = await outgoing.hangup()
    assert ended.reason == "hangup" and ended.duration_seconds and ended.duration_seconds > 0.5
    seen = await incoming.wait_ended()
    assert seen.reason == "hangup" and seen.ended_by == {
        "user_id": pair.counselor.id,
        "device_id": pair.counselor.device_id,
    }
    assert incoming.connection is None or incoming.connection.pc.connectionState == "closed"

    stored = await record(api, pair.counselor, outgoing.call_id)
    assert stored["state"] == "ended" and stored["end_reason"] == "hangup"
    assert stored["duration_seconds"] == pytest.approx(ended.duration_seconds, abs=0.01)
    assert stored["media_used"] == ["video"]
    assert stored["ended_by_user_id"] == pair.counselor.id
    quality = stored["quality"]
    assert quality["reports"] >= 3 and quality["relayed"] is False
    assert quality["packet_loss_pct_max"] == 0.0


async def test_audio_call_carries_audio_only(pair: Pair, lines: CallDevices) -> None:
    phone = await lines.open(pair.client)
    console = await lines.open(pair.counselor)
    outgoing, incoming = await connected_call(phone, console, pair.conversation_id, "audio")
    await media_flows(outgoing, incoming, kinds=("audio",), frames=25)
    assert outgoing.frames.count("video") == incoming.frames.count("video") == 0
    assert (await incoming.hangup()).reason == "hangup"
    assert (await outgoing.wait_ended()).reason == "hangup"


class SwappedKeyring(Keyring):
    """A keyring that believes the caller's device has another signing key: what a device
    sees when the SDP it got was not signed by the key the caller published."""

    async def devices_of(self, user_id: str) -> list[PeerDevice]:
        devices = await super().devices_of(user_id)
        stranger = DeviceIdentity.generate(user_id, "x")
        return [
            PeerDevice(d.user_id, d.device_id, stranger.public_signing_key, d.encryption_key)
            for d in devices
        ]


async def test_an_offer_that_does_not_verify_is_refused(pair: Pair, lines: CallDevices) -> None:
    console = await lines.open(pair.counselor)
    assert pair.client.secure is not None
    real = pair.client.secure.keyring
    phone = await lines.open(
        pair.client, keyring=SwappedKeyring(real.base_url, real.token, real.http)
    )

    outgoing = await console.place_call(pair.conversation_id, "video")
    end = await outgoing.wait_ended()
    assert end.reason == "rejected"
    refused = phone.calls[outgoing.call_id]
    assert (await refused.wait_ended()).reason == "rejected"
    assert refused.failure == "bad_signature"
    assert refused.connection is None  # no media was ever set up with the forged offer
    assert phone.incoming.empty()  # it never rang
