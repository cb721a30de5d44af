"""Socket.IO event names and bus topics: the one place they are spelled. See docs/protocol.md."""

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
TOPIC_CONVERSATION_CHANGED = "conversation.changed"  # drop cached conversation views

# chat (client -> server, acked)
MESSAGE_SEND = "message.send"
SYNC = "sync"
HISTORY = "history"
RECEIPT_READ = "receipt.read"
TYPING = "typing"
PRESENCE_SET = "presence.set"
PRESENCE_QUERY = "presence.query"

# chat (server -> client)
MESSAGE = "message"
RECEIPT = "receipt"
TYPING_EVENT = "typing"
PRESENCE = "presence"
SYNC_REQUIRED = "sync.required"
CONVERSATION_UPDATED = "conversation.updated"

# booking (server -> client)
BOOKING_UPDATED = "booking.updated"

# e2ee (server -> client)
KEYS_CHANGED = "keys.changed"

# screening and notifications (server -> client)
SCREENING_ALERT = "screening.alert"
NOTIFICATION = "notification"

# calls (client -> server, acked)
CALL_INVITE = "call.invite"
CALL_ANSWER = "call.answer"
CALL_REJECT = "call.reject"
CALL_HANGUP = "call.hangup"
CALL_RESUME = "call.resume"
CALL_STATS = "call.stats"

# calls (server -> client); call.candidate and call.renegotiate go both ways
CALL_INCOMING = "call.incoming"
CALL_ANSWERED = "call.answered"
CALL_SELECTED = "call.selected"
CALL_CANDIDATE = "call.candidate"
CALL_RENEGOTIATE = "call.renegotiate"
CALL_PEER = "call.peer"
CALL_ENDED = "call.ended"
