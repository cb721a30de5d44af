"""Field types shared by REST and Socket.IO payload models."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from pydantic import AfterValidator, Field

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def base64_of(min_bytes: int, max_bytes: int) -> AfterValidator:
    """Standard base64 that decodes to a size within bounds (keys, nonces, signatures)."""

    def check(value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("not standard base64") from exc
        if not min_bytes <= len(raw) <= max_bytes:
            raise ValueError(f"must decode to {min_bytes}..{max_bytes} bytes")
        return value

    return AfterValidator(check)


PublicKey = Annotated[str, Field(max_length=64), base64_of(32, 32)]
Signature = Annotated[str, Field(max_length=128), base64_of(64, 64)]
