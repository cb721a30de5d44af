"""/healthz (process up) and /readyz (store and Redis reachable, fan-out subscribed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from rtserver.api.keys import DATABASE, FANOUT_LISTENING, REDIS
from rtserver.api.routing import Call, RouteTable

routes = RouteTable("health")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@routes.route("GET", "/healthz", summary="The process is up", response=Health, roles=None)
async def healthz(call: Call[None]) -> Health:
    return Health(status="ok")


@routes.route(
    "GET",
    "/readyz",
    summary="The store (and Redis, when configured) answer; the fan-out is subscribed",
    response=Readiness,
    roles=None,
    errors=("not_ready",),
)
async def readyz(call: Call[None]) -> Readiness:
    app = call.request.app
    checks: dict[str, Awaitable[Any]] = {"database": app[DATABASE].ping()}
    redis = app.get(REDIS)
    if redis is not None:
        checks["redis"] = redis.ping()
    listening = app.get(FANOUT_LISTENING)
    if listening is not None:
        checks["fanout"] = listening.wait()
    outcomes = await asyncio.gather(*(_outcome(check) for check in checks.values()))
    return _readiness(dict(zip(checks, outcomes, strict=True)))


async def _outcome(check: Awaitable[Any]) -> str:
    try:
        await asyncio.wait_for(check, timeout=2)
    except TimeoutError:
        return "error: no answer within 2 s"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def _readiness(checks: dict[str, str]) -> Readiness:
    ready = all(v == "ok" for v in checks.values())
    result = Readiness(status="ok" if ready else "not_ready", checks=checks)
    if not ready:
        raise web.HTTPServiceUnavailable(
            text=result.model_dump_json(), content_type="application/json"
        )
    return result
