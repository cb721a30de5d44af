"""Device-side E2EE v1 on NaCl (pynacl): identities, cross-signing, sealing and opening
envelopes, safety numbers and passphrase-encrypted key backups. See docs/e2ee.md."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.public
import nacl.pwhash
import nacl.secret
import nacl.signing
import nacl.utils

from rtclient import signed

PAD_BUCKETS = (256, 1024, 4096, 16384, 32768)


class CryptoError(Exception):
    """A signature, key or ciphertext did not check out: treat the data as hostile."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def verify(public_key: str, message: bytes, signature: str) -> bool:
    try:
        nacl.signing.VerifyKey(unb64(public_key)).verify(message, unb64(signature))
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def pad(content: bytes) -> bytes:
    """ISO/IEC 7816-4 padding to the next size bucket, so lengths leak only the bucket."""
    needed = len(content) + 1
    bucket = next((b for b in PAD_BUCKETS if b >= needed), -(-needed // 16384) * 16384)
    return content + b"\x80" + b"\x00" * (bucket - needed)


def unpad(padded: bytes) -> bytes:
    end = padded.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise CryptoError("bad padding")
    return end[:-1]


@dataclass(frozen=True)
class MasterIdentity:
    signing_key: nacl.signing.SigningKey

    @classmethod
    def generate(cls) -> MasterIdentity:
        return cls(nacl.signing.SigningKey.generate())

    @property
    def public_key(self) -> str:
        return b64(bytes(self.signing_key.verify_key))

    def export(self) -> str:
        return b64(bytes(self.signing_key))

    @classmethod
    def restore(cls, exported: str) -> MasterIdentity:
        return cls(nacl.signing.SigningKey(unb64(exported)))

    def sign(self, message: bytes) -> str:
        return b64(self.signing_key.sign(message).signature)


@dataclass(frozen=True)
class DeviceIdentity:
    user_id: str
    device_id: str
    signing_key: nacl.signing.SigningKey
    encryption_key: nacl.public.PrivateKey

    @classmethod
    def generate(cls, user_id: str, device_id: str) -> DeviceIdentity:
        return cls(
            user_id,
            device_id,
            nacl.signing.SigningKey.generate(),
            nacl.public.PrivateKey.generate(),
        )

    def export(self) -> dict[str, str]:
        return {
            "signing": b64(bytes(self.signing_key)),
            "encryption": b64(bytes(self.encryption_key)),
        }

    @classmethod
    def restore(cls, user_id: str, device_id: str, exported: Mapping[str, str]) -> DeviceIdentity:
        return cls(
            user_id,
            device_id,
            nacl.signing.SigningKey(unb64(exported["signing"])),
            nacl.public.PrivateKey(unb64(exported["encryption"])),
        )

    @property
    def public_signing_key(self) -> str:
        return b64(bytes(self.signing_key.verify_key))

    @property
    def public_encryption_key(self) -> str:
        return b64(bytes(self.encryption_key.public_key))

    def keys_signed_by(self, master: MasterIdentity) -> dict[str, str]:
        body = signed.device_keys_body(
            self.user_id, self.device_id, self.public_signing_key, self.public_encryption_key
        )
        return {
            "signing_key": self.public_signing_key,
            "encryption_key": self.public_encryption_key,
            "signature": master.sign(body),
        }


def sign_device_list(
    master: MasterIdentity, user_id: str, version: int, device_ids: Iterable[str]
) -> dict[str, Any]:
    ids = sorted(set(device_ids))
    return {
        "version": version,
        "devices": ids,
        "signature": master.sign(signed.device_list_body(user_id, version, ids)),
    }


@dataclass(frozen=True)
class PeerDevice:
    """A device whose keys were verified against its user's (pinned) master key."""

    user_id: str
    device_id: str
    signing_key: str
    encryption_key: str


def seal(
    sender: DeviceIdentity,
    conversation_id: str,
    member_ids: Iterable[str],
    client_msg_id: str,
    content: bytes,
    recipients: Iterable[PeerDevice],
) -> dict[str, Any]:
    """Encrypt once with a fresh secretbox key, box that key for every recipient device from a
    per-message ephemeral key, and sign the whole bound to its conversation and members."""
    content_key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = nacl.secret.SecretBox(content_key).encrypt(pad(content), nonce).ciphertext
    ephemeral = nacl.public.PrivateKey.generate()
    wrapped = []
    for device in sorted(recipients, key=lambda d: d.device_id):
        box = nacl.public.Box(ephemeral, nacl.public.PublicKey(unb64(device.encryption_key)))
        key_nonce = nacl.utils.random(nacl.public.Box.NONCE_SIZE)
        wrapped.append(
            {
                "device_id": device.device_id,
                "key": b64(key_nonce + box.encrypt(content_key, key_nonce).ciphertext),
            }
        )
    envelope: dict[str, Any] = {
        "v": 1,
        "sender_device_id": sender.device_id,
        "ephemeral_key": b64(bytes(ephemeral.public_key)),
        "nonce": b64(nonce),
        "ciphertext": b64(ciphertext),
        "recipients": wrapped,
    }
    body = signed.envelope_body(
        envelope, conversation_id, member_ids, sender.user_id, client_msg_id
    )
    envelope["signature"] = b64(sender.signing_key.sign(body).signature)
    return envelope


def open_envelope(
    me: DeviceIdentity,
    envelope: Mapping[str, Any],
    conversation_id: str,
    member_ids: Iterable[str],
    sender: PeerDevice,
    client_msg_id: str,
) -> bytes:
    """Verify the sender's signature over this exact context, then decrypt. Raises CryptoError
    for a re-addressed, replayed, forged or tampered envelope."""
    if envelope.get("v") != 1:
        raise CryptoError(f"unsupported envelope version {envelope.get('v')!r}")
    if envelope["sender_device_id"] != sender.device_id:
        raise CryptoError("envelope names another sending device")
    body = signed.envelope_body(
        envelope, conversation_id, member_ids, sender.user_id, client_msg_id
    )
    if not verify(sender.signing_key, body, envelope["signature"]):
        raise CryptoError("envelope signature does not verify for this conversation")
    mine = next((r for r in envelope["recipients"] if r["device_id"] == me.device_id), None)
    if mine is None:
        raise CryptoError("this device is not a recipient")
    try:
        raw = unb64(mine["key"])
        box = nacl.public.Box(
            me.encryption_key, nacl.public.PublicKey(unb64(envelope["ephemeral_key"]))
        )
        content_key = box.decrypt(raw[24:], raw[:24])
        padded = nacl.secret.SecretBox(content_key).decrypt(
            unb64(envelope["ciphertext"]), unb64(envelope["nonce"])
        )
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise CryptoError("cannot decrypt: tampered or not for this device") from exc
    return unpad(padded)


def sign_sdp(device: DeviceIdentity, call_id: str, kind: str, sdp: str) -> str:
    return b64(
        device.signing_key.sign(signed.sdp_body(call_id, kind, sdp, device.device_id)).signature
    )


def verify_sdp(sender: PeerDevice, call_id: str, kind: str, sdp: str, signature: str) -> None:
    if not verify(
        sender.signing_key, signed.sdp_body(call_id, kind, sdp, sender.device_id), signature
    ):
        raise CryptoError("SDP signature does not verify: the call may be intercepted")


def safety_number(user_a: str, master_a: str, user_b: str, master_b: str) -> str:
    """60 digits both people can compare (read aloud or as a QR code): 30 from each side,
    ordered by user id so both compute the same number."""

    def half(user_id: str, master: str) -> str:
        digest = nacl.hash.blake2b(
            user_id.encode() + b"\x00" + unb64(master),
            digest_size=64,
            person=b"rtserver-safety",
            encoder=nacl.encoding.RawEncoder,
        )
        for _ in range(1023):  # slow enough to make grinding a look-alike key costly
            digest = nacl.hash.blake2b(digest, digest_size=64, encoder=nacl.encoding.RawEncoder)
        return "".join(
            f"{int.from_bytes(digest[i : i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5)
        )

    parts = sorted([(user_a, master_a), (user_b, master_b)])
    return half(*parts[0]) + half(*parts[1])


def encrypt_backup(
    secrets: Mapping[str, str],
    passphrase: str,
    opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_MODERATE,
    memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_MODERATE,
) -> dict[str, Any]:
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    key = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode(),
        salt,
        opslimit=opslimit,
        memlimit=memlimit,
    )
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = (
        nacl.secret.SecretBox(key).encrypt(json.dumps(dict(secrets)).encode(), nonce).ciphertext
    )
    return {
        "ciphertext": b64(ciphertext),
        "nonce": b64(nonce),
        "kdf": {"alg": "argon2id13", "opslimit": opslimit, "memlimit": memlimit, "salt": b64(salt)},
    }


def decrypt_backup(backup: Mapping[str, Any], passphrase: str) -> dict[str, str]:
    kdf = backup["kdf"]
    if kdf.get("alg") != "argon2id13":
        raise CryptoError("unknown backup KDF")
    key = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode(),
        unb64(kdf["salt"]),
        opslimit=kdf["opslimit"],
        memlimit=kdf["memlimit"],
    )
    try:
        plain = nacl.secret.SecretBox(key).decrypt(
            unb64(backup["ciphertext"]), unb64(backup["nonce"])
        )
    except nacl.exceptions.CryptoError as exc:
        raise CryptoError("wrong passphrase or damaged backup") from exc
    return dict(json.loads(plain))
