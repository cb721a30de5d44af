// One call as this device sees it (docs/calls.md): ringing -> active -> ended, its local and
// remote media, trickled candidates, renegotiation, quality reports. Every SDP this device
// sends is signed with its device key; every SDP it receives is verified against the peer
// device's published key before it is used, and a call whose signature does not verify is
// refused with a visible error: only the signed DTLS fingerprints keep the server out of it.

import { signSdp, verifySdp } from "../../e2ee/src/sdp.js";
import { peerDevice } from "./keys.js";
import { Peer } from "./peer.js";
import { SignalError } from "./signalling.js";
import { QualityMonitor } from "./stats.js";
import { Trickle } from "./trickle.js";

export const END_TEXT = {
  hangup: "Call ended",
  cancelled: "Call cancelled",
  rejected: "Call declined",
  missed: "No answer",
  busy: "Busy: in another call",
  connection_lost: "Call ended: connection lost",
  switched_to_chat: "Continued in chat",
  answered_elsewhere: "Answered on another device",
  glare: "You both called at once: taking their call",
  failed: "Call failed",
};

export class CallSession extends EventTarget {
  /** `ctx`: {signalling, device (SecureDevice), api}; `role`: "caller" or "callee". */
  constructor(ctx, { callId, conversationId, media, role, peerUserId, peerDeviceId = null }) {
    super();
    Object.assign(this, { ctx, callId, conversationId, media, role, peerUserId, peerDeviceId });
    this.state = "new"; // new -> ringing -> active -> ended
    this.status = "";
    this.error = null;
    this.endReason = null;
    this.duration = null;
    this.offerSdp = null; // a callee's verified incoming offer
    this.peer = null;
    this.localStream = null;
    this.remoteStream = new MediaStream();
    this.muted = false;
    this.cameraOff = false;
    this.quality = null; // the latest sample, for the page
    this.queue = Promise.resolve();
    const signalling = ctx.signalling;
    this.trickle = new Trickle((candidate) =>
      signalling.request("call.candidate", { call_id: callId, candidate }),
    );
    this.monitor = new QualityMonitor(callId, {
      report: (payload) => signalling.request("call.stats", payload),
      onSample: (quality) => {
        this.quality = quality;
        this.#changed();
      },
    });
  }

  /** Run a server event's handler after the ones before it: an offer is applied before the
   * candidates that follow it, whatever the handlers await. */
  enqueue(handler) {
    this.queue = this.queue.then(handler).catch((error) => {
      console.error(`call ${this.callId}:`, error);
      this.error = `Call error: ${error.message}`;
      this.#changed();
    });
    return this.queue;
  }

  get identity() {
    return this.ctx.device.identity;
  }

