"""Keeps every node's conversation-view cache behind membership changes (services.Realtime).

The conversations service announces each membership change (`conversation.updated`) through
`Realtime.to_users` once it has committed. Wrapped around the delivery it is given, this drops
the conversation from this node's cache before the announcement goes out, and publishes the
change on the bus so that every other node drops it too. A publish lost while Redis is away is
covered by the cache's TTL and by dropping everything when the fan-out re-subscribes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from redis.exceptions import RedisError

from rtserver.protocol import CONVERSATION_UPDATED, TOPIC_CONVERSATION_CHANGED
from rtserver.services.connections import Realtime
from rtserver.services.conversation_views import ConversationViews
from signaling.bus import Bus

log = logging.getLogger(__name__)


class ViewInvalidation:
    def __init__(self, delivery: Realtime, views: ConversationViews, bus: Bus) -> None:
        self._delivery = delivery
        self._views = views
        self._bus = bus
        bus.subscribe(TOPIC_CONVERSATION_CHANGED, self._changed_elsewhere)

    async def to_users(self, user_ids: Iterable[str], event: str, payload: dict[str, Any]) -> None:
        if event == CONVERSATION_UPDATED:
            await self.conversation_changed(str(payload["conversation_id"]))
        await self._delivery.to_users(user_ids, event, payload)

    async def to_devices(
        self, device_ids: Iterable[str], event: str, payload: dict[str, Any]
    ) -> None:
        await self._delivery.to_devices(device_ids, event, payload)

    async def conversation_changed(self, conversation_id: str) -> None:
        self._views.invalidate(conversation_id)
        try:
            await self._bus.publish(
                TOPIC_CONVERSATION_CHANGED, {"conversation_id": conversation_id}
            )
        except (RedisError, OSError):
            log.warning("bus unavailable; other nodes' view caches expire on their own")

    async def _changed_elsewhere(self, message: dict[str, Any]) -> None:
        self._views.invalidate(str(message["conversation_id"]))
