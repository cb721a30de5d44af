// A secure chat device for the console, as rtclient/secure.py: publishes its cross-signed keys,
// seals every message for every current device of every member, and opens what it receives.
// REST goes through `fetch`; realtime through a socket.io-client socket (`openSocket`).

import { io } from "socket.io-client";
import nacl from "tweetnacl";

import { decryptBackup, encryptBackup } from "./backup.js";
import { fromUtf8 } from "./encoding.js";
import { CryptoError, ServerError } from "./errors.js";
import { DeviceIdentity, MasterIdentity, signDeviceList } from "./identity.js";
import { open, seal } from "./envelope.js";
import { Keyring } from "./keyring.js";

const ACK_TIMEOUT_MS = 10_000;
// missing/unknown devices: someone's devices changed; bad_signature: the member list we signed
// over is stale (someone joined or left). Refetch and seal again, once.
const RESEAL_CODES = new Set(["missing_devices", "unknown_devices", "bad_signature"]);

/** Connect a Socket.IO socket the way rtserver expects (token in `auth`, WebSocket only). */
export function openSocket(url, token, options = {}) {
  const socket = io(url, { auth: { token }, transports: ["websocket"], ...options });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

export class SecureDevice {
  constructor({ baseUrl = "", token, identity, master, fetch, pins }) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.identity = identity;
    this.master = master;
    this.fetchImpl = fetch ?? globalThis.fetch.bind(globalThis);
    this.keyring = new Keyring({ baseUrl, token, fetch: this.fetchImpl, pins });
    this.members = new Map();
    this.socket = null;
  }

  async rest(method, path, body) {
    const response = await this.fetchImpl(this.baseUrl + path, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const isJson = (response.headers.get("Content-Type") ?? "").startsWith("application/json");
    const data = isJson ? await response.json() : null;
    if (response.status >= 400) throw new ServerError(data?.error ?? { code: response.status });
    return data;
  }

  /** Master key (idempotent), this device's cross-signed keys, and a new device list that adds
   * this device to the ones already listed. */
  async publishKeys() {
    const { userId, deviceId } = this.identity;
    await this.rest("PUT", "/api/v1/keys/master", { public_key: this.master.publicKey });
    await this.rest(
      "PUT",
      `/api/v1/keys/devices/${encodeURIComponent(deviceId)}`,
      this.identity.keysSignedBy(this.master),
    );
    const mine = await this.rest("GET", `/api/v1/keys/users/${encodeURIComponent(userId)}`);
    const listing = mine.device_list ?? { version: 0, devices: [] };
    const devices = [...listing.devices, deviceId];
    await this.rest(
      "PUT",
      "/api/v1/keys/device-list",
      signDeviceList(this.master, userId, listing.version + 1, devices),
    );
    this.keyring.forget(userId);
  }

  /** Back up the master key and device keys (this one and `olderDevices`), encrypted under the
   * passphrase, so a new device can sign for the user and read old history. */
  async uploadBackup(passphrase, version, { olderDevices = [], ...kdfLimits } = {}) {
    const secrets = { master: this.master.export() };
    for (const device of [this.identity, ...olderDevices]) {
      for (const [part, value] of Object.entries(device.export())) {
        secrets[`device:${device.deviceId}:${part}`] = value;
      }
    }
    const sealed = await encryptBackup(secrets, passphrase, kdfLimits);
    await this.rest("PUT", "/api/v1/keys/backup", { version, ...sealed });
  }

  /** Download and decrypt the key backup: `{master, devices}` restored for this user. */
  static async restoreBackup({ baseUrl = "", token, userId, passphrase, fetch }) {
    const fetchImpl = fetch ?? globalThis.fetch.bind(globalThis);
    const response = await fetchImpl(`${baseUrl}/api/v1/keys/backup`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (response.status !== 200) throw new CryptoError("no key backup");
    const secrets = await decryptBackup(await response.json(), passphrase);
    const parts = new Map();
    for (const [name, value] of Object.entries(secrets)) {
      if (!name.startsWith("device:")) continue;
      const [, deviceId, part] = name.split(":");
      if (!parts.has(deviceId)) parts.set(deviceId, {});
      parts.get(deviceId)[part] = value;
    }
    return {
      master: MasterIdentity.restore(secrets.master),
      devices: [...parts].map(([deviceId, keys]) => DeviceIdentity.restore(userId, deviceId, keys)),
    };
  }

  /** Send and receive over this socket; membership and key changes drop the caches. */
  attach(socket) {
    this.socket = socket;
    socket.on("conversation.updated", (event) => this.members.delete(event?.conversation_id));
    socket.on("keys.changed", (event) => this.keyring.forget(event?.user_id));
  }

  async memberIds(conversationId, refresh = false) {
    if (refresh || !this.members.has(conversationId)) {
      const found = await this.rest(
        "GET",
        `/api/v1/conversations/${encodeURIComponent(conversationId)}`,
      );
      this.members.set(conversationId, found.members.map((m) => m.user_id));
    }
    return this.members.get(conversationId);
  }

  async sealFor(conversationId, text, clientMsgId) {
    const members = await this.memberIds(conversationId);
    const recipients = [];
    for (const userId of members) recipients.push(...(await this.keyring.devicesOf(userId)));
    return seal(this.identity, conversationId, members, clientMsgId, text, recipients);
  }

  /** Seal for every current device of every member and send; returns the ack ({seq, ...}).
   * If the server says the devices or members changed, refetch and seal again once. */
  async sendText(conversationId, text, clientMsgId = newClientMsgId()) {
    for (let attempt = 0; ; attempt += 1) {
      const envelope = await this.sealFor(conversationId, text, clientMsgId);
      const reply = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("message.send", {
        conversation_id: conversationId,
        client_msg_id: clientMsgId,
        envelope,
      });
      if (reply?.ok) return reply;
      const error = new ServerError(reply?.error ?? {});
      if (attempt === 1 || !RESEAL_CODES.has(error.code)) throw error;
      this.keyring.forget();
      await this.memberIds(conversationId, true);
    }
  }

  /** Verify and decrypt a `message` event (or a `sync`/history entry) to its text. */
  async read(message) {
    const members = await this.memberIds(message.conversation_id);
    const senderUser = message.sender.user_id || this.identity.userId;
    const devices = await this.keyring.devicesOf(senderUser);
    const sender = devices.find((d) => d.deviceId === message.sender.device_id);
    if (sender === undefined) {
      throw new CryptoError("message from a device its owner's master key did not sign");
    }
    const content = open(
      this.identity,
      message.envelope,
      message.conversation_id,
      members,
      sender,
      message.client_msg_id,
    );
    return fromUtf8(content);
  }
}

function newClientMsgId() {
  return Array.from(nacl.randomBytes(16), (b) => b.toString(16).padStart(2, "0")).join("");
}
