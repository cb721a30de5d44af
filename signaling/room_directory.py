"""Which nodes have sockets in a room, kept in Redis, so that an emit reaches only those nodes.

python-socketio's Redis manager publishes every emit on one channel: every node reads and
decodes every emit, its own included, whether or not it holds a recipient. Here each node
records in Redis, per room, that it has sockets there (a set of node ids: the node is added when
its first local socket enters the room and removed when its last one leaves), listens on a
channel of its own, and an emit to rooms runs one Lua script that publishes it to the channels
of the *other* nodes in those rooms' sets: to none when every recipient is local.

Only rooms that other nodes address are recorded: user and device rooms
(signaling.rooms.addressed_across_nodes). A socket's own room (its sid) is emitted to only by
its node; recording it would cost two Redis writes per connection and leave a set behind for
every socket of a node that crashed. An emit to any other room goes to every node, as before.

Why nothing is lost (signaling.fanout does the Redis side):
- a socket's rooms are recorded before its connect completes (`enter_room` waits for Redis) and
  the client reads the store (`sync`) only after that: a message committed before the script
  ran is in what it reads, one published after reaches its node;
- one node's writes reach Redis in the order it made them (one pipeline at a time);
- a publish that nobody receives (the node died, or its subscription is down) removes that node
  from the room's set; a node records all of its rooms again each time its subscription is
  confirmed, after a failed write and when its probe finds them gone, before its sockets are
  asked to sync (signaling.fanout, signaling.fanout_subscription).
"""

from __future__ import annotations

from typing import Any

from signaling.rooms import addressed_across_nodes

# KEYS: the rooms' sets. ARGV: this node's id, the node channels' prefix, the message.
# Returns how many nodes the message was published to.
FANOUT_SCRIPT = """
local alive = {}
local sent = 0
for _, key in ipairs(KEYS) do
  for _, node in ipairs(redis.call('SMEMBERS', key)) do
    if node ~= ARGV[1] then
      if alive[node] == nil then
        alive[node] = redis.call('PUBLISH', ARGV[2] .. node, ARGV[3]) > 0
        if alive[node] then sent = sent + 1 end
      end
      if not alive[node] then redis.call('SREM', key, node) end
    end
  end
end
return sent
"""


def room_key(channel: str, namespace: str, room: Any) -> str:
    return f"{channel}:room:{namespace}:{room}"


def node_channel_prefix(channel: str) -> str:
    return f"{channel}:node:"


class RoomDirectory:
    """Mixin (before signaling.room_index.IndexedRooms in the bases): calls `_record_room` when
    this node's first socket enters a room and when its last one leaves, for the rooms other
    nodes address (user and device rooms)."""

    rooms: dict[str, dict[Any, Any]]

    def _record_room(self, namespace: str, room: Any, present: bool) -> None:
        raise NotImplementedError

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        first = addressed_across_nodes(room) and room not in self.rooms.get(namespace, {})
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        if first:
            self._record_room(namespace, room, True)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        self._forget_emptied(namespace, [room])

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        rooms = self.get_rooms(sid, namespace)  # type: ignore[attr-defined]
        super().basic_disconnect(sid, namespace, **kwargs)  # type: ignore[misc]
        self._forget_emptied(namespace, rooms)

    def local_rooms(self) -> list[tuple[str, Any]]:
        return [
            (namespace, room)
            for namespace, rooms in self.rooms.items()
            for room in rooms
            if addressed_across_nodes(room)
        ]

    def _forget_emptied(self, namespace: str, rooms: list[Any]) -> None:
        present = self.rooms.get(namespace, {})
        for room in rooms:
            if addressed_across_nodes(room) and room not in present:
                self._record_room(namespace, room, False)
