"""Validated shapes of chat events. The envelope is ciphertext: only its shape is checked here
(signatures and device coverage are checked once device keys exist, see docs/protocol.md)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def _base64_of(min_bytes: int, max_bytes: int) -> AfterValidator:
    def check(value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("not standard base64") from exc
        if not min_bytes <= len(raw) <= max_bytes:
            raise ValueError(f"must decode to {min_bytes}..{max_bytes} bytes")
        return value

    return AfterValidator(check)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WrappedKey(Strict):
    device_id: Id
    key: Annotated[str, Field(max_length=256), _base64_of(32, 160)]


class EnvelopeV1(Strict):
    """Content sealed once with a fresh secretbox key; that key wrapped for each device."""

    v: Literal[1]
    sender_device_id: Id
    nonce: Annotated[str, Field(max_length=64), _base64_of(24, 24)]
    ciphertext: Annotated[str, Field(min_length=4), _base64_of(17, 1 << 20)]
    recipients: list[WrappedKey] = Field(min_length=1, max_length=256)
    signature: Annotated[str, Field(max_length=128), _base64_of(64, 64)]


class MessageSend(Strict):
    conversation_id: Id
    client_msg_id: Id
    envelope: EnvelopeV1


class Sync(Strict):
    cursors: dict[Id, Annotated[int, Field(ge=0)]] = Field(default_factory=dict, max_length=1000)
    limit: int | None = Field(default=None, ge=1, le=1000)


class History(Strict):
    conversation_id: Id
    before_seq: int | None = Field(default=None, ge=1)
    limit: int = Field(default=50, ge=1, le=100)


class ReceiptRead(Strict):
    conversation_id: Id
    seq: int = Field(ge=1)


class Typing(Strict):
    conversation_id: Id
    on: bool


class PresenceSet(Strict):
    state: Literal["online", "away", "in_session"]


class PresenceQuery(Strict):
    user_ids: list[Id] = Field(min_length=1, max_length=200)
