"""Availability and session types over HTTP: a counselor edits their own, anyone signed in
reads them; overrides close or change a day; slot search for one counselor and across many."""

from __future__ import annotations

from datetime import timedelta

from tests.booking.factories import (
    NOW,
    Counselor,
    Person,
    book,
    make_counselor,
    session_type_body,
    slots,
)
from tests.support.clients import Api
from tests.support.server import RunningServer

DAY = {"from": NOW.isoformat(), "to": (NOW + timedelta(days=1)).isoformat()}


async def one_day(api: Api, person: Person, counselor: Counselor) -> list[str]:
    reply = await slots(
        api,
        person,
        f"/api/v1/counselors/{counselor.id}/slots",
        session_type_id=counselor.type_id,
        **DAY,
    )
    assert reply.status == 200, reply.body
    return [s["start_utc"] for s in reply.body["slots"]]


async def test_public_availability_and_overrides(
    api: Api, counselor: Counselor, client: Person
) -> None:
    path = f"/api/v1/counselors/{counselor.id}"
    seen = await api.request("GET", f"{path}/availability", token=client.token)
    assert seen.status == 200
    assert seen.body["time_zone"] == "Asia/Jakarta"
    assert seen.body["week"]["monday"] == [
        {"start": "09:00", "end": "12:00"},
        {"start": "13:00", "end": "17:00"},
    ]
    assert "saturday" not in seen.body["week"] and seen.body["overrides"] == []
    assert len(await one_day(api, client, counselor)) == 7

    off = await api.request(
        "PUT", f"{path}/overrides/2026-10-19", {"ranges": []}, token=counselor.token
    )
    assert off.status == 200 and off.body["overrides"] == [{"date": "2026-10-19", "ranges": []}]
    assert await one_day(api, client, counselor) == []

    evening = await api.request(
        "PUT",
        f"{path}/overrides/2026-10-19",
        {"ranges": [{"start": "19:00", "end": "24:00"}]},
        token=counselor.token,
    )
    assert evening.body["overrides"][0]["ranges"] == [{"start": "19:00", "end": "24:00"}]
    assert await one_day(api, client, counselor) == [
        "2026-10-19T12:00:00Z",
        "2026-10-19T13:00:00Z",
        "2026-10-19T14:00:00Z",
        "2026-10-19T15:00:00Z",
        "2026-10-19T16:00:00Z",
    ]

    removed = await api.request("DELETE", f"{path}/overrides/2026-10-19", token=counselor.token)
    assert removed.status == 204
    assert len(await one_day(api, client, counselor)) == 7
    gone = await api.request("DELETE", f"{path}/overrides/2026-10-19", token=counselor.token)
    assert gone.status == 404 and gone.code == "override_not_found"


async def test_session_types_can_change_and_retire(
    api: Api, counselor: Counselor, client: Person
) -> None:
    path = f"/api/v1/counselors/{counselor.id}/session-types"
    booked = await book(api, client, counselor, NOW + timedelta(hours=2))
    assert booked.status == 201

    longer = await api.request(
        "PUT",
        f"{path}/{counselor.type_id}",
        session_type_body(duration_minutes=60, slot_interval_minutes=None, price_minor=1),
        token=counselor.token,
    )
    assert longer.status == 200, longer.body
    assert (longer.body["duration_minutes"], longer.body["slot_interval_minutes"]) == (60, 70)

    retired = await api.request("DELETE", f"{path}/{counselor.type_id}", token=counselor.token)
    assert retired.status == 204
    listed = await api.request("GET", path, token=client.token)
    assert listed.body == {"session_types": []}
    kept = await api.request("GET", f"/api/v1/bookings/{booked.body['id']}", token=client.token)
    assert (kept.body["status"], kept.body["price_minor"]) == ("confirmed", 15_000_000)
    assert (await book(api, client, counselor, NOW + timedelta(hours=4))).code == (
        "session_type_not_found"
    )


async def test_matching_slots_across_counselors(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    makassar = await make_counselor(api, server, "dr.makassar", time_zone="Asia/Makassar")
    await make_counselor(api, server, "dr.hour", duration_minutes=60)
    assert (await book(api, client, counselor, NOW + timedelta(hours=2))).status == 201

    reply = await slots(
        api,
        client,
        "/api/v1/slots",
        session_minutes=50,
        tz="Europe/Berlin",
        limit=5,
        **{"from": "2026-10-19T00:00:00Z", "to": "2026-10-19T04:00:00Z"},
    )
    assert reply.status == 200, reply.body
    found = [(s["start_utc"], s["counselor_id"]) for s in reply.body["slots"]]
    assert found == sorted(
        [
            ("2026-10-19T01:00:00Z", makassar.id),  # 09:00 in Makassar (UTC+8)
            ("2026-10-19T02:00:00Z", makassar.id),
            ("2026-10-19T03:00:00Z", counselor.id),  # 02:00 is booked in Jakarta
            ("2026-10-19T03:00:00Z", makassar.id),
        ]
    )
    assert reply.body["slots"][0]["start"] == "2026-10-19T03:00:00+02:00"
    assert reply.body["truncated"] is False

    few = await slots(
        api,
        client,
        "/api/v1/slots",
        session_minutes=50,
        limit=2,
        **{"from": "2026-10-19T00:00:00Z", "to": "2026-10-20T00:00:00Z"},
    )
    assert len(few.body["slots"]) == 2 and few.body["truncated"] is True
    assert few.body["time_zone"] == "UTC"
