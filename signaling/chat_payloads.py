"""Validated shapes of chat events. The envelope is ciphertext: only its shape is checked here
(signatures and device coverage are checked once device keys exist, see docs/protocol.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rtserver.validation import Id, PublicKey, Signature, base64_of


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WrappedKey(Strict):
    """The content key boxed for one device: nonce (24 bytes) then box (32 + 16 bytes)."""

    device_id: Id
    key: Annotated[str, Field(max_length=128), base64_of(72, 72)]


class EnvelopeV1(Strict):
    """Content sealed once with a fresh secretbox key; that key boxed for each device from a
    per-message ephemeral X25519 key; the whole signed by the sending device (docs/e2ee.md)."""

    v: Literal[1]
    sender_device_id: Id
    ephemeral_key: PublicKey
    nonce: Annotated[str, Field(max_length=64), base64_of(24, 24)]
    ciphertext: Annotated[str, Field(min_length=4), base64_of(17, 1 << 20)]
    recipients: list[WrappedKey] = Field(min_length=1, max_length=256)
    signature: Signature


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
