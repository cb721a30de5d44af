"""Accounts, devices and the rules about them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    COUNSELOR = "counselor"
    OPS = "ops"
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    id: str
    login: str
    display_name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class Device:
    id: str
    user_id: str
    name: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Principal:
    """Who is calling: established from a verified access token."""

    user_id: str
    device_id: str
    role: Role
    expires_at: datetime


LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@+-]{2,63}$")


def normalize_login(raw: str) -> str:
    """Logins compare case-insensitively and by Unicode compatibility form."""
    return unicodedata.normalize("NFKC", raw).strip().lower()


def login_is_valid(login: str) -> bool:
    return bool(LOGIN_PATTERN.fullmatch(login))


def password_problem(password: str, min_length: int, login: str) -> str | None:
    """Why a new password is refused, or None. Length over composition rules (NIST 800-63B)."""
    if len(password) < min_length:
        return f"must be at least {min_length} characters"
    if len(password) > 256:
        return "must be at most 256 characters"
    if normalize_login(password) == login:
        return "must not be the login"
    if len(set(password)) < 4:
        return "is too repetitive"
    return None


@dataclass(frozen=True)
class RefreshGrant:
    """A stored refresh token (its hash only); rotated on each use."""

    id: str
    user_id: str
    device_id: str
    expires_at: datetime
    replaced_at: datetime | None
    revoked_at: datetime | None