  #changed(status) {
    if (status !== undefined) this.status = status;
    this.dispatchEvent(new Event("change"));
  }

  // placing and answering -------------------------------------------------------------------

  /** Caller: media, the signed offer in call.invite. Throws SignalError (e.g. `glare`). */
  async place() {
    this.#changed("Calling…");
    const [iceConfig, stream] = await Promise.all([this.ctx.api.iceConfig(), this.#media()]);
    if (this.state === "ended") return; // hung up meanwhile
    this.peer = this.#newPeer(iceConfig, false);
    this.peer.addTracks(stream, this.#kinds());
    const offer = await this.peer.offer();
    if (this.state === "ended") return;
    await this.ctx.signalling.request("call.invite", {
      call_id: this.callId,
      conversation_id: this.conversationId,
      session_id: null,
      media: this.media,
      sdp: this.#signed(offer),
    });
    if (this.state === "ended") {
      // Hung up while the invite was on its way: cancel the call it created.
      await this.ctx.signalling.request("call.hangup", { call_id: this.callId }).catch(() => {});
      return;
    }
    this.state = "ringing";
    this.#changed("Ringing…");
    await this.trickle.opened();
  }

  /** Callee, on call.incoming: verify the offer; a forged one is declined, never rung. */
  async ring(event) {
    try {
      await this.#verify(this.peerDeviceId, event.sdp, "offer");
    } catch (error) {
      await this.#refuse("call.reject", `The call was refused: ${error.message}`);
      return false;
    }
    this.offerSdp = event.sdp.sdp;
    this.state = "ringing";
    this.#changed("Incoming call");
    return true;
  }

  async accept() {
    if (this.state !== "ringing" || this.role !== "callee") return;
    this.#changed("Connecting…");
    let answer;
    try {
      const [iceConfig, stream] = await Promise.all([this.ctx.api.iceConfig(), this.#media()]);
      if (this.state !== "ringing") return; // stopped ringing meanwhile
      this.peer = this.#newPeer(iceConfig, true);
      answer = await this.peer.answer(this.offerSdp, stream);
      await this.trickle.release(this.peer, this.peerDeviceId);
    } catch (error) {
      await this.#refuse("call.reject", `Could not answer: ${error.message}`);
      return;
    }
    try {
      await this.ctx.signalling.request("call.answer", {
        call_id: this.callId,
        sdp: this.#signed(answer),
      });
    } catch (error) {
      if (error.code === "call_taken") this.finish("answered_elsewhere");
      else this.fail(`Could not answer: ${error.message}`);
      return;
    }
    if (this.state !== "ringing") return;
    this.#activate();
    await this.trickle.opened();
  }

  async decline() {
    if (this.state !== "ringing") return;
    try {
      await this.ctx.signalling.request("call.reject", { call_id: this.callId });
    } catch (error) {
      if (!(error instanceof SignalError)) throw error;
    }
    this.finish("rejected");
  }

  async hangup() {
    if (this.state === "ended") return;
    if (this.state === "new") {
      this.finish("cancelled");
      return;
    }
    try {
      const reply = await this.ctx.signalling.request("call.hangup", { call_id: this.callId });
      this.finish(reply.end_reason, reply.duration_seconds);
    } catch (error) {
      if (!(error instanceof SignalError)) throw error;
      this.finish(this.state === "ringing" ? "cancelled" : "hangup");
    }
  }

  // controls ----------------------------------------------------------------------------------

  toggleMute() {
    this.muted = !this.muted;
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = !this.muted;
    this.#changed();
  }

  toggleCamera() {
    this.cameraOff = !this.cameraOff;
    for (const track of this.localStream?.getVideoTracks() ?? []) track.enabled = !this.cameraOff;
    this.#changed();
  }

  // server events (the desk routes them here) --------------------------------------------------

  async onAnswered(event) {
    if (this.state !== "ringing" || this.role !== "caller") return;
    const answerer = event.answered_by ?? {};
    try {
      if (answerer.user_id !== this.peerUserId) {
        throw new Error("answered by someone who is not the other member");
      }
      await this.#verify(answerer.device_id, event.sdp, "answer");
    } catch (error) {
      await this.#refuse("call.hangup", `The call was hung up: ${error.message}`);
      return;
    }
    this.peerDeviceId = answerer.device_id;
    try {
      await this.peer.acceptAnswer(event.sdp.sdp);
    } catch (error) {
      await this.#refuse("call.hangup", `The answer cannot be used: ${error.message}`);
      return;
    }
    await this.trickle.release(this.peer, this.peerDeviceId);
    this.#activate();
  }

  onSelected(event) {
    if (this.role === "callee" && this.state === "ringing" && event.device_id !== this.#me()) {
      this.finish("answered_elsewhere");
    }
  }

  async onCandidate(event) {
    if (this.state !== "ended") await this.trickle.remote(event, this.peer, this.peerDeviceId);
  }

  async onRenegotiate(event) {
    if (this.state !== "active" || !this.peer) return;
    const description = { type: event.sdp?.type, sdp: event.sdp?.sdp };
    try {
      if (event.from_device_id !== this.peerDeviceId) {
        throw new Error("renegotiation from a device that is not in this call");
      }
      await this.#verify(event.from_device_id, event.sdp, description.type);
    } catch (error) {
      await this.#refuse("call.hangup", `The call was hung up: ${error.message}`);
      return;
    }
    if (event.media) this.media = event.media;
    let answer;
    try {
      answer = await this.peer.receive(description);
    } catch (error) {
      if (description.type !== "offer") throw error;
      answer = await this.#answerOnNewPeer(description, error);
    }
    if (answer) {
      await this.ctx.signalling.request("call.renegotiate", {
        call_id: this.callId,
        reason: event.reason ?? "ice_restart",
        sdp: this.#signed(answer),
      });
    }
  }

  onPeer(event) {
    if (this.state !== "active") return;
    this.#changed(event.state === "reconnecting" ? "The other side is reconnecting…" : "In call");
  }

  onEnded(event) {
    this.finish(event.end_reason, event.duration_seconds);
  }

  /** After this device's socket came back: rejoin the call (or learn that it ended). */
  async resume() {
    if (this.state !== "active") return;
    try {
      const reply = await this.ctx.signalling.request("call.resume", { call_id: this.callId });
      if (reply.call?.state === "ended") {
        this.finish(reply.call.end_reason, reply.call.duration_seconds);
      }
    } catch (error) {
      this.finish("connection_lost");
      if (!(error instanceof SignalError)) throw error;
    }
  }

  // ending --------------------------------------------------------------------------------------

  finish(reason, duration = null) {
    if (this.state === "ended") return;
    this.state = "ended";
    this.endReason = reason;
    this.duration = duration ?? null;
    this.monitor.stop();
    this.peer?.close();
    for (const track of this.localStream?.getTracks() ?? []) track.stop();
    const text = END_TEXT[reason] ?? `Call ended (${reason})`;
    this.#changed(this.duration ? `${text} · ${formatDuration(this.duration)}` : text);
  }

  /** End with a visible error (this device's own failure, not the peer's choice). */
  fail(message) {
    this.error = message;
    if (this.state === "ended") this.#changed();
    else this.finish("failed");
  }

  // internals -----------------------------------------------------------------------------------

  #me() {
    return this.identity.deviceId;
  }

  #kinds() {
    return this.media === "video" ? ["audio", "video"] : ["audio"];
  }

  async #media() {
    const video = this.media === "video";
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video });
    if (this.state === "ended") {
      for (const track of stream.getTracks()) track.stop();
    } else {
      this.localStream = stream;
      this.#changed();
    }
    return stream;
  }

  /** A renegotiation offer this connection cannot take (a peer that negotiates a new
   * connection with other media sections, as the Python client does for a media change):
   * answer it on a new connection and move the call there. */
  async #answerOnNewPeer(description, why) {
    console.info("renegotiating on a new connection:", why.message);
    const fresh = this.#newPeer(await this.ctx.api.iceConfig(), true);
    const answer = await fresh.answer(description.sdp, this.localStream);
    const sending = fresh.pc.getSenders().map((sender) => sender.track);
    for (const track of this.localStream.getTracks()) {
      if (sending.includes(track)) continue;
      track.stop(); // e.g. the camera after a change to audio only
      this.localStream.removeTrack(track);
    }
    const old = this.peer;
    this.peer = fresh;
    fresh.live = true;
    old.close();
    this.remoteStream = new MediaStream(fresh.pc.getReceivers().map((r) => r.track));
    this.monitor.restart();
    this.#changed();
    return answer;
  }

  #newPeer(iceConfig, polite) {
    return new Peer({
      iceConfig,
      polite,
      sendOffer: (offer) =>
        this.ctx.signalling.request("call.renegotiate", {
          call_id: this.callId,
          reason: "ice_restart",
          sdp: this.#signed(offer),
        }),
      sendCandidate: (candidate) => this.trickle.local(candidate),
      onTrack: (track) => {
        this.remoteStream.addTrack(track);
        this.#changed();
      },
      onState: (state) => this.#connectionState(state),
    });
  }

  #signed(description) {
    const { type, sdp } = description;
    return { type, sdp, signature: signSdp(this.identity, this.callId, type, sdp) };
  }

  async #verify(deviceId, sdp, kind) {
    if (!sdp || sdp.type !== kind || typeof sdp.sdp !== "string") {
      throw new Error(`expected a signed ${kind}`);
    }
    const sender = await peerDevice(this.ctx.device, this.peerUserId, deviceId);
    verifySdp(sender, this.callId, kind, sdp.sdp, sdp.signature);
  }

  async #refuse(event, message) {
    this.error = message;
    try {
      const reply = await this.ctx.signalling.request(event, { call_id: this.callId });
      this.finish(reply.end_reason ?? "failed", reply.duration_seconds);
    } catch {
      this.finish("failed");
    }
  }

  #activate() {
    this.state = "active";
    this.peer.live = true;
    this.monitor.start(() => this.peer);
    this.#changed(this.peer.pc.connectionState === "connected" ? "In call" : "Connecting…");
  }

  #connectionState(state) {
    if (this.state !== "active") return;
    const text = {
      connected: "In call",
      disconnected: "Reconnecting…",
      failed: "Connection failed: restarting ICE…",
    }[state];
    if (text) this.#changed(text);
  }
}

export function formatDuration(seconds) {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
