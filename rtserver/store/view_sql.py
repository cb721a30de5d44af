"""Conversation views (members and their current devices) from the store: the statements,
written once for both drivers, and the rows turned into views. The group commit reads them
inside its transactions (store.chat_batch), the node's view cache on their own
(store.view_reads): a view read by one equals the view read by the other when nothing changed."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from rtserver.domain.chat_send import ConversationView

# The view statements, written once; `{ids}` is "in the given list of conversation ids" in the
# driver's form. Current devices as KeyRepository.current_devices: keys signed by the user's
# current master key, not signed out, and listed in a device list signed by that same key.
_MEMBERS = """
SELECT conversation_id, user_id FROM conversation_members WHERE conversation_id {ids}
"""
_CURRENT_DEVICES = """
SELECT dk.user_id, dk.device_id, dk.signing_key, dl.devices
FROM device_keys dk
JOIN devices d ON d.id = dk.device_id AND d.revoked_at IS NULL
JOIN master_keys mk ON mk.user_id = dk.user_id AND mk.version = dk.master_version
JOIN device_lists dl ON dl.user_id = dk.user_id AND dl.master_version = mk.version
WHERE dk.user_id IN (SELECT user_id FROM conversation_members WHERE conversation_id {ids})
"""
_PG_IDS = "= ANY($1::varchar[])"
_SQLITE_IDS = "IN (SELECT value FROM json_each(?))"
PG_MEMBERS = _MEMBERS.format(ids=_PG_IDS)
PG_CURRENT_DEVICES = _CURRENT_DEVICES.format(ids=_PG_IDS)
SQLITE_MEMBERS = _MEMBERS.format(ids=_SQLITE_IDS)
SQLITE_CURRENT_DEVICES = _CURRENT_DEVICES.format(ids=_SQLITE_IDS)


def views(
    member_rows: Iterable[tuple[str, str]], device_rows: Iterable[tuple[str, str, str, str]]
) -> dict[str, ConversationView]:
    members: dict[str, set[str]] = {}
    for conversation_id, user_id in member_rows:
        members.setdefault(conversation_id, set()).add(user_id)
    devices = _current_devices(device_rows)
    return {
        conversation_id: ConversationView(
            conversation_id,
            frozenset(ids),
            {user: devices[user] for user in ids if user in devices},
        )
        for conversation_id, ids in members.items()
    }


def _current_devices(rows: Iterable[tuple[str, str, str, str]]) -> dict[str, dict[str, str]]:
    """(user, device, signing key, the user's device list JSON) rows, already limited to keys
    signed by the current master key and not signed out, to user -> device -> signing key,
    keeping the devices the current device list names."""
    found: dict[str, dict[str, str]] = {}
    listed: dict[str, frozenset[str]] = {}
    for user_id, device_id, signing_key, device_list in rows:
        allowed = listed.get(user_id)
        if allowed is None:
            allowed = listed[user_id] = frozenset(orjson.loads(device_list))
        if device_id in allowed:
            found.setdefault(user_id, {})[device_id] = signing_key
    return found
