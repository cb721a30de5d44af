"""Access token codec and refresh token hashing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rtserver.auth.tokens import AccessTokens, new_refresh_token, refresh_token_hash
from rtserver.domain.accounts import Role
from rtserver.errors import Unauthenticated

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
KEY = bytes(range(32))


def codec() -> AccessTokens:
    return AccessTokens(KEY, timedelta(minutes=10))


def test_round_trip() -> None:
    token, expires = codec().issue("u1", "d1", Role.COUNSELOR, NOW)
    principal = codec().verify(token, NOW + timedelta(minutes=9))
    assert (principal.user_id, principal.device_id, principal.role) == ("u1", "d1", Role.COUNSELOR)
    assert principal.expires_at == expires == NOW + timedelta(minutes=10)


def test_expired_at_exactly_ttl() -> None:
    token, _ = codec().issue("u1", "d1", Role.CLIENT, NOW)
    with pytest.raises(Unauthenticated) as caught:
        codec().verify(token, NOW + timedelta(minutes=10))
    assert caught.value.code == "token_expired"


def test_other_key_is_rejected() -> None:
    token, _ = AccessTokens(b"\x01" * 32, timedelta(minutes=10)).issue("u", "d", Role.ADMIN, NOW)
    with pytest.raises(Unauthenticated) as caught:
        codec().verify(token, NOW)
    assert caught.value.code == "invalid_token"


def test_role_cannot_be_edited() -> None:
    import base64
    import json

    token, _ = codec().issue("u1", "d1", Role.CLIENT, NOW)
    prefix, body, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["role"] = "admin"
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthenticated):
        codec().verify(f"{prefix}.{edited}.{mac}", NOW)


@pytest.mark.parametrize("bad", [None, 5, "", "a.b", "v1.!!.!!", "v1.e30.AAAA", "x" * 5000])
def test_malformed(bad: object) -> None:
    with pytest.raises(Unauthenticated) as caught:
        codec().verify(bad, NOW)
    assert caught.value.code == "invalid_token"


def test_refresh_tokens_are_random_and_hashed() -> None:
    tokens = {new_refresh_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert refresh_token_hash(token) == refresh_token_hash(token)
    assert token not in refresh_token_hash(token)
    assert len(refresh_token_hash(token)) == 64
