// rtserver's REST API as the console uses it (docs/protocol.md, docs/auth.md, docs/calls.md).
// Same origin as the page: the API sends no CORS headers.

const TIMEOUT_MS = 15_000;

/** A refused request: `code` is the server's stable error code (or the HTTP status). */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = error?.code ?? String(status);
    this.details = error?.details;
  }
}

async function send(method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const isJson = (response.headers.get("Content-Type") ?? "").startsWith("application/json");
  const data = isJson ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return data;
}

export function login(loginName, password, deviceName) {
  return send("POST", "/api/v1/auth/login", {
    body: { login: loginName, password, device_name: deviceName },
  });
}

/** Trade a refresh token for a new pair; the old one is spent whatever happens next. */
export function refresh(refreshToken) {
  return send("POST", "/api/v1/auth/refresh", { body: { refresh_token: refreshToken } });
}

export function logout(token) {
  return send("POST", "/api/v1/auth/logout", { token });
}

/** REST calls with the current access token of a signed-in device. */
export class Api {
  constructor(token) {
    this.token = token;
  }

  get(path) {
    return send("GET", path, { token: this.token });
  }

  async conversations() {
    return (await this.get("/api/v1/conversations")).conversations;
  }

  conversation(conversationId) {
    return this.get(`/api/v1/conversations/${encodeURIComponent(conversationId)}`);
  }

  /** ICE servers with fresh TURN credentials, and whether to relay only. */
  async iceConfig() {
    const body = await this.get("/api/v1/turn");
    const relay = body.ice_transport_policy === "relay" || body.prefer_relay === true;
    return {
      iceServers: (body.ice_servers ?? []).map(({ urls, username, credential }) =>
        username ? { urls, username, credential } : { urls },
      ),
      iceTransportPolicy: relay ? "relay" : "all",
    };
  }

  call(callId) {
    return this.get(`/api/v1/calls/${encodeURIComponent(callId)}`);
  }
}
