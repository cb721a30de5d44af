// Trickled ICE candidates of one call, both ways (docs/calls.md, call.candidate). Ours wait
// until our invite or answer is in (before that the server has no call to route them in);
// the peer's wait (bounded) until the connection has the remote description they belong to,
// and only the device in the call may send them.

const MAX_HELD = 100;

export class Trickle {
  /** `send(payload)`: one call.candidate request. */
  constructor(send) {
    this.send = send;
    this.open = false;
    this.outbox = [];
    this.held = [];
  }

  /** A local candidate, or null at the end of gathering. */
  local(candidate) {
    const payload = candidate
      ? {
          candidate: candidate.candidate,
          sdp_mid: candidate.sdpMid,
          sdp_mline_index: candidate.sdpMLineIndex,
        }
      : { candidate: "", sdp_mid: null, sdp_mline_index: null };
    if (!this.open) {
      this.outbox.push(payload);
      return Promise.resolve();
    }
    return this.#send(payload);
  }

  /** Our invite or answer is in: send what was gathered meanwhile, in gathering order. */
  async opened() {
    this.open = true;
    await Promise.all(this.outbox.splice(0).map((payload) => this.#send(payload)));
  }

  /** A `call.candidate` event: to `peer` now if it can take it, else held. */
  async remote(event, peer, peerDeviceId) {
    const { candidate, sdp_mid: sdpMid, sdp_mline_index: sdpMLineIndex } = event.candidate ?? {};
    const init = { candidate: candidate ?? "", sdpMid, sdpMLineIndex };
    const from = event.from_device_id;
    if (peer?.pc.remoteDescription) {
      if (from === peerDeviceId) await peer.addCandidate(init);
    } else if (this.held.length < MAX_HELD) {
      this.held.push({ from, init }); // the answering device may not be known yet
    }
  }

  /** `peer` has its remote description: give it the held candidates of `peerDeviceId`. */
  async release(peer, peerDeviceId) {
    for (const { from, init } of this.held.splice(0)) {
      if (from === peerDeviceId) await peer.addCandidate(init);
    }
  }

  async #send(payload) {
    try {
      await this.send(payload);
    } catch (error) {
      if (error.code !== "call_ended") console.warn("candidate not sent:", error.message);
    }
  }
}
