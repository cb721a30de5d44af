"""/console/ on the real server: the built console with its Content-Security-Policy, a clear
503 `console_not_built` when there is nothing built, and nothing outside the console's
directory. A stand-in build (two small files), so these run without Node.js or Chromium."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from rtserver.api.console import locate
from rtserver.errors import NotFound
from tests.conftest import SettingsFactory
from tests.support.server import serve_in_process


@dataclass
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    host: str


@pytest.fixture
def built(tmp_path: Path) -> Path:
    console = tmp_path / "console"
    console.mkdir()
    (console / "index.html").write_text("<!doctype html><title>console</title>")
    (console / "console.js").write_text("export {};\n")
    (tmp_path / "secret.txt").write_text("not for the web")
    return console


async def fetch(make_settings: SettingsFactory, console_dir: Path, *paths: str) -> list[Answer]:
    answers = []
    async with (
        serve_in_process(make_settings(console_dir=console_dir)) as server,
        aiohttp.ClientSession() as http,
    ):
        for path in paths:
            async with http.get(server.url + path, allow_redirects=False) as response:
                host = f"{response.url.host}:{response.url.port}"
                answers.append(
                    Answer(response.status, response.headers, await response.read(), host)
                )
    return answers


async def test_the_console_is_served_with_a_strict_policy(
    built: Path, make_settings: SettingsFactory
) -> None:
    redirect, index, script = await fetch(
        make_settings, built, "/console", "/console/", "/console/console.js"
    )
    assert redirect.status == 308 and redirect.headers["Location"] == "/console/"

    assert index.status == 200 and index.body.startswith(b"<!doctype html>")
    assert index.headers["Content-Type"].startswith("text/html")
    policy = dict(
        part.strip().split(" ", 1) for part in index.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval, no other origin
    assert policy["connect-src"] == f"'self' ws://{index.host} wss://{index.host}"
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'none'"
    assert "camera=(self)" in index.headers["Permissions-Policy"]
    assert index.headers["X-Content-Type-Options"] == "nosniff"

    assert script.status == 200 and script.body == b"export {};\n"
    assert script.headers["Content-Type"].startswith(("text/javascript", "application/javascript"))
    assert "Content-Security-Policy" in script.headers


async def test_nothing_outside_the_console_is_served(
    built: Path, make_settings: SettingsFactory
) -> None:
    for answer in await fetch(
        make_settings,
        built,
        "/console/missing.js",
        "/console/..%2Fsecret.txt",
        "/console/%2E%2E/secret.txt",
        "/console/../secret.txt",
    ):
        assert answer.status == 404 and b"not for the web" not in answer.body
    for wanted in ("../secret.txt", "/etc/passwd", ".", ""):
        with pytest.raises(NotFound):
            locate(built, wanted)


async def test_an_unbuilt_console_is_a_clear_error(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    (answer,) = await fetch(make_settings, tmp_path / "nothing-built", "/console/")
    assert answer.status == 503
    assert answer.headers["Content-Type"].startswith("application/json")
    error = json.loads(answer.body)["error"]
    assert error["code"] == "console_not_built"
    assert "make web/console/dist/index.html" in error["message"]
    assert str(tmp_path) not in error["message"]  # no server paths in public answers
