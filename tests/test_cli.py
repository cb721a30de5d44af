"""The `rtserver` command as a newcomer runs it: demo, serve, migrate, create-user."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import socketio

from tests.conftest import SettingsFactory
from tests.support.clients import Api, connect, new_socket
from tests.support.databases import drop_postgres, recreate_postgres
from tests.support.server import ROOT, serve_subprocess, settings_env


def run_cli(
    settings_env_: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtserver", *args],
        env=settings_env_,
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_serve_with_demo_data_login_and_connect(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(database_url="")  # the embedded default: SQLite in data_dir
    with serve_subprocess(settings, tmp_path, "--demo") as server:
        logins = json.loads((settings.data_dir / "demo-logins.json").read_text())
        assert set(logins) == {"demo.client", "demo.counselor", "demo.ops", "demo.admin"}
        async with aiohttp.ClientSession() as http:
            session = await Api(server.url, http).login("demo.client", logins["demo.client"])
            mine = await Api(server.url, http).request(
                "GET", "/api/v1/conversations", token=session["access_token"]
            )
        assert session["user"]["role"] == "client"
        # The demo client already has a conversation with the demo counselor to chat and call in.
        assert [c["kind"] for c in mine.body["conversations"]] == ["direct"]
        sock = await connect(server.url, session["access_token"])
        assert (await sock.call("session.info"))["ok"]
        await sock.close()

        anonymous = new_socket()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await anonymous.client.connect(server.url, transports=["websocket"], wait_timeout=5)
        assert (await anonymous.connect_error.get())["data"]["code"] == "unauthenticated"
        await anonymous.close()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect(server.url, session["access_token"], origin="http://evil.example")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_demo_is_repeatable(make_settings: SettingsFactory) -> None:
    env = settings_env(make_settings(database_url=""))
    first, second = run_cli(env, "demo"), run_cli(env, "demo")
    assert first.returncode == second.returncode == 0, first.stderr
    assert "demo.client" in first.stdout and first.stdout == second.stdout


@pytest.mark.parametrize(("key", "value"), [("PORT", "eighty"), ("LOG_LEVEL", "LOUD")])
def test_invalid_config_fails_naming_the_key(key: str, value: str) -> None:
    env = settings_env_base()
    env[f"RTSERVER_{key}"] = value
    result = run_cli(env, "serve")
    assert result.returncode == 2
    assert key.lower() in result.stderr and "invalid configuration" in result.stderr


def settings_env_base() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("RTSERVER_")}


def test_create_user_then_login(make_settings: SettingsFactory, tmp_path: Path) -> None:
    settings = make_settings()
    env = settings_env(settings)
    if not settings.uses_sqlite:
        assert run_cli(env, "migrate").returncode == 0
    created = run_cli(
        env,
        "create-user",
        "--role",
        "counselor",
        "--login",
        "dr.sari",
        "--display-name",
        "Dr. Sari",
        "--password-stdin",
        stdin="counselor pw 123\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created counselor dr.sari" in created.stdout
    assert "counselor pw 123" not in created.stdout
    duplicate = run_cli(
        env,
        "create-user",
        "--role",
        "ops",
        "--login",
        "dr.sari",
        "--display-name",
        "x",
        "--password-stdin",
        stdin="another pw 123\n",
    )
    assert duplicate.returncode == 1 and "login_taken" in duplicate.stderr
    weak = run_cli(
        env,
        "create-user",
        "--role",
        "ops",
        "--login",
        "ops.one",
        "--display-name",
        "x",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.returncode == 1 and "weak_password" in weak.stderr


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_postgres_needs_migrate_before_serve(
    make_settings: SettingsFactory, tmp_path: Path, worker: str
) -> None:
    name = f"rtserver_cli_fresh_{worker}"
    url = await recreate_postgres(name, migrated=False)
    try:
        env = settings_env(make_settings(database_url=url))
        refused = run_cli(env, "serve")
        assert refused.returncode == 2 and "rtserver migrate" in refused.stderr
        migrated = run_cli(env, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        with serve_subprocess(make_settings(database_url=url), tmp_path) as server:
            async with aiohttp.ClientSession() as http:
                assert (await Api(server.url, http).request("GET", "/readyz")).status == 200
    finally:
        await drop_postgres(name)
