"""The rules of accepting a chat message, without I/O: who may send, what the envelope must
cover, and how a batch of sends is ordered into gapless per-conversation seqs.

The send path checks an envelope against a `ConversationView` (members and their current
devices) and the group commit re-reads the view inside its transaction: a send is stored only if
the view it was checked against is still the truth then (`plan_batch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rtserver.domain.keys import coverage, envelope_body, verify

DeviceKeys = Mapping[str, str]  # device id -> public signing key (base64)


@dataclass(frozen=True)
class ConversationView:
    """What a send is checked against: the members and, per member, the current devices."""

    conversation_id: str
    members: frozenset[str]
    devices: Mapping[str, DeviceKeys]

    def device_ids(self) -> dict[str, list[str]]:
        return {user: list(self.devices.get(user, {})) for user in self.members}


@dataclass(frozen=True)
class Refusal:
    """Why a send is refused; `code` is the stable error code (docs/errors.md)."""

    code: str
    message: str
    details: Any = None


NOT_MEMBER = Refusal("conversation_not_found", "no such conversation")


def check_send(
    view: ConversationView,
    sender_user_id: str,
    sender_device_id: str,
    client_msg_id: str,
    envelope: Mapping[str, Any],
) -> Refusal | None:
    """None when the envelope may be stored: the sender is a member on a current device, the
    signature binds the envelope to this conversation, its members and this client_msg_id, and
    exactly the current devices of every member can open it."""
    if sender_user_id not in view.members:
        return NOT_MEMBER
    signing_key = view.devices.get(sender_user_id, {}).get(sender_device_id)
    if signing_key is None:
        return Refusal(
            "device_keys_missing",
            "this device has no current keys: publish them and the device list first",
        )
    signed = envelope_body(
        envelope, view.conversation_id, view.members, sender_user_id, client_msg_id
    )
    if not verify(signing_key, signed, envelope["signature"]):
        return Refusal("bad_signature", "envelope signature does not verify")
    found = coverage(view.device_ids(), [r["device_id"] for r in envelope["recipients"]])
    if found.missing:
        return Refusal(
            "missing_devices",
            "some current devices cannot open this message; fetch their keys and resend",
            {"missing": found.missing},
        )
    if found.unknown:
        return Refusal(
            "unknown_devices",
            "the message is addressed to devices that are not current members' devices",
            {"devices": found.unknown},
        )
    return None


SendKey = tuple[str, str, str]  # conversation id, sender user id, client_msg_id


@dataclass(frozen=True)
class BatchSend:
    """One checked send waiting for the group commit."""

    key: SendKey
    view: ConversationView


@dataclass(frozen=True)
class Store:
    """Give this send the seq."""

    seq: int


@dataclass(frozen=True)
class Stored:
    """Already stored before this batch (a retry): answer with the stored message's seq."""

    seq: int


@dataclass(frozen=True)
class SameAs:
    """A retry of an earlier send of the same batch: answer with that one's result."""

    index: int


@dataclass(frozen=True)
class Stale:
    """The view the send was checked against is no longer the truth: check again with `view`
    (None: the conversation is gone)."""

    view: ConversationView | None


Decision = Store | Stored | SameAs | Stale


def plan_batch(
    sends: Sequence[BatchSend],
    heads: Mapping[str, int],
    views: Mapping[str, ConversationView],
    stored: Mapping[SendKey, int],
) -> tuple[list[Decision], dict[str, int]]:
    """Decide every send of a batch, in order, from the truth read inside its transaction:
    `heads` (each conversation's last seq), `views` and `stored` (seqs of keys already stored).
    Returns the decisions and the new heads of the conversations that advanced. Seqs continue
    each head without a gap; a key is stored at most once; a sender who is no longer a member
    gets nothing, not even the seq of a message it stored before."""
    next_seq = dict(heads)
    first_of: dict[SendKey, int] = {}
    decisions: list[Decision] = []
    advanced: dict[str, int] = {}
    for index, send in enumerate(sends):
        conversation_id = send.key[0]
        view = views.get(conversation_id)
        if view is None or conversation_id not in next_seq:
            decisions.append(Stale(None))
        elif send.key[1] not in view.members:
            decisions.append(Stale(view))  # checked again: refused, even if it was stored
        elif send.key in stored:
            decisions.append(Stored(stored[send.key]))
        elif send.key in first_of:
            decisions.append(SameAs(first_of[send.key]))
        elif view != send.view:
            decisions.append(Stale(view))
        else:
            seq = next_seq[conversation_id] + 1
            next_seq[conversation_id] = advanced[conversation_id] = seq
            first_of[send.key] = index
            decisions.append(Store(seq))
    return decisions, advanced
