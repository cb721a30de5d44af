"""Bad booking input gets a stable code and changes nothing (both backends)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.booking.factories import (
    NOW,
    Counselor,
    Person,
    book,
    make_counselor,
    session_type_body,
    slots,
    stored_bookings,
)
from tests.support.clients import Api
from tests.support.server import RunningServer

TWO_AM = NOW + timedelta(hours=2)  # Monday 09:00 in Jakarta: bookable


async def nothing_booked(server: RunningServer, *people: Person) -> None:
    for person in people:
        assert await stored_bookings(server, person.id) == []


REFUSED_TIMES: list[tuple[Any, dict[str, Any], int, str]] = [
    (TWO_AM, {"end": (TWO_AM - timedelta(minutes=50)).isoformat()}, 400, "invalid_interval"),
    (TWO_AM, {"end": TWO_AM.isoformat()}, 400, "invalid_interval"),
    (TWO_AM, {"end": (TWO_AM + timedelta(minutes=60)).isoformat()}, 400, "invalid_interval"),
    (NOW + timedelta(hours=13), {}, 400, "outside_availability"),  # 20:00 in Jakarta
    (NOW + timedelta(days=5, hours=2), {}, 400, "outside_availability"),  # Saturday
    (NOW - timedelta(days=3) + timedelta(hours=2), {}, 400, "in_the_past"),
    (NOW + timedelta(days=70, hours=2), {}, 400, "beyond_booking_window"),
    (TWO_AM + timedelta(minutes=30), {}, 400, "not_aligned"),
]


async def test_refused_times(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    for start, extra, status, code in REFUSED_TIMES:
        reply = await book(api, client, counselor, start, **extra)
        assert (reply.status, reply.code) == (status, code), (start, extra, reply.body)
        assert reply.body["error"]["message"]
    await nothing_booked(server, client, counselor)


async def test_too_short_notice(api: Api, server: RunningServer, client: Person) -> None:
    busy = await make_counselor(api, server, "dr.busy", min_notice_minutes=180)
    reply = await book(api, client, busy, TWO_AM)
    assert (reply.status, reply.code) == (400, "too_short_notice")
    assert (await book(api, client, busy, TWO_AM + timedelta(hours=1))).status == 201


async def test_unknown_counselor_and_session_type(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    other = await make_counselor(api, server, "dr.other")
    cases = [
        ({"counselor_id": "no-such-counselor"}, 404, "counselor_not_found"),
        ({"counselor_id": client.id}, 404, "counselor_not_found"),  # a client is no counselor
        ({"session_type_id": "no-such-type"}, 404, "session_type_not_found"),
        ({"session_type_id": other.type_id}, 404, "session_type_not_found"),
    ]
    for change, status, code in cases:
        body = {
            "counselor_id": counselor.id,
            "session_type_id": counselor.type_id,
            "start": TWO_AM.isoformat(),
            **change,
        }
        reply = await api.request("POST", "/api/v1/bookings", body, token=client.token)
        assert (reply.status, reply.code) == (status, code), change
    await nothing_booked(server, client, counselor, other)


GOOD = {"counselor_id": "x", "session_type_id": "y", "start": "2026-10-19T02:00:00Z"}


MALFORMED: list[Any] = [
    {**GOOD, "status": "confirmed"},  # unknown field: no self-confirmed bookings
    {**GOOD, "start": "2026-10-19T02:00:00"},  # naive: which zone? refused, not guessed
    {**GOOD, "start": "monday morning"},
    {k: v for k, v in GOOD.items() if k != "start"},
    {**GOOD, "counselor_id": "x" * 65},
    {**GOOD, "counselor_id": 7},
    [GOOD],
]


async def test_malformed_booking_bodies(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    for body in MALFORMED:
        if isinstance(body, dict) and body.get("counselor_id") == "x":
            body = {**body, "counselor_id": counselor.id, "session_type_id": counselor.type_id}
        reply = await api.request("POST", "/api/v1/bookings", body, token=client.token)
        assert (reply.status, reply.code) == (400, "invalid_request"), (body, reply.body)
    await nothing_booked(server, client, counselor)


async def test_not_json_and_not_a_client(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    broken = await api.request(
        "POST",
        "/api/v1/bookings",
        data=b'{"start": ',
        headers={"Content-Type": "application/json"},
        token=client.token,
    )
    assert broken.code == "malformed_json"
    anonymous = await api.request("POST", "/api/v1/bookings", GOOD)
    assert anonymous.status == 401
    by_counselor = await book(api, counselor, counselor, TWO_AM)
    assert (by_counselor.status, by_counselor.code) == (403, "forbidden")
    await nothing_booked(server, client, counselor)


BAD_SCHEDULES: list[tuple[Any, str]] = [
    ({"time_zone": "Mars/Olympus", "week": {}}, "invalid_schedule"),
    (
        {
            "time_zone": "Asia/Jakarta",
            "week": {
                "monday": [
                    {"start": "09:00", "end": "12:00"},
                    {"start": "11:00", "end": "13:00"},
                ]
            },
        },
        "invalid_schedule",
    ),
    (
        {"time_zone": "Asia/Jakarta", "week": {"monday": [{"start": "12:00", "end": "09:00"}]}},
        "invalid_schedule",
    ),
    ({"time_zone": "Asia/Jakarta", "week": {"funday": []}}, "invalid_request"),
    (
        {"time_zone": "Asia/Jakarta", "week": {"monday": [{"start": "9am", "end": "12:00"}]}},
        "invalid_request",
    ),
    ({"time_zone": "Asia/Jakarta", "week": {}, "owner": "me"}, "invalid_request"),
]


async def test_bad_schedules_change_nothing(api: Api, counselor: Counselor, client: Person) -> None:
    path = f"/api/v1/counselors/{counselor.id}/availability"
    before = (await api.request("GET", path, token=client.token)).body
    for body, code in BAD_SCHEDULES:
        reply = await api.request("PUT", path, body, token=counselor.token)
        assert (reply.status, reply.code) == (400, code), (body, reply.body)
    assert (await api.request("GET", path, token=client.token)).body == before


BAD_SESSION_TYPES: list[tuple[dict[str, Any], str]] = [
    ({"duration_minutes": 0}, "invalid_session_type"),
    ({"duration_minutes": 24 * 60 + 1}, "invalid_session_type"),
    ({"buffer_after_minutes": -5}, "invalid_session_type"),
    ({"booking_window_days": 1000}, "invalid_session_type"),
    ({"currency": "idr"}, "invalid_session_type"),
    ({"price_minor": -1}, "invalid_session_type"),
    ({"currency": "RUPIAH"}, "invalid_request"),
    ({"duration_minutes": "fifty"}, "invalid_request"),
    ({"colour": "blue"}, "invalid_request"),
]


async def test_bad_session_types_change_nothing(
    api: Api, counselor: Counselor, client: Person
) -> None:
    path = f"/api/v1/counselors/{counselor.id}/session-types"
    for change, code in BAD_SESSION_TYPES:
        body = session_type_body(**change)
        reply = await api.request("POST", path, body, token=counselor.token)
        assert (reply.status, reply.code) == (400, code), (change, reply.body)
        replaced = await api.request(
            "PUT", f"{path}/{counselor.type_id}", body, token=counselor.token
        )
        assert (replaced.status, replaced.code) == (400, code), change
    listed = await api.request("GET", path, token=client.token)
    assert listed.body["session_types"] == [counselor.session_type]


BAD_SEARCHES: list[tuple[dict[str, str], str]] = [
    ({"from": "2026-10-20T00:00:00Z", "to": "2026-10-19T00:00:00Z"}, "invalid_range"),
    ({"from": "2026-10-19T00:00:00Z", "to": "2026-12-19T00:00:00Z"}, "invalid_range"),
    ({"tz": "Europe/Atlantis"}, "invalid_time_zone"),
    ({"tz": "../../etc/passwd"}, "invalid_time_zone"),
    ({"from": "2026-10-19T00:00:00"}, "invalid_request"),
    ({"session_minutes": "0"}, "invalid_request"),
    ({"page": "2"}, "invalid_request"),
]


async def test_bad_slot_searches(api: Api, client: Person) -> None:
    for query, code in BAD_SEARCHES:
        full = {
            "session_minutes": "50",
            "from": "2026-10-19T00:00:00Z",
            "to": "2026-10-20T00:00:00Z",
            "tz": "UTC",
            **query,
        }
        reply = await slots(api, client, "/api/v1/slots", **full)
        assert (reply.status, reply.code) == (400, code), (query, reply.body)


async def test_unknown_counselor_everywhere(api: Api, client: Person) -> None:
    for path in (
        "availability",
        "session-types",
        "slots?session_type_id=x&from=2026-10-19T00:00:00Z&to=2026-10-20T00:00:00Z",
    ):
        reply = await api.request("GET", f"/api/v1/counselors/nobody/{path}", token=client.token)
        assert (reply.status, reply.code) == (404, "counselor_not_found"), path
