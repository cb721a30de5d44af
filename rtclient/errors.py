"""Errors the call SDK raises: the server's refusals keep their stable codes."""

from __future__ import annotations

from typing import Any


class CallError(Exception):
    """The server refused a call event (`code` as in docs/calls.md), or a local call step
    failed (`ice_failed`, `renegotiation_timeout`, `signalling_unavailable`, ...)."""

    def __init__(self, code: str, message: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.details = details or {}
