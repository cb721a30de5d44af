// The load generator of `python -m bench`: many socket.io-client connections in one process.
// Usage: node loadgen.mjs <plan.json>. Commands arrive on stdin and answers leave on stdout,
// one JSON object per line (see bench/loadgen.py). Latency is measured from the instant a send
// was scheduled (open loop, so a slow server cannot slow the offered rate down) to the instant
// the receiving connection, in this same process, gets the event.
import { createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const devices = plan.devices;
const out = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const stats = { disconnects: 0, stale: 0 };

// Workloads: what one "send" is and how its delivery is recognised. Issue 8 adds more kinds
// (an ephemeral relay, call signalling) next to this one.
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

function chatE2ee() {
  for (const device of devices) {
    const seed = Buffer.from(device.signing_seed, "base64");
    device.key = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519, seed]),
      format: "der",
      type: "pkcs8",
    });
  }
  // The envelope is sealed once per device by the Python client; every message re-signs it,
  // since the signature binds the client_msg_id (rtserver/domain/keys.py envelope_body).
  const build = (device, id) => {
    const body = device.signed_prefix + JSON.stringify(id) + device.signed_suffix;
    const signature = sign(null, Buffer.from(body, "ascii"), device.key).toString("base64");
    return {
      conversation_id: device.conversation_id,
      client_msg_id: id,
      envelope: { ...device.envelope, signature },
    };
  };
  const probe = build(devices[plan.probe.device], plan.probe.client_msg_id);
  if (probe.envelope.signature !== plan.probe.signature) {
    throw new Error("signed bytes differ from the Python client's: check envelope_body");
  }
  return {
    send: "message.send",
    delivered: "message",
    build,
    idOf: (payload) => payload.client_msg_id,
    error: (ack) => (ack && ack.ok === true ? null : (ack?.error?.code ?? "bad_ack")),
  };
}

const okOrCode = (ack) => (ack && ack.ok === true ? null : (ack?.error?.code ?? "bad_ack"));

// Ephemeral relay: rtserver's `typing {conversation_id, on}`, relayed to the other member of a
// 1:1 conversation (`device.peer`, an index into the plan) as `typing {conversation_id, user_id,
// on, ttl_ms}`. The event carries no id of its own, so deliveries are matched to sends in order,
// per receiving connection (each hears only its peer): the n-th typing event a connection gets
// is taken to be the n-th one its peer sent.
function relayTyping() {
  for (const device of devices) device.pending = [];
  return {
    send: "typing",
    delivered: "typing",
    build: (device) => ({ conversation_id: device.conversation_id, on: true }),
    sent: (device, id) => devices[device.peer].pending.push(id),
    idOf: (payload, receiver) => receiver.pending.shift() ?? "",
    reset: () => devices.forEach((device) => (device.pending = [])),
    error: okOrCode,
  };
}

// A durable-like message for the Node reference: rtserver's `message.send` payload with a fixed
// envelope of the planned size; the reference relays it without storing or verifying anything.
function relayMessage() {
  return {
    send: "message.send",
    delivered: "message",
    build: (device, id) => ({
      conversation_id: device.conversation_id,
      client_msg_id: id,
      envelope: device.envelope,
    }),
    idOf: (payload) => payload.client_msg_id,
    error: okOrCode,
  };
}

// Connections only (memory per idle connection): nothing is ever sent.
function idle() {
  return { send: null, delivered: "message", build: () => null, idOf: () => "", error: okOrCode };
}

const WORKLOADS = {
  "chat.e2ee": chatE2ee,
  "relay.typing": relayTyping,
  "relay.message": relayMessage,
  idle,
};
const workload = WORKLOADS[plan.workload]();

// Delivery bookkeeping for the running step; ids are `<step>-<index>`.
let current = null;

function onDelivered(payload, receiver) {
  const id = workload.idOf(payload, receiver);
  const dash = id.indexOf("-");
  if (current === null || dash < 0 || id.slice(0, dash) !== current.prefix) {
    stats.stale += 1;
    return;
  }
  const index = Number(id.slice(dash + 1));
  if (Number.isNaN(current.delivered[index])) {
    current.delivered[index] = performance.now();
    current.deliveredCount += 1;
  }
}

function connectOne(device, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = io(device.url, {
      auth: device.auth ?? { token: device.token },
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    device.socket = socket;
    socket.on(workload.delivered, (payload) => onDelivered(payload, device));
    // `timeout` bounds the transport's handshake only: a server that opens the WebSocket but
    // never answers (or closes it before) the namespace connect must not hang the storm.
    const fail = (message) => {
      clearTimeout(timer);
      socket.disconnect();
      reject(new Error(message));
    };
    const timer = setTimeout(() => fail("no namespace connect in time"), timeoutMs);
    const closed = (reason) => fail(`closed before connect: ${reason}`);
    socket.once("disconnect", closed);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("disconnect", closed);
      socket.on("disconnect", () => (stats.disconnects += 1));
      resolve();
    });
    socket.once("connect_error", (err) => fail(JSON.stringify(err.data ?? err.message)));
  });
}

function percentiles(values) {
  const sorted = Float64Array.from(values).sort();
  const at = (q) => {
    if (sorted.length === 0) return null;
    const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null;
  };
  const finite = sorted.filter(Number.isFinite);
  const mean = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: at(1),
    mean: mean === null ? null : Math.round(mean * 1000) / 1000,
  };
}

