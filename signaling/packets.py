"""Socket.IO packets encoded with orjson.

python-socketio encodes every event, ack and fan-out with the `json` module of its packet class
and walks every outgoing payload looking for bytes; both showed in the send path's profile. This
packet class keeps the wire format (compact JSON, binary attachments still supported) and only
makes those two steps cheaper. It is passed as the server's `serializer`, so the process-wide
defaults of python-socketio and engine.io stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import socketio.packet

_BINARY = (bytes, bytearray)
_OPTIONS = orjson.OPT_NON_STR_KEYS  # like json.dumps, which turns int keys into strings
# EVENT ("2"), namespace "/" (none written), an optional ack id, then the JSON array. An id of
# more digits is left to python-socketio (Python's int() refuses very long digit strings).
_EVENT = re.compile(r"2(\d{0,18})\[")


class OrjsonCodec:
    """The `json`-module interface python-socketio calls: dumps(obj, **kw) -> str, loads."""

    @staticmethod
    def dumps(value: Any, **_: Any) -> str:
        return orjson.dumps(value, option=_OPTIONS).decode()

    @staticmethod
    def loads(text: str | bytes, **_: Any) -> Any:
        # Integers too long for 64 bits become floats (or a decode error past a double's
        # range): no quadratic int parsing, which engine.io's own loads guards against.
        return orjson.loads(text)


class FastPacket(socketio.packet.Packet):  # type: ignore[misc]
    json = OrjsonCodec

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        """Whether a payload holds bytes anywhere (then it goes as attachments)."""
        pending = [data]
        while pending:
            item = pending.pop()
            if isinstance(item, _BINARY):
                return True
            if isinstance(item, dict):
                pending.extend(item.values())
            elif isinstance(item, list | tuple):
                pending.extend(item)
        return False


def parse_event(text: str) -> tuple[int | None, list[Any]] | None:
    """A Socket.IO EVENT packet to namespace "/" without attachments, nearly every packet a
    client sends, as (ack id, [event name, *arguments]). None for any other packet and for one
    that does not parse: python-socketio's own decoder then reads it (or refuses it)."""
    match = _EVENT.match(text)
    if match is None:
        return None
    try:
        data = orjson.loads(text[match.end() - 1 :])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        return None
    digits = match.group(1)
    return (int(digits) if digits else None), data


def encode_ack(ack_id: int, data: list[Any]) -> str | None:
    """An ACK packet to namespace "/" as python-socketio writes it; None if the data holds
    bytes (those go as attachments: python-socketio's encoder)."""
    if FastPacket.data_is_binary(data):
        return None
    return f"3{ack_id}{orjson.dumps(data, option=_OPTIONS).decode()}"
