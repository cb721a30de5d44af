"""/healthz (process up) and /readyz (store and Redis reachable)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydantic import BaseModel

from rtserver.api.keys import DATABASE, REDIS
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
    summary="The store (and Redis, when configured) answer",
    response=Readiness,
    roles=None,
    errors=("not_ready",),
)
async def readyz(call: Call[None]) -> Readiness:
    app = call.request.app
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(app[DATABASE].ping(), timeout=2)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    redis = app.get(REDIS)
    if redis is not None:
        try:
            await asyncio.wait_for(redis.ping(), timeout=2)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    result = Readiness(status="ok" if ready else "not_ready", checks=checks)
    if not ready:
        raise web.HTTPServiceUnavailable(
            text=result.model_dump_json(), content_type="application/json"
        )
    return result
