// The calls of this device: places them, rings for incoming ones, routes the server's call.*
// events to the right call, settles glare, and resumes the live call after a reconnect.

import { CallSession } from "./call.js";
import { CALL_EVENTS } from "./signalling.js";

const GLARE_WAIT_MS = 10_000; // the winning call's call.incoming is on its way to us

const HANDLERS = {
  "call.answered": "onAnswered",
  "call.selected": "onSelected",
  "call.candidate": "onCandidate",
  "call.renegotiate": "onRenegotiate",
  "call.peer": "onPeer",
  "call.ended": "onEnded",
};

export class CallDesk extends EventTarget {
  /** `ctx`: {signalling, device (SecureDevice), api}. */
  constructor(ctx) {
    super();
    this.ctx = ctx;
    this.calls = new Map(); // call id -> CallSession, until it ends
    this.current = null; // the call on screen (placed, accepted, or just ended)
    for (const name of CALL_EVENTS) {
      ctx.signalling.addEventListener(name, ({ detail }) => this.#route(name, detail ?? {}));
    }
    ctx.signalling.addEventListener("connected", ({ detail }) => {
      if (detail.reconnected) this.current?.resume();
    });
  }

  /** Calls ringing on this device, oldest first. */
  get ringing() {
    return [...this.calls.values()].filter((c) => c.role === "callee" && c.state === "ringing");
  }

  /** Call the other member of a direct conversation. */
  async place(conversation, media) {
    this.#oneAtATime();
    const me = this.ctx.device.identity.userId;
    const others = conversation.members.map((m) => m.user_id).filter((id) => id !== me);
    const call = this.#track(
      new CallSession(this.ctx, {
        callId: crypto.randomUUID(),
        conversationId: conversation.id,
        media,
        role: "caller",
        peerUserId: others[0],
      }),
    );
    this.#show(call);
    try {
      await call.place();
    } catch (error) {
      if (error.code !== "glare" || !error.details?.call_id) {
        call.fail(`Could not call: ${error.message}`);
        return;
      }
      // Both called at once and the server kept the other invite: drop ours, answer theirs.
      call.finish("glare");
      const winner = await this.#incoming(error.details.call_id);
      if (!winner) {
        call.fail("Both of you called at once, and the other call did not arrive");
        return;
      }
      this.#show(winner);
      await winner.accept();
    }
  }

  async accept(call) {
    this.#oneAtATime();
    this.#show(call);
    await call.accept();
  }

  /** Take the ended call off the screen. */
  dismiss() {
    if (this.current?.state === "ended") this.#show(null);
  }

  async #route(name, event) {
    if (name === "call.incoming") {
      await this.#ring(event);
      return;
    }
    const call = this.calls.get(event.call_id);
    if (call) await call.enqueue(() => call[HANDLERS[name]](event));
  }

  async #ring(event) {
    if (this.calls.has(event.call_id)) return;
    const call = new CallSession(this.ctx, {
      callId: event.call_id,
      conversationId: event.conversation_id,
      media: event.media === "video" ? "video" : "audio",
      role: "callee",
      peerUserId: event.caller?.user_id,
      peerDeviceId: event.caller?.device_id,
    });
    this.#track(call);
    const rings = await call.enqueue(() => call.ring(event)).then(() => call.state === "ringing");
    if (!rings) this.#show(call); // refused (forged offer): show why
    this.#changed();
  }

  #oneAtATime() {
    const live = this.current && this.current.state !== "ended";
    if (live) throw new Error("Hang up the current call first");
  }

  #track(call) {
    this.calls.set(call.callId, call);
    call.addEventListener("change", () => {
      if (call.state === "ended") this.calls.delete(call.callId);
      this.#changed();
    });
    return call;
  }

  #show(call) {
    this.current = call;
    this.#changed();
  }

  /** The call `callId` once it rings here (it may be on its way, or still being verified). */
  #incoming(callId) {
    return new Promise((resolve) => {
      const check = () => {
        const call = this.calls.get(callId);
        if (call?.state === "ringing") done(call);
      };
      const done = (call) => {
        clearTimeout(timer);
        this.removeEventListener("change", check);
        resolve(call);
      };
      const timer = setTimeout(() => done(null), GLARE_WAIT_MS);
      this.addEventListener("change", check);
      check();
    });
  }

  #changed() {
    this.dispatchEvent(new Event("change"));
  }
}
