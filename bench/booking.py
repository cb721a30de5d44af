"""Booking benchmark: free-slot search across 200 counselors for 14 days (p50/p99) and bookings
per second while many clients race for the same slots, against a real `rtserver serve` process
on loopback with a fresh store.

    python -m bench.booking                       # temp SQLite
    python -m bench.booking --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

With --postgres a temporary database is created on that server and dropped afterwards.
Results: bench/results/booking-<backend>.json and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg

from rtserver.auth.passwords import PasswordHasher
from rtserver.domain.accounts import Role, User
from rtserver.domain.booking import (
    Booking,
    BookingStatus,
    LocalRange,
    OfferedSessionType,
    SessionType,
    Weekday,
    WeeklySchedule,
    free_slots,
    occupied_span,
)
from rtserver.ids import new_id
from rtserver.store.database import Database
from rtserver.store.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
COUNSELORS = 200
DAYS = 14
ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Europe/Berlin", "America/New_York")
RULES = SessionType(
    duration_minutes=50,
    slot_interval_minutes=60,
    buffer_after_minutes=10,
    min_notice_minutes=60,
    price_minor=150_000_00,
    currency="IDR",
)
PREBOOKED_EVERY = 4  # every 4th free slot of each counselor is already booked
SEARCHES = 60
CONTENDERS = 50
CONTESTED_COUNSELORS = 10
CONTESTED_DAYS = 2
PASSWORD = "bench password 1"  # noqa: S105 - throwaway accounts in a temp store


@dataclass
class Seeded:
    counselor_ids: list[str]
    free_slots: int
    prebooked: int


@dataclass
class Race:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def schedule_of(index: int) -> WeeklySchedule:
    """Varied hours: everyone works Mon-Fri, a third also Saturday morning."""
    day = [LocalRange(wall(9), wall(12)), LocalRange(wall(13), wall(17 + index % 3))]
    week = {Weekday(d): day for d in range(5)}
    if index % 3 == 0:
        week[Weekday.SATURDAY] = [LocalRange(wall(9), wall(13))]
    return WeeklySchedule(ZONES[index % len(ZONES)], week)


async def seed(database_url: str, now: datetime) -> Seeded:
    """200 counselors with hours, one 50-minute session type, and a quarter of their next
    14 days already booked (by one seeded client each), written straight to the store."""
    database = Database(database_url)
    try:
        await migrate(database)
        hasher = PasswordHasher(1)
        password_hash = await hasher.hash(PASSWORD)
        hasher.close()
        ids, total_free, prebooked = [], 0, 0
        for index in range(COUNSELORS):
            counselor = _user(f"bench.counselor{index}", Role.COUNSELOR, now)
            client = _user(f"bench.regular{index}", Role.CLIENT, now)
            schedule = schedule_of(index)
            offered = OfferedSessionType(
                id=new_id(), counselor_id=counselor.id, name="Session", rules=RULES, created_at=now
            )
            slots = free_slots(schedule, [], RULES, [], now, now, now + timedelta(days=DAYS))
            async with database.write() as tx:
                await tx.users.add(counselor, password_hash)
                await tx.users.add(client, password_hash)
                await tx.availability.put_schedule(counselor.id, schedule, now)
                await tx.session_types.add(offered)
                for slot in slots[::PREBOOKED_EVERY]:
                    await tx.bookings.add(_booking(counselor.id, client.id, offered, slot, now), [])
            ids.append(counselor.id)
            total_free += len(slots) - len(slots[::PREBOOKED_EVERY])
            prebooked += len(slots[::PREBOOKED_EVERY])
        return Seeded(ids, total_free, prebooked)
    finally:
        await database.close()


def _user(login: str, role: Role, now: datetime) -> User:
    return User(
        id=new_id(), login=login, display_name=login, role=role, created_at=now, disabled_at=None
    )


def _booking(
    counselor_id: str, client_id: str, offered: OfferedSessionType, slot: Any, now: datetime
) -> Booking:
    return Booking(
        id=new_id(),
        counselor_id=counselor_id,
        client_id=client_id,
        session_type_id=offered.id,
        status=BookingStatus.CONFIRMED,
        start=slot.start,
        end=slot.end,
        occupied=occupied_span(slot.start, offered.rules),
        price_minor=offered.rules.price_minor,
        currency=offered.rules.currency,
        room_id=new_id(),
        created_at=now,
        updated_at=now,
    )


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    name = f"rtserver_bench_booking_{secrets.token_hex(4)}"
    admin_dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def running_server(database_url: str, data_dir: Path) -> AsyncIterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTSERVER_")}
    env.update(
        RTSERVER_PORT=str(port),
        RTSERVER_DATA_DIR=str(data_dir),
        RTSERVER_DATABASE_URL=database_url,
        RTSERVER_LOG_LEVEL="WARNING",
        RTSERVER_LOGIN_MAX_ATTEMPTS_PER_IP="100000000",
        RTSERVER_ACCESS_TOKEN_TTL_SECONDS="3600",  # noqa: S106 - not a secret
        RTSERVER_PASSWORD_HASH_CONCURRENCY=str(os.cpu_count() or 2),
    )
    log = (data_dir / "server.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rtserver", "serve", env=env, cwd=ROOT, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, process)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 20)
        log.close()


async def _wait_ready(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError("server exited early; see server.log in its data dir")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{url}/readyz") as reply:
                    if reply.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError("server not ready in 60 s")


async def register(http: aiohttp.ClientSession, url: str, login: str) -> str:
    body = {"login": login, "password": PASSWORD, "display_name": login, "device_name": "bench"}
    async with http.post(f"{url}/api/v1/auth/register", json=body) as reply:
        assert reply.status == 201, await reply.text()
        return str((await reply.json())["access_token"])


async def timed_get(http: aiohttp.ClientSession, url: str, token: str) -> tuple[float, Any]:
    started = time.perf_counter()
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as reply:
        body = await reply.json()
        assert reply.status == 200, body
    return (time.perf_counter() - started) * 1000, body


async def search(
    http: aiohttp.ClientSession, url: str, token: str, seeded: Seeded, now: datetime
) -> dict[str, Any]:
    window = {"from": now.isoformat(), "to": (now + timedelta(days=DAYS)).isoformat()}
    pages: dict[int, list[float]] = {}
    for limit in (200, 1000):
        many = f"{url}/api/v1/slots?" + urlencode(
            {"session_minutes": 50, "tz": "Europe/Berlin", "limit": limit, **window}
        )
        for _ in range(3):
            await timed_get(http, many, token)
        pages[limit] = [(await timed_get(http, many, token))[0] for _ in range(SEARCHES)]
    one_ms = []
    for index in range(SEARCHES):
        counselor_id = seeded.counselor_ids[index % COUNSELORS]
        types = f"{url}/api/v1/counselors/{counselor_id}/session-types"
        type_id = (await timed_get(http, types, token))[1]["session_types"][0]["id"]
        one = f"{url}/api/v1/counselors/{counselor_id}/slots?" + urlencode(
            {"session_type_id": type_id, "tz": "Europe/Berlin", **window}
        )
        one_ms.append((await timed_get(http, one, token))[0])
    return {
        **{
            f"many_{limit}_{name}_ms": value
            for limit, values in pages.items()
            for name, value in (
                ("p50", statistics.median(values)),
                ("p99", percentile(values, 0.99)),
            )
        },
        "one_p50_ms": statistics.median(one_ms),
        "one_p99_ms": percentile(one_ms, 0.99),
        "searches": SEARCHES,
    }


async def race(
    http: aiohttp.ClientSession, url: str, tokens: list[str], seeded: Seeded, now: datetime
) -> dict[str, Any]:
    """Every client books random slots from one shared pool until none is left."""
    pool: list[dict[str, str]] = []
    window = {"from": now.isoformat(), "to": (now + timedelta(days=CONTESTED_DAYS)).isoformat()}
    for counselor_id in seeded.counselor_ids[:CONTESTED_COUNSELORS]:
        types = f"{url}/api/v1/counselors/{counselor_id}/session-types"
        type_id = (await timed_get(http, types, tokens[0]))[1]["session_types"][0]["id"]
        query = urlencode({"session_type_id": type_id, **window})
        found = await timed_get(
            http, f"{url}/api/v1/counselors/{counselor_id}/slots?{query}", tokens[0]
        )
        pool += [
            {"counselor_id": counselor_id, "session_type_id": type_id, "start": s["start_utc"]}
            for s in found[1]["slots"]
        ]
    offered = len(pool)
    result = Race()

    async def client(token: str) -> None:
        refused: set[str] = set()
        while candidates := [
            slot for slot in pool if slot["start"] + slot["counselor_id"] not in refused
        ]:
            slot = random.choice(candidates)
            started = time.perf_counter()
            async with http.post(
                f"{url}/api/v1/bookings", json=slot, headers={"Authorization": f"Bearer {token}"}
            ) as reply:
                body = await reply.json()
            result.latencies.append((time.perf_counter() - started) * 1000)
            code = "booked" if reply.status == 201 else body["error"]["code"]
            result.outcomes[code] += 1
            if code in ("booked", "slot_taken") and slot in pool:
                pool.remove(slot)
            else:
                refused.add(slot["start"] + slot["counselor_id"])

    started = time.perf_counter()
    await asyncio.gather(*(client(token) for token in tokens))
    elapsed = time.perf_counter() - started
    attempts = sum(result.outcomes.values())
    return {
        "contenders": len(tokens),
        "slots_offered": offered,
        "attempts": attempts,
        "outcomes": dict(result.outcomes),
        "seconds": elapsed,
        "attempts_per_s": attempts / elapsed,
        "bookings_per_s": result.outcomes["booked"] / elapsed,
        "book_p50_ms": statistics.median(result.latencies),
        "book_p99_ms": percentile(result.latencies, 0.99),
    }


async def verify(database_url: str, seeded: Seeded) -> int:
    """No two live bookings of one counselor overlap; returns how many live bookings exist."""
    database = Database(database_url)
    try:
        async with database.read() as tx:
            far = datetime(2100, 1, 1, tzinfo=UTC)
            busy = await tx.bookings.busy(
                seeded.counselor_ids, datetime(2000, 1, 1, tzinfo=UTC), far
            )
        for spans in busy.values():
            for before, after in pairwise(spans):
                assert before.end <= after.start, f"double booking: {before} and {after}"
        return sum(len(spans) for spans in busy.values())
    finally:
        await database.close()


async def run(postgres: str | None) -> dict[str, Any]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-booking-") as tmp:
        data_dir = Path(tmp)
        async with contextlib.AsyncExitStack() as stack:
            if postgres:
                database_url = await stack.enter_async_context(postgres_database(postgres))
            else:
                database_url = f"sqlite+aiosqlite:///{data_dir / 'rtserver.db'}"
            seed_started = time.perf_counter()
            seeded = await seed(database_url, now)
            seed_seconds = time.perf_counter() - seed_started
            url = await stack.enter_async_context(running_server(database_url, data_dir))
            connector = aiohttp.TCPConnector(limit=CONTENDERS + 10)
            http = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
            tokens = await asyncio.gather(
                *(register(http, url, f"bench.client{i}") for i in range(CONTENDERS))
            )
            searched = await search(http, url, tokens[0], seeded, now)
            raced = await race(http, url, list(tokens), seeded, now)
            live = await verify(database_url, seeded)
            assert live == seeded.prebooked + raced["outcomes"].get("booked", 0)
    return {
        "backend": "postgresql" if postgres else "sqlite",
        "measured_at": now.isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "counselors": COUNSELORS,
        "days": DAYS,
        "free_slots_in_window": seeded.free_slots,
        "prebooked": seeded.prebooked,
        "seed_seconds": seed_seconds,
        "search": searched,
        "booking": raced,
        "live_bookings_after": live,
    }


def markdown(results: dict[str, Any]) -> str:
    s, b = results["search"], results["booking"]
    rows = [
        ("backend", results["backend"]),
        *(
            (
                f"slot search, {results['counselors']} counselors x {results['days']} days "
                f"({results['free_slots_in_window']} free slots), first {limit}, p50 / p99",
                f"{s[f'many_{limit}_p50_ms']:.0f} ms / {s[f'many_{limit}_p99_ms']:.0f} ms",
            )
            for limit in (200, 1000)
        ),
        (
            f"slot search, 1 counselor x {results['days']} days, p50 / p99",
            f"{s['one_p50_ms']:.1f} ms / {s['one_p99_ms']:.1f} ms",
        ),
        (
            f"booking race: {b['contenders']} clients, {b['slots_offered']} slots",
            f"{b['attempts']} attempts in {b['seconds']:.1f} s",
        ),
        ("booking attempts/s (incl. refusals)", f"{b['attempts_per_s']:.0f}"),
        ("successful bookings/s", f"{b['bookings_per_s']:.0f}"),
        ("booking request p50 / p99", f"{b['book_p50_ms']:.0f} ms / {b['book_p99_ms']:.0f} ms"),
        ("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(b["outcomes"].items()))),
    ]
    lines = ["| measure | result |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.booking", description=__doc__)
    parser.add_argument("--postgres", help="PostgreSQL server URL (postgresql+asyncpg://...)")
    args = parser.parse_args()
    results = asyncio.run(run(args.postgres))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"booking-{results['backend']}.json"
    path.write_text(json.dumps(results, indent=2))
    print(markdown(results))
    print(f"\n(written to {path.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
