"""Bad input gets a stable code and a message, and writes nothing (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rtserver.api.keys import SETTINGS
from rtserver.auth.tokens import AccessTokens
from rtserver.domain.accounts import Role
from rtserver.secret_keys import load_secret_keys
from tests.api.test_auth_flow import user_count
from tests.support.clients import Api
from tests.support.server import RunningServer

REGISTER = "/api/v1/auth/register"
GOOD = {
    "login": "new.user",
    "password": "correct horse 42",
    "display_name": "N",
    "device_name": "phone",
}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**GOOD, "role": "admin"}, "invalid_request"),  # unknown field: no self-made admins
        ({**GOOD, "login": 42}, "invalid_request"),  # wrong type
        ({k: v for k, v in GOOD.items() if k != "password"}, "invalid_request"),  # missing
        ([GOOD], "invalid_request"),  # not an object
        ({**GOOD, "login": "a b"}, "invalid_login"),
        ({**GOOD, "login": "x" * 65}, "invalid_request"),
        ({**GOOD, "password": "short"}, "weak_password"),
        ({**GOOD, "password": "new.user"}, "weak_password"),
        ({**GOOD, "password": "aaaaaaaaaaaa"}, "weak_password"),
        ({**GOOD, "display_name": "   "}, "invalid_display_name"),
    ],
)
async def test_register_refuses_bad_bodies(
    api: Api, server: RunningServer, body: object, code: str
) -> None:
    reply = await api.request("POST", REGISTER, body)
    assert reply.status == 400, reply.body
    assert reply.code == code
    assert reply.body["error"]["message"]
    assert await user_count(server) == 0


async def test_malformed_json_and_wrong_media_type(api: Api, server: RunningServer) -> None:
    broken = await api.request(
        "POST", REGISTER, data=b'{"login": ', headers={"Content-Type": "application/json"}
    )
    assert broken.status == 400 and broken.code == "malformed_json"
    form = await api.request(
        "POST",
        REGISTER,
        data=b"login=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status == 415 and form.code == "unsupported_media_type"
    assert await user_count(server) == 0


async def test_oversize_body_is_refused(api: Api, server: RunningServer) -> None:
    huge = {**GOOD, "display_name": "x" * 200_000}
    reply = await api.request("POST", REGISTER, huge)
    assert reply.status == 413 and reply.code == "payload_too_large"
    assert await user_count(server) == 0


async def test_duplicate_login_conflicts(api: Api, server: RunningServer) -> None:
    await api.register("same.name")
    reply = await api.request("POST", REGISTER, {**GOOD, "login": "SAME.name"})
    assert reply.status == 409 and reply.code == "login_taken"
    assert await user_count(server) == 1


async def test_wrong_password_and_unknown_login_look_the_same(api: Api) -> None:
    await api.register("known.user")
    wrong = await api.request(
        "POST",
        "/api/v1/auth/login",
        {"login": "known.user", "password": "nope nope 1", "device_name": "x"},
    )
    unknown = await api.request(
        "POST",
        "/api/v1/auth/login",
        {"login": "ghost.user", "password": "nope nope 1", "device_name": "x"},
    )
    assert wrong.status == unknown.status == 401
    assert wrong.code == unknown.code == "invalid_credentials"
    assert wrong.body["error"]["message"] == unknown.body["error"]["message"]


async def test_account_is_throttled_after_repeated_failures(api: Api) -> None:
    await api.register("target.user")
    for _ in range(5):
        reply = await api.request(
            "POST",
            "/api/v1/auth/login",
            {"login": "target.user", "password": "guess guess 1", "device_name": "x"},
        )
        assert reply.code == "invalid_credentials"
    blocked = await api.request(
        "POST",
        "/api/v1/auth/login",
        {"login": "target.user", "password": "correct horse 42", "device_name": "x"},
    )
    assert blocked.status == 429 and blocked.code == "too_many_attempts"
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.body["error"]["details"]["retry_after"] > 0


async def test_tokens_missing_forged_expired_or_garbage(api: Api, server: RunningServer) -> None:
    session = await api.register()
    assert server.app is not None
    settings = server.app[SETTINGS]
    key = load_secret_keys(settings).token_signing_key
    user_id, device_id = session["user"]["id"], session["device_id"]

    missing = await api.request("GET", "/api/v1/devices")
    assert missing.status == 401 and missing.code == "unauthenticated"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")

    forged, _ = AccessTokens(b"k" * 32, timedelta(minutes=5)).issue(
        user_id, device_id, Role.ADMIN, datetime.now(UTC)
    )
    assert (await api.request("GET", "/api/v1/devices", token=forged)).code == "invalid_token"

    expired, _ = AccessTokens(key, timedelta(minutes=5)).issue(
        user_id, device_id, Role.CLIENT, datetime.now(UTC) - timedelta(minutes=6)
    )
    assert (await api.request("GET", "/api/v1/devices", token=expired)).code == "token_expired"

    head, body, mac = session["access_token"].split(".")
    tampered = f"{head}.{body[:-2]}AA.{mac}"
    assert (await api.request("GET", "/api/v1/devices", token=tampered)).code == "invalid_token"
    for garbage in ("x", "v1.a.b", "v1..", "v2." + body + "." + mac, "é" * 10):
        reply = await api.request("GET", "/api/v1/devices", token=garbage)
        assert reply.status == 401 and reply.code == "invalid_token", garbage


async def test_refresh_with_unknown_token(api: Api) -> None:
    reply = await api.request("POST", "/api/v1/auth/refresh", {"refresh_token": "made-up"})
    assert reply.status == 401 and reply.code == "invalid_refresh_token"


async def test_unknown_route_and_method(api: Api) -> None:
    assert (await api.request("GET", "/api/v1/nothing")).code == "not_found"
    assert (await api.request("PUT", "/api/v1/auth/login", {})).code == "method_not_allowed"


async def test_admin_cannot_disable_self_or_unknown_user(api: Api, server: RunningServer) -> None:
    from rtserver.api.keys import ACCOUNTS

    assert server.app is not None
    admin_user = await server.app[ACCOUNTS].create_user(
        "adm.one", "admin password 1", "A", Role.ADMIN
    )
    admin = await api.login("adm.one", "admin password 1")
    own = await api.request(
        "POST", f"/api/v1/admin/users/{admin_user.id}/disable", token=admin["access_token"]
    )
    assert own.status == 400 and own.code == "cannot_disable_self"
    ghost = await api.request(
        "POST", "/api/v1/admin/users/nope/disable", token=admin["access_token"]
    )
    assert ghost.status == 404 and ghost.code == "user_not_found"


async def test_errors_carry_security_headers_and_allow(api: Api) -> None:
    reply = await api.request("PUT", "/api/v1/auth/login", {})
    assert reply.code == "method_not_allowed"
    assert "POST" in reply.headers["Allow"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Cache-Control"] == "no-store"