async function connect({ concurrency, timeout_s }) {
  const started = performance.now();
  const times = [];
  const errors = {};
  let next = 0;
  const worker = async () => {
    while (next < devices.length) {
      const device = devices[next++];
      const t0 = performance.now();
      try {
        await connectOne(device, timeout_s * 1000);
        times.push(performance.now() - t0);
      } catch (err) {
        errors[err.message] = (errors[err.message] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
  return {
    connected: times.length,
    failed: devices.length - times.length,
    seconds: (performance.now() - started) / 1000,
    connect_ms: percentiles(times),
    errors,
  };
}

// Reconnect storm: every connection drops at once and comes back, `concurrency` handshakes at a
// time (a network blip or a node restart); with `sync`, each then asks the server for what it
// missed (rtserver's `sync`) and counts as back only once that is answered.
function syncOne(device, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no sync answer in time")), timeoutMs);
    device.socket.emit("sync", { cursors: {}, limit: 100 }, (reply) => {
      clearTimeout(timer);
      if (reply?.ok) resolve();
      else reject(new Error(`sync refused: ${JSON.stringify(reply?.error ?? reply)}`));
    });
  });
}

async function reconnect({ concurrency, timeout_s, sync }) {
  const connected = devices.filter((device) => device.socket?.connected);
  for (const device of connected) {
    device.socket.removeAllListeners("disconnect");
    device.socket.disconnect();
  }
  const started = performance.now();
  const times = [];
  const errors = {};
  let next = 0;
  const worker = async () => {
    while (next < connected.length) {
      const device = connected[next++];
      const t0 = performance.now();
      try {
        await connectOne(device, timeout_s * 1000);
        if (sync) await syncOne(device, timeout_s * 1000);
        times.push(performance.now() - t0);
      } catch (err) {
        errors[err.message] = (errors[err.message] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, connected.length) }, worker));
  return {
    connections: connected.length,
    back: times.length,
    failed: connected.length - times.length,
    synced: Boolean(sync),
    seconds: (performance.now() - started) / 1000,
    reconnect_ms: percentiles(times),
    errors,
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function shuffled(items) {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

let stepNumber = 0;

async function load({ rate, seconds, drain_s, ack_timeout_s = 30 }) {
  const total = Math.max(1, Math.round(rate * seconds));
  // A device sends only while it and (when the plan names it) its peer are connected.
  const live = (d) => d.socket?.connected && (d.peer == null || devices[d.peer].socket?.connected);
  const senders = shuffled(devices.filter(live));
  if (senders.length === 0) throw new Error("no connected device");
  const step = {
    prefix: `s${++stepNumber}`,
    intended: new Float64Array(total),
    delivered: new Float64Array(total).fill(NaN),
    acked: new Float64Array(total).fill(NaN),
    lag: new Float64Array(total),
    deliveredCount: 0,
    ackedCount: 0,
    errors: {},
  };
  workload.reset?.();
  current = step;
  const interval = 1000 / rate;
  const t0 = performance.now() + 1;
  const elu0 = performance.eventLoopUtilization();
  out({ op: "window", phase: "start" });
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) / interval) + 1);
      while (sent < due) {
        const index = sent++;
        const intended = t0 + index * interval;
        step.intended[index] = intended;
        step.lag[index] = now - intended;
        const device = senders[index % senders.length];
        const id = `${step.prefix}-${index}`;
        const payload = workload.build(device, id);
        workload.sent?.(device, id);
        device.socket.emit(workload.send, payload, (ack) => {
          step.acked[index] = performance.now();
          step.ackedCount += 1;
          const error = workload.error(ack);
          if (error !== null) step.errors[error] = (step.errors[error] ?? 0) + 1;
        });
      }
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    tick();
  });
  const windowEnd = performance.now();
  const elu = performance.eventLoopUtilization(elu0);
  out({ op: "window", phase: "end" });
  const drainUntil = performance.now() + drain_s * 1000;
  const ackUntil = performance.now() + ack_timeout_s * 1000;
  while (
    (step.deliveredCount < total && performance.now() < drainUntil) ||
    (step.ackedCount < total && performance.now() < ackUntil)
  ) {
    await sleep(10);
  }
  const latency = step.delivered.map((t, i) => (Number.isNaN(t) ? Infinity : t - step.intended[i]));
  const ackLatency = step.acked.map((t, i) => (Number.isNaN(t) ? Infinity : t - step.intended[i]));
  current = null;
  // Worst latency per second of the window: shows whether slow messages are spread out or
  // bunched in stalls (garbage collection, a periodic task, a checkpoint).
  const perSecond = Math.max(1, Math.round(rate));
  const worstPerSecond = [];
  for (let start = 0; start < total; start += perSecond) {
    const worst = latency.subarray(start, start + perSecond).reduce((a, b) => Math.max(a, b), 0);
    worstPerSecond.push(Number.isFinite(worst) ? Math.round(worst) : null);
  }
  return {
    offered_per_s: rate,
    sent: total,
    send_seconds: (windowEnd - t0) / 1000,
    acked: step.ackedCount,
    ack_errors: step.errors,
    delivered: step.deliveredCount,
    delivered_per_s: step.deliveredCount / seconds,
    latency_ms: percentiles(latency),
    ack_latency_ms: percentiles(ackLatency),
    schedule_lag_ms: percentiles(step.lag),
    worst_ms_per_second: worstPerSecond,
    event_loop_utilization: Math.round(elu.utilization * 1000) / 1000,
    disconnects: stats.disconnects,
  };
}

async function close() {
  for (const device of devices) device.socket?.disconnect();
  return { disconnects: stats.disconnects, stale: stats.stale };
}

const COMMANDS = { connect, reconnect, load, close };

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  try {
    const result = await COMMANDS[command.op](command);
    out({ op: command.op, ok: true, result });
  } catch (err) {
    out({ op: command.op, ok: false, error: String(err?.stack ?? err) });
  }
  if (command.op === "close") break;
}
process.exit(0);
