// The reference peer of `python -m bench compare`: a minimal, stock Node socket.io 4 server doing
// the relay part of rtserver's job, so every rtserver figure can also be read as a ratio to it.
// Usage: node relay.mjs <port>. Prints "listening <port>" on stdout once it accepts connections.
//
// - Clients connect over WebSocket only with `auth: {user, device, conversation}` (no real
//   authentication: the identity is taken as given) and join their user's room and their 1:1
//   conversation's room, as rtserver joins a socket to its user's and device's rooms.
// - `typing {conversation_id, on}` (acked `{ok: true}`) is relayed to the other member as
//   `typing {conversation_id, user_id, on, ttl_ms}`: rtserver's ephemeral event, same payloads.
// - `message.send {conversation_id, client_msg_id, envelope}` (acked `{ok, seq, sent_at,
//   duplicate}`) is relayed as `message {conversation_id, seq, sender, client_msg_id, envelope,
//   sent_at}`: the shape of rtserver's durable message, but nothing is stored or verified.
// Membership is checked against the conversation named at connect (rtserver asks its store).
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] ?? 0);
const TTL_MS = 6000;
const seqs = new Map();

const http = createServer();
const io = new Server(http, {
  transports: ["websocket"],
  serveClient: false,
  maxHttpBufferSize: 65536, // rtserver's socket_max_message_bytes
  perMessageDeflate: false, // rtserver has compression off as well
});

io.use((socket, next) => {
  const { user, device, conversation } = socket.handshake.auth ?? {};
  if (typeof user !== "string" || typeof device !== "string" || typeof conversation !== "string") {
    next(new Error("unauthorized"));
    return;
  }
  socket.data = { user, device, conversation };
  next();
});

const member = (socket, payload) =>
  payload !== null &&
  typeof payload === "object" &&
  payload.conversation_id === socket.data.conversation;

const refuse = (ack) =>
  ack?.({ ok: false, error: { code: "conversation_not_found", message: "no such conversation" } });

io.on("connection", (socket) => {
  const { user, device, conversation } = socket.data;
  socket.join([`user:${user}`, `conversation:${conversation}`]);

  socket.on("typing", (payload, ack) => {
    if (!member(socket, payload) || typeof payload.on !== "boolean") return refuse(ack);
    socket.to(`conversation:${conversation}`).emit("typing", {
      conversation_id: conversation,
      user_id: user,
      on: payload.on,
      ttl_ms: TTL_MS,
    });
    ack?.({ ok: true });
  });

  socket.on("message.send", (payload, ack) => {
    if (!member(socket, payload) || typeof payload.client_msg_id !== "string") return refuse(ack);
    const seq = (seqs.get(conversation) ?? 0) + 1;
    seqs.set(conversation, seq);
    const sentAt = new Date().toISOString();
    socket.to(`conversation:${conversation}`).emit("message", {
      conversation_id: conversation,
      seq,
      sender: { user_id: user, device_id: device },
      client_msg_id: payload.client_msg_id,
      envelope: payload.envelope,
      sent_at: sentAt,
    });
    ack?.({ ok: true, seq, sent_at: sentAt, duplicate: false });
  });
});

http.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${http.address().port}\n`);
});

const stop = () => {
  io.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
