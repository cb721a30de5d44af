"""Socket.IO packets encoded with orjson keep python-socketio's wire format."""

from __future__ import annotations

import pytest
import socketio.packet

from signaling.packets import FastPacket, OrjsonCodec, encode_ack, parse_event


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


@pytest.mark.parametrize(
    "text",
    [
        '2["typing",{"conversation_id":"c1","on":true}]',
        '27["message.send",{"envelope":{"v":1,"text":"ünï"}}]',
        '2123456789012345678["sync",{}]',
        '2["no.arguments"]',
        '20["two",1,[2,3]]',
    ],
)
def test_an_event_to_the_default_namespace_parses_as_python_socketio_decodes_it(text: str) -> None:
    theirs = socketio.packet.Packet(encoded_packet=text)
    assert parse_event(text) == (theirs.id, theirs.data)


@pytest.mark.parametrize(
    "text",
    [
        '2/chat,1["typing",{}]',  # another namespace
        '51-["typing",{"_placeholder":true,"num":0}]',  # binary: attachments follow
        '31[{"ok":true}]',  # an ack
        '0{"token":"t"}',  # connect
        "2{}",  # not an array
        "2[]",  # no event name
        "2[1]",  # a name that is not a string
        '2["typing"',  # no valid JSON: python-socketio refuses it
        "2" + "9" * 30 + '["typing",{}]',  # an id too long for this reader
    ],
)
def test_any_other_packet_is_left_to_python_socketio(text: str) -> None:
    assert parse_event(text) is None


def test_an_ack_is_encoded_as_python_socketio_encodes_it() -> None:
    for data in ([{"ok": True, "seq": 7, "text": "ünï"}], [], [1, "two", None]):
        assert encode_ack(12, data) == FastPacket(socketio.packet.ACK, data=data, id=12).encode()
    assert encode_ack(3, [{"blob": b"\x00"}]) is None  # bytes go as attachments
