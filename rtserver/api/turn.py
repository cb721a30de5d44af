"""/api/v1/turn: ICE servers with short-lived TURN credentials for calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from media.turn import turn_credentials
from rtserver.api.keys import CLOCK, SETTINGS, TURN_SECRET
from rtserver.api.routing import Call, RouteTable

routes = RouteTable("calls")


class IceServer(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceConfig(BaseModel):
    ice_servers: list[IceServer]
    ice_transport_policy: Literal["all", "relay"]
    expires_at: datetime


@routes.route(
    "GET",
    "/api/v1/turn",
    summary="STUN/TURN servers and TURN credentials valid for turn_credential_ttl_seconds",
    response=IceConfig,
)
async def get_turn(call: Call[None]) -> IceConfig:
    settings = call.request.app[SETTINGS]
    creds = turn_credentials(
        call.request.app[TURN_SECRET],
        call.principal.user_id,
        call.request.app[CLOCK].now(),
        timedelta(seconds=settings.turn_credential_ttl_seconds),
        tuple(settings.turn_uris),
    )
    servers = [IceServer(urls=list(settings.stun_uris))] if settings.stun_uris else []
    if settings.turn_uris:
        servers.append(
            IceServer(urls=list(creds.uris), username=creds.username, credential=creds.credential)
        )
    return IceConfig(
        ice_servers=servers,
        ice_transport_policy="relay" if settings.turn_prefer_relay else "all",
        expires_at=creds.expires_at,
    )
