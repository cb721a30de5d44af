// What this browser remembers between visits, in localStorage under one key: the signed-in
// device (its refresh token and private device keys), each user's master key, and the pinned
// master keys of the people they talked to.
//
// Trade-off (docs/calls.md, "Counselor console"): localStorage is synchronous and simple, and
// tweetnacl needs raw key bytes anyway, so IndexedDB's non-extractable CryptoKeys would not
// help. Either store is readable by any script running on this origin: the console's
// Content-Security-Policy allows only its own scripts, and signing out removes the device keys
// and the refresh token. The master key stays so this browser can sign its next device; the
// key backup is what saves it when the browser profile is lost.

const KEY = "rtserver.console.v1";

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return { session: null, masters: {}, pins: {}, ...saved };
  } catch {
    return { session: null, masters: {}, pins: {} }; // unreadable: start over, never crash
  }
}

function save(state) {
  localStorage.setItem(KEY, JSON.stringify(state));
}

function update(change) {
  const state = load();
  change(state);
  save(state);
}

/** `{userId, deviceId, refreshToken, deviceKeys}` of the signed-in device, or null. */
export function savedSession() {
  return load().session;
}

export function saveSession(session) {
  update((state) => {
    state.session = session;
  });
}

/** Store the new refresh token before using the new access token (auth.md, rotation). */
export function saveRefreshToken(refreshToken) {
  update((state) => {
    if (state.session) state.session.refreshToken = refreshToken;
  });
}

export function forgetSession() {
  update((state) => {
    state.session = null;
  });
}

export function savedMaster(userId) {
  return load().masters[userId] ?? null;
}

export function saveMaster(userId, exported) {
  update((state) => {
    state.masters[userId] = exported;
  });
}

/** Master keys `userId` pinned for their peers (user id -> public key). */
export function savedPins(userId) {
  return load().pins[userId] ?? {};
}

export function savePins(userId, pins) {
  update((state) => {
    state.pins[userId] = Object.fromEntries(pins);
  });
}
