"""Browser call fixtures: the console built from web/console, the real server serving it on its
own origin, and a headless Chromium with fake camera and microphone.

Without Node.js, npm or Debian's chromium these tests are skipped; with CI=true they fail.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from aiohttp import web
from playwright.async_api import Browser, async_playwright

from rtserver.app import build_app
from tests.calls.browser.console_page import CONSOLE_DIR, ConsolePage, chromium_args
from tests.conftest import IN_CI, SettingsFactory
from tests.e2ee.browser.console import CHROMIUM
from tests.support.server import RunningServer


def unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """One store is enough here: these tests are about the page and its peers, and the call
    rules are tested on both stores in tests/calls/."""
    return str(request.param)


@pytest.fixture(scope="session")
def console_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """web/console built from its sources and package-lock, as `make` builds it, into this
    run's own directory (so concurrent runs never race on web/console/dist)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        unavailable("Node.js and npm missing: the console browser tests need them")
    if not CHROMIUM.exists():
        unavailable("Debian's chromium missing: apt-get install -y chromium")
    installed = CONSOLE_DIR / "node_modules" / ".package-lock.json"
    lock = CONSOLE_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONSOLE_DIR, check=True)
    out = tmp_path_factory.mktemp("console")
    subprocess.run([npm, "run", "--silent", "build", "--", str(out)], cwd=CONSOLE_DIR, check=True)
    return out


@pytest.fixture
def server_settings() -> dict[str, Any]:
    """Extra settings for the server (a module overrides this, e.g. for TURN)."""
    return {}


@pytest.fixture
async def server(
    make_settings: SettingsFactory, console_bundle: Path, server_settings: dict[str, Any]
) -> AsyncIterator[RunningServer]:
    """The real app serving the console; its own origin is its only allowed browser origin,
    so the port is taken before the settings are made."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    origin = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings = make_settings(
        allowed_origins=[origin], console_dir=console_bundle, **server_settings
    )
    runner = web.AppRunner(build_app(settings), handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    try:
        await web.SockSite(runner, listener).start()
        yield RunningServer(url=origin, app=runner.app)
    finally:
        await runner.cleanup()
        listener.close()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args()
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def consoles(chromium: Browser, server: RunningServer) -> AsyncIterator[Any]:
    """`await consoles()` opens the console in a new browser context (a new device); every
    page must end without a page error or a CSP violation."""
    opened: list[ConsolePage] = []

    async def open_console() -> ConsolePage:
        page = await ConsolePage.open(chromium, server.url)
        opened.append(page)
        return page

    yield open_console
    for page in opened:
        await page.close()
    for page in opened:
        assert page.problems == [], page.problems
