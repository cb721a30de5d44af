"""Socket.IO packets encoded with orjson.

python-socketio encodes every event, ack and fan-out with the `json` module of its packet class
and walks every outgoing payload looking for bytes; both showed in the send path's profile. This
packet class keeps the wire format (compact JSON, binary attachments still supported) and only
makes those two steps cheaper. It is passed as the server's `serializer`, so the process-wide
defaults of python-socketio and engine.io stay as they are.
"""

from __future__ import annotations

from typing import Any

import orjson
import socketio.packet

_BINARY = (bytes, bytearray)
_OPTIONS = orjson.OPT_NON_STR_KEYS  # like json.dumps, which turns int keys into strings


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
