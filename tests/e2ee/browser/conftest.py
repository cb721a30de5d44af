"""Browser fixtures: the bundle built from web/e2ee, and a fresh Chromium on the test console.

Without Node.js, npm or Debian's chromium these tests are skipped; with CI=true they fail.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.async_api import Page, Route, async_playwright

from tests.conftest import IN_CI
from tests.e2ee.browser.console import CHROMIUM, CHROMIUM_ARGS, E2EE_DIR, ORIGIN, PAGE


def unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """web/e2ee built from its sources and package-lock, as the console ships it."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        unavailable("Node.js and npm missing: the browser interop tests need them")
    if not CHROMIUM.exists():
        unavailable("Debian's chromium missing: apt-get install -y chromium")
    installed = E2EE_DIR / "node_modules" / ".package-lock.json"
    lock = E2EE_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=E2EE_DIR, check=True)
    # Built into this run's own directory, so concurrent runs never race on web/e2ee/dist.
    out = tmp_path_factory.mktemp("e2ee") / "rtserver-e2ee.js"
    subprocess.run([npm, "run", "--silent", "build", "--", str(out)], cwd=E2EE_DIR, check=True)
    return out.read_bytes()


@pytest.fixture
async def page(bundle: bytes, tmp_path: Path) -> AsyncIterator[Page]:
    """A fresh Chromium profile on the test console page; every other request is refused."""

    async def serve(route: Route) -> None:
        url = route.request.url
        if url == f"{ORIGIN}/":
            await route.fulfill(body=PAGE.read_bytes(), content_type="text/html")
        elif url == f"{ORIGIN}/rtserver-e2ee.js":
            await route.fulfill(body=bundle, content_type="text/javascript")
        else:
            await route.abort()

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            await context.grant_permissions(["local-network-access"], origin=ORIGIN)
            await context.route("**/*", serve)
            console = context.pages[0] if context.pages else await context.new_page()
            errors: list[str] = []
            console.on("pageerror", lambda error: errors.append(str(error)))
            await console.goto(f"{ORIGIN}/")
            await console.wait_for_function("window.e2ee !== undefined", timeout=10_000)
            yield console
            assert errors == []
        finally:
            await context.close()
