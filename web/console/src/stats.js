// Call quality from getStats(): what the page shows every second, and the call.stats report
// the server stores (rtt, jitter, packet loss, received bitrate, relayed or direct).

export class QualitySampler {
  constructor() {
    this.last = null; // {at, bytes} of the previous sample, for the bitrate
  }

  /** A new connection (its byte counters start at zero). */
  restart() {
    this.last = null;
  }

  async sample(report) {
    const stats = [...report.values()];
    const byId = new Map(stats.map((s) => [s.id, s]));
    const pair = selectedPair(stats, byId);
    const inbound = stats.filter((s) => s.type === "inbound-rtp");
    const video = inbound.find((s) => s.kind === "video");
    const received = inbound.reduce((sum, s) => sum + (s.packetsReceived ?? 0), 0);
    const lost = inbound.reduce((sum, s) => sum + Math.max(0, s.packetsLost ?? 0), 0);
    const jitters = inbound.filter((s) => s.jitter !== undefined).map((s) => s.jitter * 1000);
    const bytes = stats
      .filter((s) => s.type === "transport")
      .reduce((sum, s) => sum + (s.bytesReceived ?? 0), 0);
    const now = performance.now();
    let bitrate = null;
    if (this.last && now > this.last.at) {
      bitrate = (Math.max(0, bytes - this.last.bytes) * 8) / (now - this.last.at);
    }
    this.last = { at: now, bytes };
    const local = pair ? byId.get(pair.localCandidateId) : undefined;
    const remote = pair ? byId.get(pair.remoteCandidateId) : undefined;
    return {
      rttMs: pair?.currentRoundTripTime !== undefined ? pair.currentRoundTripTime * 1000 : null,
      jitterMs: jitters.length ? Math.max(...jitters) : null,
      lossPct: received + lost ? (100 * lost) / (received + lost) : null,
      bitrateKbps: bitrate,
      relayed: local?.candidateType === "relay" || remote?.candidateType === "relay",
      framesDecoded: video?.framesDecoded ?? 0,
      frameWidth: video?.frameWidth ?? 0,
      frameHeight: video?.frameHeight ?? 0,
      audioPackets: inbound.find((s) => s.kind === "audio")?.packetsReceived ?? 0,
    };
  }
}

function selectedPair(stats, byId) {
  for (const transport of stats.filter((s) => s.type === "transport")) {
    const pair = byId.get(transport.selectedCandidatePairId);
    if (pair) return pair;
  }
  return stats.find((s) => s.type === "candidate-pair" && s.nominated && s.state === "succeeded");
}

const round = (value) => (value === null ? null : Math.round(value * 1000) / 1000);

/** The call.stats payload (docs/calls.md): measures the device has, nulls for the rest. */
export function statsPayload(callId, quality) {
  return {
    call_id: callId,
    rtt_ms: round(quality.rttMs),
    jitter_ms: round(quality.jitterMs),
    packet_loss_pct: round(quality.lossPct),
    bitrate_kbps: round(quality.bitrateKbps),
    relayed: quality.relayed,
  };
}

const SAMPLE_EVERY_MS = 1_000; // what the page shows
const REPORT_EVERY_SAMPLES = 5; // to the server: the first sample, then every 5 s

/** Samples the call's connection each second while it is connected, and reports to the
 * server every few seconds (`report(payload)` sends call.stats). */
export class QualityMonitor {
  constructor(callId, { report, onSample }) {
    this.callId = callId;
    this.report = report;
    this.onSample = onSample;
    this.sampler = new QualitySampler();
    this.samples = 0;
    this.timer = null;
  }

  /** `peer()` is the call's current connection (it changes when renegotiated). */
  start(peer) {
    this.timer = setInterval(() => this.#sample(peer()), SAMPLE_EVERY_MS);
  }

  /** The call moved to a new connection: its counters start at zero. */
  restart() {
    this.sampler.restart();
  }

  stop() {
    clearInterval(this.timer);
  }

  async #sample(peer) {
    if (peer?.pc.connectionState !== "connected") return;
    const quality = await this.sampler.sample(await peer.stats());
    this.onSample(quality);
    if (this.samples++ % REPORT_EVERY_SAMPLES !== 0) return;
    try {
      await this.report(statsPayload(this.callId, quality));
    } catch (error) {
      console.info("quality report not taken:", error.message);
    }
  }
}
