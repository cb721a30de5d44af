// Identities and cross-signing, as rtclient/crypto.py: a user's Ed25519 master key signs each
// device's Ed25519 signing key and X25519 encryption key, and the versioned device list.

import nacl from "tweetnacl";

import { b64, unb64 } from "./encoding.js";
import { deviceKeysBody, deviceListBody } from "./signed.js";

/** Ed25519 verification that answers false (never throws) for malformed keys or signatures. */
export function verify(publicKey, message, signature) {
  try {
    return nacl.sign.detached.verify(message, unb64(signature), unb64(publicKey));
  } catch {
    return false;
  }
}

export class MasterIdentity {
  constructor(keyPair) {
    this.keyPair = keyPair;
    Object.freeze(this);
  }

  static generate() {
    return new MasterIdentity(nacl.sign.keyPair());
  }

  /** From `export()`: the base64 32-byte seed, the same as pynacl's bytes(SigningKey). */
  static restore(exported) {
    return new MasterIdentity(nacl.sign.keyPair.fromSeed(unb64(exported)));
  }

  get publicKey() {
    return b64(this.keyPair.publicKey);
  }

  export() {
    return b64(this.keyPair.secretKey.subarray(0, 32));
  }

  sign(message) {
    return b64(nacl.sign.detached(message, this.keyPair.secretKey));
  }
}

export class DeviceIdentity {
  constructor(userId, deviceId, signingKeyPair, encryptionKeyPair) {
    this.userId = userId;
    this.deviceId = deviceId;
    this.signingKeyPair = signingKeyPair;
    this.encryptionKeyPair = encryptionKeyPair;
    Object.freeze(this);
  }

  static generate(userId, deviceId) {
    return new DeviceIdentity(userId, deviceId, nacl.sign.keyPair(), nacl.box.keyPair());
  }

  /** From `export()`: `{signing, encryption}`, the format of rtclient's DeviceIdentity. */
  static restore(userId, deviceId, exported) {
    return new DeviceIdentity(
      userId,
      deviceId,
      nacl.sign.keyPair.fromSeed(unb64(exported.signing)),
      nacl.box.keyPair.fromSecretKey(unb64(exported.encryption)),
    );
  }

  export() {
    return {
      signing: b64(this.signingKeyPair.secretKey.subarray(0, 32)),
      encryption: b64(this.encryptionKeyPair.secretKey),
    };
  }

  get publicSigningKey() {
    return b64(this.signingKeyPair.publicKey);
  }

  get publicEncryptionKey() {
    return b64(this.encryptionKeyPair.publicKey);
  }

  sign(message) {
    return b64(nacl.sign.detached(message, this.signingKeyPair.secretKey));
  }

  /** What this device publishes: its public keys and the master key's signature over them. */
  keysSignedBy(master) {
    const body = deviceKeysBody(
      this.userId,
      this.deviceId,
      this.publicSigningKey,
      this.publicEncryptionKey,
    );
    return {
      signing_key: this.publicSigningKey,
      encryption_key: this.publicEncryptionKey,
      signature: master.sign(body),
    };
  }

  /** This device as its peers see it. */
  get peer() {
    return peerDevice(this.userId, this.deviceId, this.publicSigningKey, this.publicEncryptionKey);
  }
}

/** A device whose keys were verified against its user's (pinned) master key. */
export function peerDevice(userId, deviceId, signingKey, encryptionKey) {
  return Object.freeze({ userId, deviceId, signingKey, encryptionKey });
}

export function generateMaster() {
  return MasterIdentity.generate();
}

export function generateDevice(userId, deviceId) {
  return DeviceIdentity.generate(userId, deviceId);
}

export function signDeviceKeys(device, master) {
  return device.keysSignedBy(master);
}

export function signDeviceList(master, userId, version, deviceIds) {
  const devices = [...new Set(deviceIds)].sort();
  return {
    version,
    devices,
    signature: master.sign(deviceListBody(userId, version, devices)),
  };
}
