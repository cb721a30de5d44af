"""Demo data: a counselor, a client, an ops user and an admin with generated passwords.

The passwords are generated on first run and kept in data_dir/demo-logins.json (mode 0600)
so that re-running prints the same logins. Nothing here is committed.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from rtserver.domain.accounts import Role
from rtserver.domain.booking import Weekday
from rtserver.errors import Conflict
from rtserver.services.accounts import AccountService
from rtserver.services.booking_availability import AvailabilityService, SessionTypeDraft
from rtserver.services.conversations import ConversationService

DEMO_USERS = (
    ("demo.counselor", "Dr. Sari (demo counselor)", Role.COUNSELOR),
    ("demo.client", "Bintang (demo client)", Role.CLIENT),
    ("demo.ops", "Ops (demo)", Role.OPS),
    ("demo.admin", "Admin (demo)", Role.ADMIN),
)

DEMO_COUNSELOR = "demo.counselor"
DEMO_CLIENT = "demo.client"
DEMO_TIME_ZONE = "Asia/Jakarta"
_WORKDAY = [(time(9), time(12)), (time(13), time(17))]
DEMO_WEEK = {day: _WORKDAY for day in Weekday if day <= Weekday.FRIDAY}
DEMO_SESSION = SessionTypeDraft(
    name="Individual session",
    duration_minutes=50,
    slot_interval_minutes=60,
    buffer_before_minutes=0,
    buffer_after_minutes=10,
    min_notice_minutes=60,
    booking_window_days=60,
    price_minor=150_000_00,
    currency="IDR",
    requires_confirmation=False,
)


@dataclass(frozen=True)
class DemoLogin:
    login: str
    password: str
    role: str


def _read_stored(path: Path) -> dict[str, str]:
    return dict(json.loads(path.read_text())) if path.exists() else {}


def _write_stored(path: Path, stored: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(stored, handle, indent=2)


async def seed_demo(
    accounts: AccountService,
    data_dir: Path,
    availability: AvailabilityService | None = None,
    conversations: ConversationService | None = None,
) -> list[DemoLogin]:
    """Create the demo users; with `availability`, make the demo counselor bookable
    (Mon-Fri 09:00-12:00 and 13:00-17:00 Asia/Jakarta, 50-minute sessions); with
    `conversations`, open the demo counselor's conversation with the demo client (so the
    console has someone to write to and call)."""
    path = data_dir / "demo-logins.json"
    stored = await asyncio.to_thread(_read_stored, path)
    logins = []
    for login, display_name, role in DEMO_USERS:
        password = stored.get(login) or secrets.token_urlsafe(12)
        try:
            await accounts.create_user(login, password, display_name, role)
        except Conflict:
            if login not in stored:
                raise RuntimeError(
                    f"{login} exists but its password is not in {path}; "
                    "reset it with `rtserver create-user` or use a fresh data_dir"
                ) from None
        stored[login] = password
        logins.append(DemoLogin(login, password, role.value))
    await asyncio.to_thread(_write_stored, path, stored)
    if availability is not None:
        await availability.seed_offer(DEMO_COUNSELOR, DEMO_TIME_ZONE, DEMO_WEEK, DEMO_SESSION)
    if conversations is not None:
        counselor_id = await accounts.user_id_of(DEMO_COUNSELOR)
        client_id = await accounts.user_id_of(DEMO_CLIENT)
        if counselor_id and client_id:
            await conversations.open_direct(counselor_id, client_id)
    return logins
