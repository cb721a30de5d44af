// Fetching and checking peers' keys, as rtclient/keyring.py: trust on first use of a master key,
// then pin it. A changed master key throws KeyChanged until the user re-verifies (safety
// number); a new device signed by the pinned master key is only a notice; a device the master
// key did not sign, or that is missing from the signed device list, is never encrypted to.

import { CryptoError } from "./errors.js";
import { peerDevice, verify } from "./identity.js";
import { deviceKeysBody, deviceListBody } from "./signed.js";

/** Blocking warning: this person's master key is not the one pinned at first contact. */
export class KeyChanged extends CryptoError {
  constructor(userId, pinned, offered) {
    super(`master key of ${userId} changed: verify before continuing`);
    this.name = "KeyChanged";
    this.userId = userId;
    this.pinned = pinned;
    this.offered = offered;
  }
}

export class Keyring {
  /**
   * `pins` (user id -> pinned master key, a Map or an object) is the console's to persist
   * (e.g. IndexedDB) and pass back in: pins that do not survive a reload are no pins.
   */
  constructor({ baseUrl = "", token, fetch = globalThis.fetch.bind(globalThis), pins = {} }) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.fetchImpl = fetch;
    this.pins = new Map(pins instanceof Map ? pins : Object.entries(pins));
    this.knownDevices = new Map();
    this.notices = [];
    this.rejected = [];
    this.cache = new Map();
  }

  async fetch(userId) {
    const response = await this.fetchImpl(
      `${this.baseUrl}/api/v1/keys/users/${encodeURIComponent(userId)}`,
      { headers: { Authorization: `Bearer ${this.token}` } },
    );
    const body = await response.json();
    if (response.status !== 200) {
      throw new CryptoError(`cannot fetch keys of ${userId}: ${JSON.stringify(body)}`);
    }
    return body;
  }

  forget(userId) {
    if (userId === undefined) this.cache.clear();
    else this.cache.delete(userId);
  }

  /** The user compared safety numbers and accepts the new master key. */
  acceptMaster(userId, masterKey) {
    this.pins.set(userId, masterKey);
    this.forget(userId);
  }

  /** The devices of `userId` to encrypt to and accept messages from, all master-signed. */
  async devicesOf(userId) {
    if (this.cache.has(userId)) return this.cache.get(userId);
    const published = await this.fetch(userId);
    const master = published.master_key?.public_key;
    if (!master) return [];
    if (!this.pins.has(userId)) this.pins.set(userId, master);
    const pinned = this.pins.get(userId);
    if (pinned !== master) throw new KeyChanged(userId, pinned, master);
    const listing = published.device_list;
    let listed = new Set();
    if (listing && this.#listVerifies(master, userId, listing)) {
      listed = new Set(listing.devices);
    } else if (listing) {
      this.rejected.push(`${userId}: device list not signed by the master key`);
    }
    const devices = [];
    for (const entry of published.devices ?? []) {
      const body = deviceKeysBody(
        userId,
        entry.device_id,
        entry.signing_key,
        entry.encryption_key,
      );
      if (!listed.has(entry.device_id) || !verify(master, body, entry.signature)) {
        this.rejected.push(`${userId}/${entry.device_id}: not signed by master`);
        continue;
      }
      devices.push(peerDevice(userId, entry.device_id, entry.signing_key, entry.encryption_key));
    }
    if (!this.knownDevices.has(userId)) this.knownDevices.set(userId, new Set());
    const seen = this.knownDevices.get(userId);
    const firstContact = seen.size === 0;
    for (const device of devices) {
      if (!firstContact && !seen.has(device.deviceId)) {
        this.notices.push(`${userId} signed in on a new device ${device.deviceId}`);
      }
      seen.add(device.deviceId);
    }
    this.cache.set(userId, devices);
    return devices;
  }

  #listVerifies(master, userId, listing) {
    try {
      return verify(
        master,
        deviceListBody(userId, listing.version, listing.devices),
        listing.signature,
      );
    } catch {
      return false; // a malformed list is as good as an unsigned one
    }
  }
}
