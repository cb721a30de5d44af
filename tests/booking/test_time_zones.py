"""A counselor in Jayapura (WIT, UTC+9, no DST) and a client in Berlin across the end of summer
time on 2026-10-25 see the same instants, and booking by either's wall clock books the same one."""

from __future__ import annotations

from icalendar import Calendar

from tests.booking.factories import (
    Counselor,
    Person,
    book,
    make_client,
    make_counselor,
    slots,
    week,
)
from tests.support.clients import Api
from tests.support.server import RunningServer

RANGE = {"from": "2026-10-24T22:00:00Z", "to": "2026-10-25T04:00:00Z"}
EVERY_DAY = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


async def seen(api: Api, person: Person, counselor: Counselor, tz: str) -> list[dict[str, str]]:
    reply = await slots(
        api,
        person,
        f"/api/v1/counselors/{counselor.id}/slots",
        session_type_id=counselor.type_id,
        tz=tz,
        **RANGE,
    )
    assert reply.status == 200, reply.body
    assert reply.body["time_zone"] == tz
    return list(reply.body["slots"])


async def test_wit_counselor_and_berlin_client_across_dst(
    api: Api, server: RunningServer, client: Person
) -> None:
    counselor = await make_counselor(
        api,
        server,
        "dr.papua",
        time_zone="Asia/Jayapura",
        hours=week(*EVERY_DAY, hours=[("08:00", "12:00")]),
    )

    in_berlin = await seen(api, client, counselor, "Europe/Berlin")
    in_jayapura = await seen(api, counselor, counselor, "Asia/Jayapura")

    assert [s["start"] for s in in_berlin] == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",  # the repeated hour: same wall time, an hour later
        "2026-10-25T03:00:00+01:00",
    ]
    assert [s["start"] for s in in_jayapura] == [
        "2026-10-25T08:00:00+09:00",
        "2026-10-25T09:00:00+09:00",
        "2026-10-25T10:00:00+09:00",
        "2026-10-25T11:00:00+09:00",
    ]
    utc = ["2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z"]
    assert [s["start_utc"] for s in in_berlin][:3] == utc
    assert [s["start_utc"] for s in in_berlin] == [s["start_utc"] for s in in_jayapura]

    after_change = await book(api, client, counselor, "2026-10-25T02:00:00+01:00")
    assert after_change.status == 201, after_change.body
    assert after_change.body["start"] == "2026-10-25T01:00:00Z"
    before_change = await book(api, await make_client(api), counselor, "2026-10-25T02:00:00+02:00")
    assert before_change.status == 201, before_change.body
    assert before_change.body["start"] == "2026-10-25T00:00:00Z"

    seen_by_counselor = await api.request(
        "GET", f"/api/v1/bookings/{after_change.body['id']}", token=counselor.token
    )
    assert seen_by_counselor.body["start"] == "2026-10-25T01:00:00Z"  # 10:00 in Jayapura
    ics = await api.request(
        "GET", f"/api/v1/bookings/{after_change.body['id']}/invite.ics", token=counselor.token
    )
    event = Calendar.from_ical(ics.body).walk("VEVENT")[0]
    assert event.decoded("DTSTART").isoformat() == "2026-10-25T01:00:00+00:00"
    assert "DTSTART:20261025T010000Z" in ics.body.replace("\r\n", "\n")

    left = [s["start_utc"] for s in await seen(api, client, counselor, "Europe/Berlin")]
    assert left == ["2026-10-24T23:00:00Z", "2026-10-25T02:00:00Z"]
