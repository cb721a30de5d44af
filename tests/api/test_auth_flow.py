"""Accounts over real HTTP, on SQLite and PostgreSQL: the happy paths and token lifecycles."""

from __future__ import annotations

from rtserver.api.keys import DATABASE
from tests.support.clients import Api
from tests.support.server import RunningServer


async def user_count(server: RunningServer) -> int:
    assert server.app is not None
    async with server.app[DATABASE].read() as tx:
        return await tx.users.count()


async def test_register_login_and_me(api: Api) -> None:
    session = await api.register("Bintang.07", device="Pixel 7")
    assert session["user"]["login"] == "bintang.07"
    assert session["user"]["role"] == "client"
    again = await api.login("BINTANG.07", "correct horse 42", device="laptop")
    assert again["user"]["id"] == session["user"]["id"]
    assert again["device_id"] != session["device_id"]

    listed = await api.request("GET", "/api/v1/devices", token=again["access_token"])
    assert listed.status == 200
    names = {(d["name"], d["current"]) for d in listed.body["devices"]}
    assert names == {("Pixel 7", False), ("laptop", True)}


async def test_refresh_rotates_and_old_token_reuse_revokes_family(api: Api) -> None:
    first = await api.register()
    rotated = await api.request(
        "POST", "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]}
    )
    assert rotated.status == 200
    assert rotated.body["refresh_token"] != first["refresh_token"]
    assert rotated.body["device_id"] == first["device_id"]

    reused = await api.request(
        "POST", "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]}
    )
    assert reused.status == 401 and reused.code == "refresh_token_reused"

    # The whole family is gone: the newest refresh token and the access token no longer work.
    newest = await api.request(
        "POST", "/api/v1/auth/refresh", {"refresh_token": rotated.body["refresh_token"]}
    )
    assert newest.code == "invalid_refresh_token"
    me = await api.request("GET", "/api/v1/devices", token=rotated.body["access_token"])
    assert me.status == 401 and me.code == "device_revoked"


async def test_logout_revokes_device_tokens(api: Api) -> None:
    session = await api.register()
    assert (
        await api.request("POST", "/api/v1/auth/logout", token=session["access_token"])
    ).status == 204
    after = await api.request("GET", "/api/v1/devices", token=session["access_token"])
    assert after.code == "device_revoked"
    refresh = await api.request(
        "POST", "/api/v1/auth/refresh", {"refresh_token": session["refresh_token"]}
    )
    assert refresh.code == "invalid_refresh_token"


async def test_revoke_own_device_but_not_someone_elses(api: Api) -> None:
    alice = await api.register()
    alice_laptop = await api.login(alice["user"]["login"], "correct horse 42", device="laptop")
    mallory = await api.register()

    stolen = await api.request(
        "DELETE", f"/api/v1/devices/{alice['device_id']}", token=mallory["access_token"]
    )
    assert stolen.status == 404 and stolen.code == "device_not_found"
    still = await api.request("GET", "/api/v1/devices", token=alice["access_token"])
    assert still.status == 200

    revoked = await api.request(
        "DELETE", f"/api/v1/devices/{alice['device_id']}", token=alice_laptop["access_token"]
    )
    assert revoked.status == 204
    gone = await api.request("GET", "/api/v1/devices", token=alice["access_token"])
    assert gone.code == "device_revoked"


async def test_admin_creates_staff_and_disables_accounts(api: Api, server: RunningServer) -> None:
    assert server.app is not None
    from rtserver.api.keys import ACCOUNTS
    from rtserver.domain.accounts import Role

    await server.app[ACCOUNTS].create_user("root.admin", "admin password 1", "Admin", Role.ADMIN)
    admin = await api.login("root.admin", "admin password 1")
    created = await api.request(
        "POST",
        "/api/v1/admin/users",
        {
            "login": "dr.sari",
            "password": "counselor pw 1",
            "display_name": "Dr. Sari",
            "role": "counselor",
        },
        token=admin["access_token"],
    )
    assert created.status == 201 and created.body["role"] == "counselor"

    client = await api.register()
    denied = await api.request(
        "POST",
        "/api/v1/admin/users",
        {
            "login": "evil.admin",
            "password": "whatever pw 1",
            "display_name": "x",
            "role": "admin",
        },
        token=client["access_token"],
    )
    assert denied.status == 403 and denied.code == "forbidden"
    denied_disable = await api.request(
        "POST", f"/api/v1/admin/users/{created.body['id']}/disable", token=client["access_token"]
    )
    assert denied_disable.status == 403

    disabled = await api.request(
        "POST",
        f"/api/v1/admin/users/{client['user']['id']}/disable",
        token=admin["access_token"],
    )
    assert disabled.status == 204
    refused = await api.request("GET", "/api/v1/devices", token=client["access_token"])
    assert refused.status == 401 and refused.code == "device_revoked"
    relogin = await api.request(
        "POST",
        "/api/v1/auth/login",
        {
            "login": client["user"]["login"],
            "password": "correct horse 42",
            "device_name": "x",
        },
    )
    assert relogin.status == 403 and relogin.code == "account_disabled"
    assert await user_count(server) == 3
