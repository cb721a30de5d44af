// Envelope v1, as rtclient/crypto.py: content padded and encrypted once under a fresh secretbox
// key, that key boxed for every recipient device from one ephemeral X25519 key per message, and
// the whole envelope signed by the sender device, bound to its conversation, members and id.

import nacl from "tweetnacl";

import { b64, concat, unb64, utf8 } from "./encoding.js";
import { CryptoError } from "./errors.js";
import { verify } from "./identity.js";
import { compare, envelopeBody } from "./signed.js";

export const PAD_BUCKETS = [256, 1024, 4096, 16384, 32768];

/** ISO/IEC 7816-4 padding to the next size bucket, so lengths leak only the bucket. */
export function pad(content) {
  const needed = content.length + 1;
  const bucket = PAD_BUCKETS.find((b) => b >= needed) ?? Math.ceil(needed / 16384) * 16384;
  const padded = new Uint8Array(bucket);
  padded.set(content);
  padded[content.length] = 0x80;
  return padded;
}

export function unpad(padded) {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end -= 1;
  if (end === 0 || padded[end - 1] !== 0x80) throw new CryptoError("bad padding");
  return padded.slice(0, end - 1);
}

/**
 * Seal `content` (bytes, or a string sent as UTF-8) for `recipients` (peer devices, including
 * the sender's other devices) in a conversation with `memberIds`.
 */
export function seal(sender, conversationId, memberIds, clientMsgId, content, recipients) {
  const plain = typeof content === "string" ? utf8(content) : content;
  const contentKey = nacl.randomBytes(nacl.secretbox.keyLength);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const ciphertext = nacl.secretbox(pad(plain), nonce, contentKey);
  const ephemeral = nacl.box.keyPair();
  const wrapped = [...recipients]
    .sort((a, b) => compare(a.deviceId, b.deviceId))
    .map((device) => {
      const keyNonce = nacl.randomBytes(nacl.box.nonceLength);
      const theirs = unb64(device.encryptionKey);
      const boxed = nacl.box(contentKey, keyNonce, theirs, ephemeral.secretKey);
      return { device_id: device.deviceId, key: b64(concat(keyNonce, boxed)) };
    });
  const envelope = {
    v: 1,
    sender_device_id: sender.deviceId,
    ephemeral_key: b64(ephemeral.publicKey),
    nonce: b64(nonce),
    ciphertext: b64(ciphertext),
    recipients: wrapped,
  };
  const body = envelopeBody(envelope, conversationId, memberIds, sender.userId, clientMsgId);
  envelope.signature = sender.sign(body);
  return envelope;
}

/**
 * Verify the sender's signature over this exact context, then decrypt; returns the content
 * bytes. Throws CryptoError for a re-addressed, replayed, forged or tampered envelope.
 */
export function open(me, envelope, conversationId, memberIds, sender, clientMsgId) {
  if (envelope?.v !== 1) throw new CryptoError(`unsupported envelope version ${envelope?.v}`);
  if (envelope.sender_device_id !== sender.deviceId) {
    throw new CryptoError("envelope names another sending device");
  }
  let body;
  try {
    body = envelopeBody(envelope, conversationId, memberIds, sender.userId, clientMsgId);
  } catch {
    throw new CryptoError("malformed envelope");
  }
  if (!verify(sender.signingKey, body, envelope.signature)) {
    throw new CryptoError("envelope signature does not verify for this conversation");
  }
  const mine = envelope.recipients.find((r) => r.device_id === me.deviceId);
  if (mine === undefined) throw new CryptoError("this device is not a recipient");
  let padded = null;
  try {
    const raw = unb64(mine.key);
    const contentKey = nacl.box.open(
      raw.subarray(24),
      raw.subarray(0, 24),
      unb64(envelope.ephemeral_key),
      me.encryptionKeyPair.secretKey,
    );
    padded =
      contentKey &&
      nacl.secretbox.open(unb64(envelope.ciphertext), unb64(envelope.nonce), contentKey);
  } catch {
    // wrong sizes: tweetnacl throws where libsodium returns an error; same answer below
  }
  if (!padded) throw new CryptoError("cannot decrypt: tampered or not for this device");
  return unpad(padded);
}
