// The signed-in device: its tokens, kept fresh before they expire, and its device identity,
// remembered in this browser so a reload continues the same device (auth.md: refresh rotation).

import * as api from "./api.js";
import { deviceIdentity } from "./keys.js";
import * as storage from "./storage.js";

const DEVICE_NAME = "Counselor console";
const REFRESH_MARGIN_MS = 60_000; // refresh this long before the access token expires (at most)
const REFRESH_LOCK = "rtserver.console.refresh"; // one refresh at a time across this browser's tabs

export class Session extends EventTarget {
  constructor(reply, savedKeys = null) {
    super();
    this.user = reply.user;
    this.deviceId = reply.device_id;
    this.identity = deviceIdentity(reply.user.id, reply.device_id, savedKeys);
    this.timer = null;
    this.#adopt(reply);
    storage.saveSession({
      user: this.user,
      deviceId: this.deviceId,
      deviceKeys: this.identity.export(),
      refreshToken: reply.refresh_token,
      accessToken: reply.access_token,
      accessExpiresAt: reply.access_expires_at,
    });
  }

  static async signIn(login, password) {
    return new Session(await api.login(login, password, DEVICE_NAME));
  }

  /** The device this browser signed in before, if its refresh token still works. */
  static async resume() {
    return withRefreshLock(async () => {
      const saved = storage.savedSession(); // read under the lock: another tab may rotate it
      if (!saved?.refreshToken || !saved.deviceKeys) return null;
      try {
        return new Session(await api.refresh(saved.refreshToken), saved.deviceKeys);
      } catch (error) {
        if (!(error instanceof api.ApiError)) throw error;
        storage.forgetSession(); // signed out, revoked or expired: sign in again
        return null;
      }
    });
  }

  /** A new access token; another tab may have rotated the refresh token already. */
  async refresh() {
    await withRefreshLock(async () => {
      const saved = storage.savedSession();
      if (!saved || saved.deviceId !== this.deviceId) throw new Error("signed out in another tab");
      if (saved.accessToken !== this.token && Date.parse(saved.accessExpiresAt) > this.expiresAt) {
        this.#adopt({ access_token: saved.accessToken, access_expires_at: saved.accessExpiresAt });
        return;
      }
      const reply = await api.refresh(saved.refreshToken);
      storage.saveRefreshToken(reply.refresh_token); // before the access token is used
      storage.saveSession({
        ...storage.savedSession(),
        accessToken: reply.access_token,
        accessExpiresAt: reply.access_expires_at,
      });
      this.#adopt(reply);
    });
  }

  async signOut() {
    clearTimeout(this.timer);
    try {
      await api.logout(this.token);
    } finally {
      storage.forgetSession();
    }
  }

  #adopt(reply) {
    this.token = reply.access_token;
    this.expiresAt = Date.parse(reply.access_expires_at);
    clearTimeout(this.timer);
    const lifetime = lifetimeMs(this.token) ?? REFRESH_MARGIN_MS * 2;
    const due = Math.max(1_000, lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 5));
    this.timer = setTimeout(() => this.#refreshQuietly(), due);
    this.dispatchEvent(new CustomEvent("token", { detail: this.token }));
  }

  async #refreshQuietly() {
    try {
      await this.refresh();
    } catch (error) {
      this.dispatchEvent(new CustomEvent("expired", { detail: error }));
    }
  }
}

function withRefreshLock(task) {
  if (!navigator.locks) return task();
  return navigator.locks.request(REFRESH_LOCK, task);
}

/** The token's lifetime from its own claims (`exp - iat`, auth.md), so a browser whose clock is
 * off still refreshes in time; null if it cannot be read. */
function lifetimeMs(token) {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")));
    return (claims.exp - claims.iat) * 1000;
  } catch {
    return null;
  }
}
