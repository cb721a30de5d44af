"""The OpenAPI 3.1 document, generated from the declared routes and their pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from rtserver import __version__
from rtserver.api.routing import Route, RouteTable

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "stable machine code"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}

_COMMON_ERRORS = {
    400: "invalid_request, malformed_json",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def openapi_document(tables: list[RouteTable]) -> dict[str, Any]:
    routes = [route for table in tables for route in table.routes]
    models: set[type[BaseModel]] = set()
    for route in routes:
        models.update(m for m in (route.body, route.response) if m is not None)
    keyed, schema = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    refs = {model: ref for (model, _), ref in keyed.items()}
    components = dict(schema.get("$defs", {}))
    components["Error"] = _ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "rtserver API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(route: Route, refs: dict[Any, Any], components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "tags": [route.tag],
        "responses": {},
    }
    parameters: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
        for p in re.findall(r"{(\w+)}", route.path)
    ]
    if route.query is not None:
        schema = route.query.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        required = set(schema.get("required", []))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()
        ]
    if parameters:
        op["parameters"] = parameters
    if route.roles is not None:
        op["security"] = [{"bearer": []}]
        op["x-roles"] = sorted(role.value for role in route.roles)
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[route.body]}},
        }
    ok: dict[str, Any] = {"description": "success"}
    if route.response is not None:
        ok["content"] = {"application/json": {"schema": refs[route.response]}}
    op["responses"][str(route.status)] = ok
    error_ref = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    }
    errors = dict(_COMMON_ERRORS) if route.body else {}
    if route.roles is not None:
        errors[401] = "unauthenticated, invalid_token, token_expired, device_revoked"
        errors[403] = "forbidden, account_disabled"
    for code in route.errors:
        errors.setdefault(_status_of(code), "")
        errors[_status_of(code)] = ", ".join(filter(None, [errors[_status_of(code)], code]))
    for status, codes in sorted(errors.items()):
        op["responses"][str(status)] = {"description": f"error codes: {codes}", **error_ref}
    return op


_STATUS_BY_CODE = {
    "invalid_credentials": 401,
    "invalid_refresh_token": 401,
    "refresh_token_reused": 401,
    "account_disabled": 403,
    "login_taken": 409,
    "too_many_attempts": 429,
    "device_not_found": 404,
    "user_not_found": 404,
    "instrument_not_found": 404,
    "submission_not_found": 404,
    "client_not_found": 404,
    "notification_not_found": 404,
    "too_many_submissions": 429,
    "counselor_not_found": 404,
    "session_type_not_found": 404,
    "booking_not_found": 404,
    "override_not_found": 404,
    "calendar_feed_not_found": 404,
    "not_your_availability": 403,
    "counselor_only": 403,
    "slot_taken": 409,
    "overlapping_booking": 409,
    "already_started": 409,
    "invalid_transition": 409,
    "not_confirmed": 409,
    "too_early": 409,
    "session_over": 409,
    "not_started": 409,
    "client_joined": 409,
    "write_conflict": 409,
    "not_this_device": 403,
    "device_keys_immutable": 409,
    "stale_device_list": 409,
    "stale_backup": 409,
    "backup_not_found": 404,
    "conversation_not_found": 404,
    "member_not_found": 404,
    "not_ready": 503,
    "call_not_found": 404,
    "call_exists": 409,
    "call_in_progress": 409,
    "glare": 409,
    "callee_busy": 409,
    "call_taken": 409,
    "call_ended": 409,
    "call_not_active": 409,
    "not_in_call": 409,
}


def _status_of(code: str) -> int:
    return _STATUS_BY_CODE.get(code, 400)
