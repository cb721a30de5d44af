"""TURN credentials from the REST API work against a real coturn on loopback; a wrong secret
fails clearly."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aioice
import pytest

from media.turn import turn_credentials
from tests.conftest import IN_CI, SettingsFactory
from tests.support.clients import Api
from tests.support.server import free_port, serve_in_process

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
    binary = shutil.which("turnserver")
    if binary is None:
        if IN_CI:
            pytest.fail("coturn (turnserver) is required in CI")
        pytest.skip("coturn not installed: apt-get install coturn")
    port = free_port()
    # The production config with what a loopback test needs changed: no TLS files, loopback
    # peers and relay addresses allowed, our secret.
    production = (Path(__file__).resolve().parents[2] / "config" / "turnserver.conf").read_text()
    lines = [
        line
        for line in production.splitlines()
        if not line.startswith(
            (
                "cert=",
                "pkey=",
                "denied-peer-ip=127.",
                "denied-peer-ip=::1",
                "listening-port",
                "tls-listening-port",
                "log-file",
            )
        )
    ]
    lines += [
        f"listening-port={port}",
        "listening-ip=127.0.0.1",
        "relay-ip=127.0.0.1",
        "allow-loopback-peers",
        "no-tls",
        "no-dtls",
        f"static-auth-secret={SECRET}",
        "min-port=40000",
        "max-port=40999",
        f"log-file={tmp_path / 'turn.log'}",
    ]
    config = tmp_path / "turnserver.conf"
    config.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        import socket
        import time

        for _ in range(100):  # wait until it answers on TCP
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


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
