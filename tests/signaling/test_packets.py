"""Socket.IO packets encoded with orjson keep python-socketio's wire format."""

from __future__ import annotations

import socketio.packet

from signaling.packets import FastPacket, OrjsonCodec


def test_encoding_matches_the_default_packet() -> None:
    payload = {
        "conversation_id": "c1",
        "seq": 7,
        "envelope": {"recipients": [{"device_id": "d1", "key": "k"}], "v": 1},
        "text": "selamat malam, ünïcode",
        "ok": True,
        "none": None,
    }
    for kind, data, ack_id in [
        (socketio.packet.EVENT, ["message", payload], None),
        (socketio.packet.ACK, [{"ok": True, "seq": 7}], 12),
    ]:
        ours = FastPacket(kind, data=data, id=ack_id).encode()
        theirs = socketio.packet.Packet(kind, data=data, id=ack_id).encode()
        assert socketio.packet.Packet(encoded_packet=ours).data == data
        assert FastPacket(encoded_packet=theirs).data == data
        assert ours[:3] == theirs[:3]


def test_binary_payloads_still_go_as_attachments() -> None:
    assert FastPacket.data_is_binary(["e", {"a": [1, {"b": b"\x00"}]}])
    assert not FastPacket.data_is_binary(["e", {"a": [1, {"b": "x"}]}, (2, 3)])
    encoded = FastPacket(socketio.packet.EVENT, data=["blob", b"\x01\x02"]).encode()
    assert isinstance(encoded, list) and encoded[1] == b"\x01\x02"


def test_codec_is_json_compatible() -> None:
    assert OrjsonCodec.dumps({1: "a"}, separators=(",", ":")) == '{"1":"a"}'
    assert OrjsonCodec.loads(b'{"a":[1,2.5,null]}') == {"a": [1, 2.5, None]}
    assert isinstance(OrjsonCodec.loads("1" * 300), float)  # no quadratic int parsing
