"""/console/: the counselor console's built files (web/console, built into `console_dir`),
served with a Content-Security-Policy that lets the page run only its own script and talk only
to this server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from aiohttp import web

from rtserver.api.keys import SETTINGS
from rtserver.api.routing import RouteTable
from rtserver.errors import NotFound, Unavailable

PREFIX = "/console"
INDEX = "index.html"
# A Host header we are willing to repeat in the policy (no spaces, quotes or semicolons).
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def content_security_policy(host: str) -> str:
    """Own scripts and styles only; REST and Socket.IO (ws/wss) to this host; camera and
    microphone streams in <video>; no plugins, frames, inline code or foreign forms."""
    connect = "'self'"
    if _HOST.match(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src 'self' mediastream: blob:",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


class ConsoleFiles(RouteTable):
    """Static files, not API routes: installed as plain handlers, absent from OpenAPI."""

    def install(self, app: web.Application) -> None:
        app.router.add_get(PREFIX, redirect_to_console)
        app.router.add_get(PREFIX + "/", serve_file)
        app.router.add_get(PREFIX + "/{path:.+}", serve_file)


routes = ConsoleFiles("console")


async def redirect_to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(PREFIX + "/")


async def serve_file(request: web.Request) -> web.StreamResponse:
    console_dir = request.app[SETTINGS].console_dir
    wanted = request.match_info.get("path", INDEX)
    path = await asyncio.to_thread(locate, console_dir, wanted)
    response = web.FileResponse(path)
    response.headers["Content-Security-Policy"] = content_security_policy(request.host)
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(self), geolocation=()"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-cache"  # unhashed names: revalidate every load
    return response


def locate(console_dir: Path, wanted: str) -> Path:
    """The file to send for `wanted` (a path below /console/), never one outside the console."""
    root = console_dir.resolve()
    if not (root / INDEX).is_file():
        raise Unavailable(
            "the counselor console has not been built: run `make web/console/dist/index.html` "
            "on the server, or point console_dir at a built console",
            code="console_not_built",
        )
    path = (root / wanted).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("no such file in the console", code="not_found")
    return path
