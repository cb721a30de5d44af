"""TURN REST API credentials (draft-uberti-behave-turn-rest, as coturn's use-auth-secret):
username `<expiry unix time>:<user id>`, password base64(HMAC-SHA1(secret, username)).

HMAC-SHA1 is what coturn verifies; it is a MAC here, not a signature, and the credentials live
only for minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class TurnCredentials:
    username: str
    credential: str
    expires_at: datetime
    uris: tuple[str, ...]


def turn_credentials(
    secret: str, user_id: str, now: datetime, ttl: timedelta, uris: tuple[str, ...]
) -> TurnCredentials:
    expires_at = now + ttl
    username = f"{int(expires_at.timestamp())}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredentials(
        username, base64.b64encode(digest).decode("ascii"), expires_at.replace(microsecond=0), uris
    )
