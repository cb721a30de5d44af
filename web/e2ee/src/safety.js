// Safety numbers: 60 digits two people compare (aloud or as a QR code), as rtclient's
// safety_number. tweetnacl has no BLAKE2b: @noble/hashes provides it, with libsodium's `person`.

import { blake2b } from "@noble/hashes/blake2.js";

import { concat, unb64, utf8 } from "./encoding.js";
import { compare } from "./signed.js";

// libsodium takes a person of up to 16 bytes and pads it with zeros; noble wants exactly 16.
const PERSON = new Uint8Array(16);
PERSON.set(utf8("rtserver-safety"));

function half(userId, masterKey) {
  let digest = blake2b(concat(utf8(userId), Uint8Array.of(0), unb64(masterKey)), {
    dkLen: 64,
    personalization: PERSON,
  });
  for (let i = 0; i < 1023; i += 1) {
    digest = blake2b(digest, { dkLen: 64 }); // slow enough to make grinding a look-alike costly
  }
  let digits = "";
  for (let i = 0; i < 30; i += 5) {
    const value = digest.subarray(i, i + 5).reduce((n, byte) => n * 256 + byte, 0);
    digits += String(value % 100000).padStart(5, "0");
  }
  return digits;
}

/** 30 digits from each side, ordered by user id so both people compute the same number. */
export function safetyNumber(userA, masterA, userB, masterB) {
  const parts = [
    [userA, masterA],
    [userB, masterB],
  ].sort((x, y) => compare(x[0], y[0]) || compare(x[1], y[1]));
  return half(...parts[0]) + half(...parts[1]);
}
