"""Declared routes: each carries its body/response models, so parsing, auth and the OpenAPI
document all come from one declaration."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from rtserver.api.keys import ACCOUNTS
from rtserver.domain.accounts import Principal, Role
from rtserver.errors import AppError, Forbidden, Invalid, Unauthenticated

B = TypeVar("B", bound=BaseModel | None)
ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Call(Generic[B]):
    request: web.Request
    body: B
    caller: Principal | None
    query: Any = None

    @property
    def principal(self) -> Principal:
        if self.caller is None:
            raise Unauthenticated("authentication required")
        return self.caller


Handler = Callable[[Call[Any]], Awaitable[BaseModel | None]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    roles: frozenset[Role] | None  # None: public
    status: int
    tag: str
    errors: tuple[str, ...] = field(default=())
    query: type[BaseModel] | None = None


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_input=False, include_url=False)
    ]


async def _parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    if request.content_type != "application/json":
        raise Invalid(
            "send a JSON body with Content-Type: application/json",
            code="unsupported_media_type",
            status=415,
        )
    raw = await request.read()  # bounded by client_max_size -> 413
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("request body is not valid JSON", code="malformed_json") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(
            "request body failed validation",
            code="invalid_request",
            details=validation_details(exc),
        ) from exc


def _parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise Invalid(
            "query parameters failed validation",
            code="invalid_request",
            details=validation_details(exc),
        ) from exc


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <access token>")
    return token.strip()


class RouteTable:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        roles: Iterable[Role] | None = ALL_ROLES,
        status: int = 200,
        errors: tuple[str, ...] = (),
        query: type[BaseModel] | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    method,
                    path,
                    handler,
                    summary,
                    body,
                    response,
                    None if roles is None else frozenset(roles),
                    status,
                    self.tag,
                    errors,
                    query,
                )
            )
            return handler

        return register

    def install(self, app: web.Application) -> None:
        for route in self.routes:
            app.router.add_route(route.method, route.path, _endpoint(route))


def _endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @functools.wraps(route.handler)
    async def handle(request: web.Request) -> web.StreamResponse:
        caller = None
        if route.roles is not None:
            caller = await request.app[ACCOUNTS].authenticate(bearer_token(request))
            if caller.role not in route.roles:
                raise Forbidden("your role may not do this")
        body = await _parse_body(request, route.body) if route.body else None
        query = _parse_query(request, route.query) if route.query else None
        result = await route.handler(Call(request, body, caller, query))
        if result is None:
            return web.Response(status=204)
        return web.json_response(result.model_dump(mode="json"), status=route.status, dumps=_dumps)

    return handle


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def error_response(error: AppError) -> web.Response:
    headers = {}
    if error.status == 429 and isinstance(error.details, dict):
        headers["Retry-After"] = str(error.details.get("retry_after", 1))
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="rtserver"'
    return web.json_response(
        {"error": error.to_dict()}, status=error.status, headers=headers, dumps=_dumps
    )
