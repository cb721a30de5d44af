// One RTCPeerConnection of a call, negotiated the "perfect negotiation" way: the first offer
// and answer go through call.invite / call.answer; once the call is live, any renegotiation
// (an ICE restart after the connection failed) is an offer over call.renegotiate, and when both
// sides offer at once the polite side (the callee) rolls its own offer back and answers, while
// the impolite side (the caller) ignores the other offer: the caller's offer wins, as it does
// for the Python client (rtclient/renegotiation.py).

const MAX_HELD_CANDIDATES = 100;
const DISCONNECTED_GRACE_MS = 4_000; // "disconnected" often heals by itself; then restart ICE

export class Peer {
  /**
   * `sendOffer(description)`: send a renegotiation offer (the call signs it).
   * `sendCandidate(candidate | null)`: a local ICE candidate, null at the end of gathering.
   * `onTrack(track)`, `onState(connectionState)`: what the page shows.
   */
  constructor({ iceConfig, polite, sendOffer, sendCandidate, onTrack, onState }) {
    this.pc = new RTCPeerConnection({ ...iceConfig, bundlePolicy: "max-bundle" });
    this.polite = polite;
    this.live = false; // set once the first offer/answer is done: renegotiate from then on
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.held = []; // remote candidates that came before the remote description
    this.sendOffer = sendOffer;
    this.disconnectedTimer = null;
    this.pc.onicecandidate = ({ candidate }) => sendCandidate(candidate);
    this.pc.ontrack = ({ track }) => onTrack(track);
    this.pc.onnegotiationneeded = () => this.#negotiate();
    this.pc.onconnectionstatechange = () => {
      this.#watch(this.pc.connectionState);
      onState(this.pc.connectionState);
    };
  }

  addTracks(stream, kinds) {
    for (const track of stream.getTracks()) {
      if (kinds.includes(track.kind)) this.pc.addTrack(track, stream);
    }
  }

  /** The first offer (for call.invite). */
  async offer() {
    await this.pc.setLocalDescription();
    return this.pc.localDescription;
  }

  /** Answer the first offer (for call.answer); `stream`'s tracks go out on the offered kinds. */
  async answer(offerSdp, stream) {
    await this.pc.setRemoteDescription({ type: "offer", sdp: offerSdp });
    await this.#releaseHeld();
    const offered = this.pc.getTransceivers().map((t) => t.receiver.track.kind);
    this.addTracks(stream, offered);
    await this.pc.setLocalDescription();
    return this.pc.localDescription;
  }

  async acceptAnswer(answerSdp) {
    await this.pc.setRemoteDescription({ type: "answer", sdp: answerSdp });
    await this.#releaseHeld();
  }

  /** A renegotiation offer or answer from the peer; returns our answer to an offer, null when
   * there is nothing to send (an answer applied, or the peer's colliding offer ignored). */
  async receive(description) {
    const collision =
      description.type === "offer" && (this.makingOffer || this.pc.signalingState !== "stable");
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return null;
    if (description.type === "answer" && this.pc.signalingState !== "have-local-offer") {
      return null; // the answer to an offer we rolled back
    }
    await this.pc.setRemoteDescription(description); // rolls our own offer back if polite
    await this.#releaseHeld();
    if (description.type !== "offer") return null;
    await this.pc.setLocalDescription();
    return this.pc.localDescription;
  }

  async addCandidate(init) {
    if (!this.pc.remoteDescription) {
      if (this.held.length < MAX_HELD_CANDIDATES) this.held.push(init);
      return;
    }
    try {
      await this.pc.addIceCandidate(init);
    } catch (error) {
      // A candidate of an ignored offer, or of an ICE generation already replaced.
      if (!this.ignoreOffer) console.debug("ICE candidate not used:", error.message);
    }
  }

  /** New ICE credentials and candidates over call.renegotiate (a network change). */
  restartIce() {
    if (!this.live || this.pc.connectionState === "closed") return;
    this.pc.restartIce();
  }

  async stats() {
    return this.pc.getStats();
  }

  close() {
    clearTimeout(this.disconnectedTimer);
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.onnegotiationneeded = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }

  async #negotiate() {
    if (!this.live) return; // the first offer is sent explicitly with call.invite
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      await this.sendOffer(this.pc.localDescription);
    } catch (error) {
      console.warn("renegotiation failed:", error);
    } finally {
      this.makingOffer = false;
    }
  }

  #watch(state) {
    clearTimeout(this.disconnectedTimer);
    if (state === "failed") this.restartIce();
    if (state === "disconnected") {
      this.disconnectedTimer = setTimeout(() => {
        if (this.pc.connectionState === "disconnected") this.restartIce();
      }, DISCONNECTED_GRACE_MS);
    }
  }

  async #releaseHeld() {
    const held = this.held;
    this.held = [];
    for (const init of held) await this.addCandidate(init);
  }
}
