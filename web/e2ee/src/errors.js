// The errors this module throws, mirroring rtclient's CryptoError and ChatError.

/** A signature, key or ciphertext did not check out: treat the data as hostile. */
export class CryptoError extends Error {
  constructor(message) {
    super(message);
    this.name = "CryptoError";
  }
}

/** The server refused a request; `code` is the stable error code from docs/. */
export class ServerError extends Error {
  constructor(error) {
    super(`${error?.code}: ${error?.message}`);
    this.name = "ServerError";
    this.code = String(error?.code);
    this.error = error;
  }
}
