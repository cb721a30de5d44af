// Passphrase-encrypted key backup, as rtclient's encrypt_backup/decrypt_backup: argon2id
// (hash-wasm, with the parameters libsodium's crypto_pwhash_argon2id uses) then secretbox.

import { argon2id } from "hash-wasm";
import nacl from "tweetnacl";

import { b64, fromUtf8, unb64, utf8 } from "./encoding.js";
import { CryptoError } from "./errors.js";

// pynacl's argon2id OPSLIMIT_MODERATE / MEMLIMIT_MODERATE, the Python SDK's defaults.
export const OPSLIMIT_MODERATE = 3;
export const MEMLIMIT_MODERATE = 256 * 1024 * 1024;

/** The 32-byte secretbox key for a backup's `kdf` parameters (argon2id v1.3, one lane). */
export async function backupKey(passphrase, kdf) {
  if (kdf?.alg !== "argon2id13") throw new CryptoError("unknown backup KDF");
  const { opslimit, memlimit } = kdf;
  if (!Number.isSafeInteger(opslimit) || !Number.isSafeInteger(memlimit)) {
    throw new CryptoError("bad KDF limits");
  }
  return argon2id({
    password: utf8(passphrase),
    salt: unb64(kdf.salt),
    parallelism: 1,
    iterations: opslimit,
    memorySize: Math.floor(memlimit / 1024), // KiB, as libsodium turns memlimit into m_cost
    hashLength: nacl.secretbox.keyLength,
    outputType: "binary",
  });
}

/** Encrypt `secrets` (an object of strings) under the passphrase; the server stores this. */
export async function encryptBackup(
  secrets,
  passphrase,
  { opslimit = OPSLIMIT_MODERATE, memlimit = MEMLIMIT_MODERATE } = {},
) {
  const kdf = { alg: "argon2id13", opslimit, memlimit, salt: b64(nacl.randomBytes(16)) };
  const key = await backupKey(passphrase, kdf);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const ciphertext = nacl.secretbox(utf8(JSON.stringify(secrets)), nonce, key);
  return { ciphertext: b64(ciphertext), nonce: b64(nonce), kdf };
}

export async function decryptBackup(backup, passphrase) {
  const key = await backupKey(passphrase, backup.kdf);
  let plain = null;
  try {
    plain = nacl.secretbox.open(unb64(backup.ciphertext), unb64(backup.nonce), key);
  } catch {
    // wrong sizes: tweetnacl throws where libsodium returns an error; same answer below
  }
  if (!plain) throw new CryptoError("wrong passphrase or damaged backup");
  return JSON.parse(fromUtf8(plain));
}
