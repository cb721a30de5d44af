"""Socket.IO event names: the one place they are spelled. See docs/protocol.md."""

from __future__ import annotations

# client -> server (acked)
AUTH_RENEW = "auth.renew"
SESSION_INFO = "session.info"

# server -> client
AUTH_EXPIRED = "auth.expired"
SESSION_CLOSED = "session.closed"
SERVER_SHUTDOWN = "server.shutdown"

# bus topics between nodes
TOPIC_CLOSE_SOCKETS = "sockets.close"
