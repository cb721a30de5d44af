"""/api/v1/devices: a user's signed-in devices."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from rtserver.api.keys import ACCOUNTS
from rtserver.api.routing import Call, RouteTable

routes = RouteTable("devices")


class DeviceOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    current: bool


class DeviceList(BaseModel):
    devices: list[DeviceOut]


@routes.route("GET", "/api/v1/devices", summary="List my devices", response=DeviceList)
async def list_devices(call: Call[None]) -> DeviceList:
    principal = call.principal
    devices = await call.request.app[ACCOUNTS].devices(principal)
    return DeviceList(
        devices=[
            DeviceOut(
                id=d.id,
                name=d.name,
                created_at=d.created_at,
                last_seen_at=d.last_seen_at,
                revoked_at=d.revoked_at,
                current=d.id == principal.device_id,
            )
            for d in devices
        ]
    )


@routes.route(
    "DELETE",
    "/api/v1/devices/{device_id}",
    summary="Revoke one of my devices: its tokens stop working and its sockets close",
    status=204,
    errors=("device_not_found",),
)
async def revoke_device(call: Call[None]) -> None:
    await call.request.app[ACCOUNTS].revoke_device(
        call.principal, call.request.match_info["device_id"]
    )
