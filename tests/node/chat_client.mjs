// A chat device written with Node's official socket.io-client, driven by tests/chat/test_node_client.py.
// Usage: node chat_client.mjs <url> <access token> <conversation id> <envelope json>
// Prints one JSON line: {ack, received} where `received` is the first `message` event it gets.
import { io } from "socket.io-client";

const [url, token, conversationId, envelopeJson] = process.argv.slice(2);
const socket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });
const fail = (why) => { console.log(JSON.stringify({ error: String(why) })); process.exit(1); };
setTimeout(() => fail("timeout"), 15000);

const received = new Promise((resolve) => socket.on("message", resolve));
socket.on("connect_error", (err) => fail(`connect_error: ${JSON.stringify(err.data ?? err.message)}`));
socket.on("connect", async () => {
  try {
    const ack = await socket.timeout(5000).emitWithAck("message.send", {
      conversation_id: conversationId,
      client_msg_id: "node-1",
      envelope: JSON.parse(envelopeJson),
    });
    console.error("acked"); // tells the test to send its reply
    const message = await received;
    console.log(JSON.stringify({ ack, received: message }));
    socket.close();
    process.exit(0);
  } catch (err) {
    fail(err);
  }
});
