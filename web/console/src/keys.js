// This browser's E2EE device: its keys restored or created, cross-signed by the user's master
// key and published, and the keyring that finds (and pins) the peers' device keys.

import { CryptoError } from "../../e2ee/src/errors.js";
import { DeviceIdentity, MasterIdentity } from "../../e2ee/src/identity.js";
import { Keyring } from "../../e2ee/src/keyring.js";
import { SecureDevice } from "../../e2ee/src/secure-device.js";
import * as storage from "./storage.js";

/** The account's master key is not in this browser and the server has another one: making a
 * new one would replace it and leave the user's other devices untrusted by their peers. */
export class MasterKeyElsewhere extends CryptoError {
  constructor() {
    super(
      "this account's master key is on another device, not in this browser: use that " +
        "device (this console cannot restore the key backup yet)",
    );
    this.name = "MasterKeyElsewhere";
    this.code = "master_key_elsewhere";
  }
}

/** The signed-in device's identity: restored from storage, or new for a new device id. */
export function deviceIdentity(userId, deviceId, savedKeys) {
  if (savedKeys) return DeviceIdentity.restore(userId, deviceId, savedKeys);
  return DeviceIdentity.generate(userId, deviceId);
}

/** A SecureDevice whose keys are published, ready to sign SDP and look up peers. */
export async function publishedDevice(token, identity) {
  const { userId, deviceId } = identity;
  const saved = storage.savedMaster(userId);
  const mine = await new Keyring({ token }).fetch(userId);
  const published = mine.master_key?.public_key ?? null;
  let master = saved ? MasterIdentity.restore(saved) : null;
  if (published && master?.publicKey !== published) throw new MasterKeyElsewhere();
  if (!master) {
    master = MasterIdentity.generate();
    storage.saveMaster(userId, master.export());
  }
  const device = new SecureDevice({ token, identity, master, pins: storage.savedPins(userId) });
  const listed = mine.device_list?.devices?.includes(deviceId) ?? false;
  const hasKeys = (mine.devices ?? []).some((d) => d.device_id === deviceId);
  if (!listed || !hasKeys) await device.publishKeys();
  return device;
}

/** The verified device `deviceId` of `userId`, refetching their keys once if it is new. */
export async function peerDevice(device, userId, deviceId) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const found = (await device.keyring.devicesOf(userId)).find((d) => d.deviceId === deviceId);
    storage.savePins(device.identity.userId, device.keyring.pins);
    if (found) return found;
    device.keyring.forget(userId);
  }
  throw new CryptoError(`${userId}/${deviceId} has no device key signed by its owner`);
}

/** A new access token for the device and its keyring (after a refresh). */
export function useToken(device, token) {
  device.token = token;
  device.keyring.token = token;
}
