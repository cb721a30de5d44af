"""The counselor console in Chromium as a test drives it: through its data-testid elements,
never through its internals."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Route, expect

from tests.e2ee.browser.console import CHROMIUM_ARGS
from tests.support.server import ROOT

CONSOLE_DIR = ROOT / "web" / "console"
WAIT_MS = 15_000
STORAGE_KEY = "rtserver.console.v1"


def chromium_args() -> list[str]:
    """The e2ee tests' flags, plus a fake camera and microphone that need no prompt, and ICE
    candidates on loopback (Chromium leaves 127.0.0.1 out of WebRTC by default)."""
    return [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]


class ConsolePage:
    def __init__(self, context: BrowserContext, page: Page, origin: str) -> None:
        self.context = context
        self.page = page
        self.origin = origin
        self.problems: list[str] = []
        self.log: list[str] = []

    @classmethod
    async def open(cls, browser: Browser, origin: str) -> ConsolePage:
        context = await browser.new_context()
        await context.grant_permissions(["camera", "microphone"], origin=origin)

        async def same_origin_only(route: Route) -> None:
            if route.request.url.startswith(origin + "/"):
                await route.continue_()
            else:
                await route.abort()

        await context.route("**/*", same_origin_only)
        page = await context.new_page()
        console = cls(context, page, origin)
        page.on("pageerror", lambda error: console.problems.append(f"page error: {error}"))
        page.on("console", console._console_message)
        await page.goto(f"{origin}/console/")
        await page.wait_for_selector("body[data-ready=true]", state="attached", timeout=WAIT_MS)
        return console

    def _console_message(self, message: ConsoleMessage) -> None:
        self.log.append(f"{message.type}: {message.text}")
        if "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def by(self, testid: str) -> Any:
        return self.page.get_by_test_id(testid)

    async def sign_in(self, login: str, password: str) -> None:
        await self.by("login-input").fill(login)
        await self.by("password-input").fill(password)
        await self.by("login-button").click()
        await expect(self.by("conversations")).to_be_visible(timeout=WAIT_MS)

    def row(self, conversation_id: str) -> Any:
        return self.page.locator(
            f'[data-testid=conversation][data-conversation-id="{conversation_id}"]'
        )

    async def call(self, conversation_id: str, media: str = "video") -> str:
        """Place a call from the conversation's row; returns the call id."""
        await self.row(conversation_id).get_by_test_id(f"call-{media}").click()
        await expect(self.by("call")).to_have_attribute("data-state", "ringing", timeout=WAIT_MS)
        return str(await self.by("call").get_attribute("data-call-id"))

    async def wait_state(self, state: str, timeout: int = WAIT_MS) -> None:
        await expect(self.by("call")).to_have_attribute("data-state", state, timeout=timeout)

    async def status(self) -> str:
        return str(await self.by("call-status").text_content())

    async def wait_stat(self, name: str, more_than: int, timeout: int = WAIT_MS) -> int:
        """Until the call's quality readout (from getStats, each second) shows more than
        `more_than` for `name`: framesDecoded (remote video) or audioPackets."""
        handle = await self.page.wait_for_function(
            """([name, n]) => {
                 const value = Number(document.querySelector('[data-testid=call-stats]')
                                        ?.dataset[name] ?? 0);
                 return value > n ? value : null;
               }""",
            arg=[name, more_than],
            timeout=timeout,
        )
        return int(await handle.json_value())

    async def remote_video_playing(self, timeout: int = WAIT_MS) -> None:
        await self.page.wait_for_function(
            """() => { const v = document.querySelector('[data-testid=remote-video]');
                       return v.videoWidth > 0 && !v.paused && v.currentTime > 0; }""",
            timeout=timeout,
        )

    async def tracks(self, testid: str, kind: str | None = None) -> int:
        """How many tracks (of `kind`, or all) the <video> `testid` is showing."""
        return int(
            await self.page.evaluate(
                """([testid, kind]) => {
                     const stream = document.querySelector(`[data-testid=${testid}]`).srcObject;
                     return (stream?.getTracks() ?? []).filter((t) => !kind || t.kind === kind)
                       .length;
                   }""",
                [testid, kind],
            )
        )

    async def remembered(self) -> Any:
        """What the console keeps in this browser's localStorage (web/console/src/storage.js)."""
        return await self.page.evaluate(f"JSON.parse(localStorage.getItem('{STORAGE_KEY}'))")

    async def close(self) -> None:
        await self.context.close()
