"""Access tokens (signed, short-lived) and refresh tokens (opaque, stored only as a hash).

Access token: ``v1.<base64url(JSON claims)>.<base64url(BLAKE2b-256 keyed MAC)>``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from datetime import UTC, datetime, timedelta

import nacl.encoding
import nacl.hash
import nacl.utils

from rtserver.domain.accounts import Principal, Role
from rtserver.errors import Unauthenticated

_PREFIX = "v1"
_MAX_TOKEN_LENGTH = 2048


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AccessTokens:
    def __init__(self, key: bytes, ttl: timedelta) -> None:
        self._key = key
        self._ttl = ttl

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def issue(
        self, user_id: str, device_id: str, role: Role, now: datetime
    ) -> tuple[str, datetime]:
        expires_at = now + self._ttl
        claims = {
            "sub": user_id,
            "dev": device_id,
            "role": role.value,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        signed = f"{_PREFIX}.{body}"
        return f"{signed}.{_b64(self._mac(signed))}", expires_at.replace(microsecond=0)

    def verify(self, token: object, now: datetime) -> Principal:
        """Return the principal, or raise `invalid_token` / `token_expired`."""
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
            raise Unauthenticated("access token missing or malformed", code="invalid_token")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX:
            raise Unauthenticated("access token malformed", code="invalid_token")
        try:
            mac = _unb64(parts[2])
            claims = json.loads(_unb64(parts[1]))
        except (binascii.Error, ValueError) as exc:
            raise Unauthenticated("access token malformed", code="invalid_token") from exc
        if not hmac.compare_digest(mac, self._mac(f"{parts[0]}.{parts[1]}")):
            raise Unauthenticated("access token signature invalid", code="invalid_token")
        try:
            principal = Principal(
                user_id=str(claims["sub"]),
                device_id=str(claims["dev"]),
                role=Role(claims["role"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise Unauthenticated("access token claims invalid", code="invalid_token") from exc
        if principal.expires_at <= now:
            raise Unauthenticated("access token expired; refresh it", code="token_expired")
        return principal

    def _mac(self, signed: str) -> bytes:
        return nacl.hash.blake2b(
            signed.encode(), digest_size=32, key=self._key, encoder=nacl.encoding.RawEncoder
        )


def new_refresh_token() -> str:
    return _b64(nacl.utils.random(32))


def refresh_token_hash(token: str) -> str:
    """Refresh tokens are 256 random bits, so an unkeyed hash is enough to store them."""
    return nacl.hash.blake2b(token.encode(), digest_size=32).decode("ascii")
