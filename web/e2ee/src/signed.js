// The exact bytes that get signed, byte-identical to rtclient/signed.py: a purpose line, then
// canonical JSON (sorted keys, no spaces, ASCII-only with \uXXXX escapes like Python's json).

export const DEVICE_KEYS = "rtserver-device-keys-v1";
export const DEVICE_LIST = "rtserver-device-list-v1";
export const ENVELOPE = "rtserver-envelope-v1";
export const SDP = "rtserver-sdp-v1";

function json(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    // Python prints floats differently (1.0 vs 1): signed bodies hold integers only.
    if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(json).join(",")}]`;
  if (typeof value === "object") {
    // Built by hand: a JS object would put integer-like keys first whatever the sort.
    const keys = Object.keys(value).sort(compare);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${json(value[k])}`).join(",")}}`;
  }
  throw new TypeError(`cannot sign a ${typeof value}`);
}

/** `"<purpose>\n" + JSON` as Python's json.dumps(sort_keys=True, separators=(",", ":")). */
export function canonical(purpose, body) {
  const text = json(body).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return new TextEncoder().encode(`${purpose}\n${text}`);
}

export function deviceKeysBody(userId, deviceId, signingKey, encryptionKey) {
  return canonical(DEVICE_KEYS, {
    user_id: userId,
    device_id: deviceId,
    signing_key: signingKey,
    encryption_key: encryptionKey,
  });
}

export function deviceListBody(userId, version, deviceIds) {
  return canonical(DEVICE_LIST, { user_id: userId, version, devices: [...deviceIds].sort() });
}

export function envelopeBody(envelope, conversationId, memberIds, senderUserId, clientMsgId) {
  return canonical(ENVELOPE, {
    v: envelope.v,
    conversation_id: conversationId,
    members: [...memberIds].sort(),
    sender_user_id: senderUserId,
    sender_device_id: envelope.sender_device_id,
    client_msg_id: clientMsgId,
    ephemeral_key: envelope.ephemeral_key,
    nonce: envelope.nonce,
    ciphertext: envelope.ciphertext,
    recipients: envelope.recipients
      .map((r) => ({ device_id: r.device_id, key: r.key }))
      .sort((a, b) => compare(a.device_id, b.device_id)),
  });
}

export function sdpBody(callId, kind, sdp, senderDeviceId) {
  return canonical(SDP, { call_id: callId, type: kind, sdp, sender_device_id: senderDeviceId });
}

export function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
