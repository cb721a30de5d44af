// The Socket.IO connection: acked requests that resolve to the reply or throw the server's
// error code, the server's call.* events, and keeping the socket's token fresh.

import { io } from "socket.io-client";

const ACK_TIMEOUT_MS = 10_000;

export const CALL_EVENTS = [
  "call.incoming",
  "call.answered",
  "call.selected",
  "call.candidate",
  "call.renegotiate",
  "call.peer",
  "call.ended",
];

/** A refused request: `code` is the server's stable error code (docs/calls.md). */
export class SignalError extends Error {
  constructor(event, error) {
    super(`${event}: ${error?.message ?? error?.code ?? "no reply"}`);
    this.name = "SignalError";
    this.code = error?.code ?? "signalling_unavailable";
    this.details = error?.details ?? {};
  }
}

export class Signalling extends EventTarget {
  /** Connect to the page's own origin; every (re)connect authenticates with the newest token. */
  constructor(token) {
    super();
    this.token = token;
    this.socket = io({
      transports: ["websocket"],
      auth: (send) => send({ token: this.token }),
    });
    this.wasConnected = false;
    this.socket.on("connect", () => {
      this.#emit("connected", { reconnected: this.wasConnected });
      this.wasConnected = true;
    });
    this.socket.on("disconnect", (reason) => this.#emit("disconnected", { reason }));
    this.socket.on("connect_error", (error) =>
      this.#emit("connect_error", { code: error?.data?.code, message: error.message }),
    );
    this.socket.on("session.closed", (event) => this.#emit("closed", event));
    this.socket.on("auth.expired", () => this.#emit("expired", {}));
    for (const name of CALL_EVENTS) {
      this.socket.on(name, (event) => this.#emit(name, event));
    }
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Resolves once connected, or rejects with the refusal's code (e.g. `token_expired`). */
  connected(timeoutMs = ACK_TIMEOUT_MS) {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timedOut = () => finish(new SignalError("connect", { code: "timeout" }));
      const timer = setTimeout(timedOut, timeoutMs);
      const finish = (error) => {
        clearTimeout(timer);
        this.socket.off("connect", onConnect);
        this.socket.off("connect_error", onError);
        if (error) reject(error);
        else resolve();
      };
      const onConnect = () => finish(null);
      const onError = (error) =>
        finish(new SignalError("connect", error?.data ?? { message: error.message }));
      this.socket.on("connect", onConnect);
      this.socket.on("connect_error", onError);
    });
  }

  /** Send an acked event: the reply (`{ok: true, ...}`) or a thrown SignalError. */
  async request(event, payload) {
    let reply;
    try {
      reply = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
    } catch {
      throw new SignalError(event, { code: "signalling_unavailable", message: "no reply in time" });
    }
    if (!reply?.ok) throw new SignalError(event, reply?.error);
    return reply;
  }

  /** A refreshed access token: used on the live socket now and for every reconnect. */
  async renew(token) {
    this.token = token;
    if (this.socket.connected) await this.request("auth.renew", { token });
  }

  close() {
    this.socket.close();
  }
}
