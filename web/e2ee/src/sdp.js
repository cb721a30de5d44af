// Call integrity: the SDP offer/answer is signed by the sending device, so a server cannot swap
// the DTLS fingerprints and sit in the middle of a call (rtclient's sign_sdp / verify_sdp).

import { CryptoError } from "./errors.js";
import { verify } from "./identity.js";
import { sdpBody } from "./signed.js";

/** `kind` is the SDP type: "offer" or "answer". */
export function signSdp(device, callId, kind, sdp) {
  return device.sign(sdpBody(callId, kind, sdp, device.deviceId));
}

export function verifySdp(sender, callId, kind, sdp, signature) {
  if (!verify(sender.signingKey, sdpBody(callId, kind, sdp, sender.deviceId), signature)) {
    throw new CryptoError("SDP signature does not verify: the call may be intercepted");
  }
}
