"""TURN credentials from the REST API work against a real coturn on loopback; a wrong secret
fails clearly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aioice
import pytest

from media.turn import turn_credentials
from tests.conftest import SettingsFactory
from tests.support.clients import Api
from tests.support.coturn import running_coturn
from tests.support.server import serve_in_process

SECRET = "turn-shared-secret-for-tests-only"


def test_credentials_follow_the_turn_rest_api() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    creds = turn_credentials("secret", "user-1", now, timedelta(hours=1), ("turn:x:3478",))
    assert creds.username == f"{int((now + timedelta(hours=1)).timestamp())}:user-1"
    # base64(HMAC-SHA1("secret", username)), checked with the standard library's reference
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(
        hmac.new(b"secret", creds.username.encode(), hashlib.sha1).digest()
    ).decode()
    assert creds.credential == expected


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[int]:
    with running_coturn(tmp_path, SECRET) as port:
        yield port


async def relay_candidates(port: int, username: str, password: str) -> list[str]:
    connection = aioice.Connection(
        ice_controlling=True,
        components=1,
        turn_server=("127.0.0.1", port),
        turn_username=username,
        turn_password=password,
        turn_transport="udp",
        use_ipv4=True,
        use_ipv6=False,
    )
    try:
        await asyncio.wait_for(connection.gather_candidates(), 10)
        return [c.host for c in connection.local_candidates if c.type == "relay"]
    finally:
        await connection.close()


async def test_rest_credentials_allocate_a_relay_and_a_wrong_secret_does_not(
    make_settings: SettingsFactory, http: object, coturn: int
) -> None:
    import aiohttp

    assert isinstance(http, aiohttp.ClientSession)
    uris = [f"turn:127.0.0.1:{coturn}?transport=udp", f"turn:127.0.0.1:{coturn}?transport=tcp"]
    settings = make_settings(
        turn_secret=SECRET,
        turn_uris=uris,
        stun_uris=[f"stun:127.0.0.1:{coturn}"],
        turn_prefer_relay=True,
    )
    async with serve_in_process(settings) as server:
        api = Api(server.url, http)
        session = await api.register()
        reply = await api.request("GET", "/api/v1/turn", token=session["access_token"])
        assert reply.status == 200
        assert reply.body["ice_transport_policy"] == "relay"
        turn = reply.body["ice_servers"][-1]
        assert turn["urls"] == uris and turn["username"].endswith(session["user"]["id"])
        assert await relay_candidates(coturn, turn["username"], turn["credential"]) == ["127.0.0.1"]
        assert (await api.request("GET", "/api/v1/turn")).code == "unauthenticated"
    wrong = turn_credentials("not-the-secret", "u", datetime.now(UTC), timedelta(hours=1), ())
    assert await relay_candidates(coturn, wrong.username, wrong.credential) == []
    expired = turn_credentials(
        SECRET, "u", datetime.now(UTC) - timedelta(hours=2), timedelta(hours=1), ()
    )
    assert await relay_candidates(coturn, expired.username, expired.credential) == []
