"""One ack shape for every client->server event: {ok: true, ...} or {ok: false, error}."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rtserver.domain.accounts import Principal
from rtserver.errors import AppError, Invalid

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
Ack = dict[str, Any]


class SocketSessions:
    """What the ack wrapper needs from a namespace: the caller of a socket."""

    def principal(self, sid: str, *, allow_expired: bool = False) -> Principal:
        raise NotImplementedError


def error_ack(error: AppError) -> Ack:
    return {"ok": False, "error": error.to_dict()}


def acked(
    model: type[M], *, allow_expired: bool = False
) -> Callable[
    [Callable[[Any, str, Principal, M], Awaitable[dict[str, Any] | None]]],
    Callable[..., Awaitable[Ack]],
]:
    """Validate the payload with `model`, resolve the caller, translate errors once."""

    def wrap(
        handler: Callable[[Any, str, Principal, M], Awaitable[dict[str, Any] | None]],
    ) -> Callable[..., Awaitable[Ack]]:
        @functools.wraps(handler)
        async def run(self: SocketSessions, sid: str, data: Any = None, *extra: Any) -> Ack:
            try:
                if extra:
                    raise Invalid("one payload object expected", code="invalid_payload")
                principal = self.principal(sid, allow_expired=allow_expired)
                try:
                    payload = model.model_validate({} if data is None else data)
                except ValidationError as exc:
                    raise Invalid(
                        "payload failed validation",
                        code="invalid_payload",
                        details=[
                            {"loc": list(e["loc"]), "msg": e["msg"]}
                            for e in exc.errors(include_input=False, include_url=False)
                        ],
                    ) from exc
                result = await handler(self, sid, principal, payload)
                return {"ok": True, **(result or {})}
            except AppError as exc:
                return error_ack(exc)
            except Exception:
                log.exception("event handler %s failed", handler.__name__)
                return error_ack(AppError("internal error", code="internal_error", status=500))

        return run

    return wrap
