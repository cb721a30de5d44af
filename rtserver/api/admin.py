"""/api/v1/admin: account administration (admin role only)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rtserver.api.auth import UserOut
from rtserver.api.keys import ACCOUNTS
from rtserver.api.routing import Call, RouteTable
from rtserver.domain.accounts import Role

routes = RouteTable("admin")


class CreateUserBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    display_name: str = Field(min_length=1, max_length=80)
    role: Role


@routes.route(
    "POST",
    "/api/v1/admin/users",
    summary="Create an account of any role",
    body=CreateUserBody,
    response=UserOut,
    roles={Role.ADMIN},
    status=201,
    errors=("invalid_login", "weak_password", "login_taken"),
)
async def create_user(call: Call[CreateUserBody]) -> UserOut:
    b = call.body
    user = await call.request.app[ACCOUNTS].create_user(b.login, b.password, b.display_name, b.role)
    return UserOut(id=user.id, login=user.login, display_name=user.display_name, role=user.role)


@routes.route(
    "POST",
    "/api/v1/admin/users/{user_id}/disable",
    summary="Disable an account: all its devices are revoked and sockets closed at once",
    roles={Role.ADMIN},
    status=204,
    errors=("user_not_found", "cannot_disable_self"),
)
async def disable_user(call: Call[None]) -> None:
    await call.request.app[ACCOUNTS].disable_user(
        call.principal, call.request.match_info["user_id"]
    )
