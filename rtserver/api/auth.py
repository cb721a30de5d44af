"""/api/v1/auth: register, login, refresh, logout."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rtserver.api.keys import ACCOUNTS, SETTINGS
from rtserver.api.routing import Call, RouteTable
from rtserver.domain.accounts import Role
from rtserver.services.accounts import AuthSession

routes = RouteTable("auth")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=256)


class RegisterBody(Strict):
    login: str = Field(min_length=3, max_length=64, examples=["bintang.07"])
    password: str = Field(min_length=1, max_length=256)
    display_name: str = Field(min_length=1, max_length=80, description="may be a pseudonym")
    device_name: str = Field(min_length=1, max_length=64, examples=["Pixel 7"])


class LoginBody(Strict):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    device_name: str = Field(min_length=1, max_length=64)


class RefreshBody(Strict):
    refresh_token: str = Field(min_length=1, max_length=128)


class UserOut(BaseModel):
    id: str
    login: str
    display_name: str
    role: Role


class SessionOut(BaseModel):
    user: UserOut
    device_id: str
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type name


def session_out(session: AuthSession) -> SessionOut:
    return SessionOut(
        user=UserOut(
            id=session.user.id,
            login=session.user.login,
            display_name=session.user.display_name,
            role=session.user.role,
        ),
        device_id=session.device.id,
        access_token=session.access_token,
        access_expires_at=session.access_expires_at,
        refresh_token=session.refresh_token,
        refresh_expires_at=session.refresh_expires_at,
    )


def client_ip(call: Call[Any]) -> str:
    """The caller's address for throttling: behind a trusted proxy, the right-most address in
    X-Forwarded-For that is not itself a trusted proxy (the left part is client-controlled)."""
    request = call.request
    trusted = request.app[SETTINGS].trusted_proxies
    remote = request.remote or "unknown"
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return remote


@routes.route(
    "POST",
    "/api/v1/auth/register",
    summary="Register a client account and sign in a device",
    body=RegisterBody,
    response=SessionOut,
    roles=None,
    status=201,
    errors=("invalid_login", "weak_password", "login_taken", "too_many_attempts"),
)
async def register(call: Call[RegisterBody]) -> SessionOut:
    b = call.body
    return session_out(
        await call.request.app[ACCOUNTS].register(
            b.login, b.password, b.display_name, b.device_name, client_ip(call)
        )
    )


@routes.route(
    "POST",
    "/api/v1/auth/login",
    summary="Sign in; each login names a new device",
    body=LoginBody,
    response=SessionOut,
    roles=None,
    errors=("invalid_credentials", "account_disabled", "too_many_attempts"),
)
async def login(call: Call[LoginBody]) -> SessionOut:
    b = call.body
    return session_out(
        await call.request.app[ACCOUNTS].login(b.login, b.password, b.device_name, client_ip(call))
    )


@routes.route(
    "POST",
    "/api/v1/auth/refresh",
    summary="Rotate a refresh token for a new access token",
    body=RefreshBody,
    response=SessionOut,
    roles=None,
    errors=("invalid_refresh_token", "refresh_token_reused", "account_disabled"),
)
async def refresh(call: Call[RefreshBody]) -> SessionOut:
    return session_out(await call.request.app[ACCOUNTS].refresh(call.body.refresh_token))


@routes.route(
    "POST",
    "/api/v1/auth/logout",
    summary="Sign this device out: revoke its tokens and close its sockets",
    status=204,
)
async def logout(call: Call[None]) -> None:
    await call.request.app[ACCOUNTS].logout(call.principal)
