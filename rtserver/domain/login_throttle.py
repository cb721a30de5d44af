"""Login throttling rules: fixed windows counted per account (failures) and per IP (attempts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: int
    max_failures_per_account: int
    max_attempts_per_ip: int


def account_key(login: str) -> str:
    return f"login:acct:{login}"


def ip_key(ip: str) -> str:
    return f"login:ip:{ip}"


def is_blocked(count: int, limit: int) -> bool:
    """Blocked once the count has reached the limit within the current window."""
    return count >= limit
