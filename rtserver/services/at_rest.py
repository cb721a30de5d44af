"""Sealing health data at rest: SecretBox (XSalsa20-Poly1305) under a subkey of `data_key`.

Each purpose gets its own subkey, derived as keyed BLAKE2b of the purpose label, so a leak of
one purpose's ciphertexts and keys does not open another's. Sealed text is versioned ("v1.")
to allow a later key rotation.
"""

from __future__ import annotations

import nacl.encoding
import nacl.hash
import nacl.secret

_VERSION = "v1."


class AtRestBox:
    def __init__(self, data_key: bytes, purpose: bytes) -> None:
        if len(data_key) != nacl.secret.SecretBox.KEY_SIZE:
            raise ValueError("data_key must be 32 bytes")
        if not purpose:
            raise ValueError("a purpose label is required")
        subkey = nacl.hash.blake2b(
            purpose,
            digest_size=nacl.secret.SecretBox.KEY_SIZE,
            key=data_key,
            encoder=nacl.encoding.RawEncoder,
        )
        self._box = nacl.secret.SecretBox(subkey)

    def __repr__(self) -> str:
        return "AtRestBox(<redacted>)"

    def seal(self, plaintext: bytes) -> str:
        """Encrypt with a fresh random nonce; returns printable text for a Text column."""
        sealed = self._box.encrypt(plaintext, encoder=nacl.encoding.URLSafeBase64Encoder)
        return _VERSION + sealed.decode("ascii")

    def open(self, sealed: str) -> bytes:
        """Decrypt and authenticate; raises nacl.exceptions.CryptoError on tampering or on a
        different key, ValueError on text this box never produced."""
        if not sealed.startswith(_VERSION):
            raise ValueError("unknown sealed-data version")
        return self._box.decrypt(
            sealed[len(_VERSION) :].encode("ascii"), encoder=nacl.encoding.URLSafeBase64Encoder
        )
