"""Translate every failure into the one error shape {error: {code, message, details?}}."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping

from aiohttp import web

from rtserver.api.routing import error_response
from rtserver.errors import AppError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    404: ("not_found", "no such route"),
    405: ("method_not_allowed", "method not allowed on this route"),
    413: ("payload_too_large", "request body too large"),
}


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except AppError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status in _HTTP_CODES:
            code, message = _HTTP_CODES[exc.status]
            response = error_response(AppError(message, code=code, status=exc.status))
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(AppError("internal error", code="internal_error", status=500))


@web.middleware
async def security_headers_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(request, exc.headers)
        raise
    _secure(request, response.headers)
    return response


def _secure(request: web.Request, headers: MutableMapping[str, str]) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
