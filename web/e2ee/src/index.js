// rtserver's end-to-end encryption v1 for browsers, interoperable with the Python SDK
// (rtclient). See docs/e2ee-browser.md for the API and docs/e2ee.md for the scheme.

export { decryptBackup, encryptBackup, backupKey } from "./backup.js";
export { MEMLIMIT_MODERATE, OPSLIMIT_MODERATE } from "./backup.js";
export { b64, unb64 } from "./encoding.js";
export { open, pad, seal, unpad, PAD_BUCKETS } from "./envelope.js";
export { CryptoError, ServerError } from "./errors.js";
export {
  DeviceIdentity,
  MasterIdentity,
  generateDevice,
  generateMaster,
  peerDevice,
  signDeviceKeys,
  signDeviceList,
  verify,
} from "./identity.js";
export { KeyChanged, Keyring } from "./keyring.js";
export { safetyNumber } from "./safety.js";
export { signSdp, verifySdp } from "./sdp.js";
export { SecureDevice, openSocket } from "./secure-device.js";
export {
  canonical,
  deviceKeysBody,
  deviceListBody,
  envelopeBody,
  sdpBody,
  DEVICE_KEYS,
  DEVICE_LIST,
  ENVELOPE,
  SDP,
} from "./signed.js";
