"""A booking's whole life over real HTTP and sockets: pending, confirmed, rescheduled,
cancelled, with history, .ics invites, the private feed, and booking.updated at both parties."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from icalendar import Calendar

from rtserver.api.keys import DATABASE
from rtserver.domain.chat import pair_key
from tests.booking.factories import (
    NOW,
    Counselor,
    Person,
    act,
    history,
    make_client,
    make_counselor,
    slots,
)
from tests.support.clients import Api, Socket, connect
from tests.support.server import RunningServer


def parsed(ics: str) -> tuple[Calendar, Any]:
    calendar = Calendar.from_ical(ics)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


async def invite(api: Api, person: Person, booking_id: str) -> tuple[Calendar, Any]:
    reply = await api.request(
        "GET", f"/api/v1/bookings/{booking_id}/invite.ics", token=person.token
    )
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("text/calendar")
    return parsed(reply.body)


async def updated(sockets: list[Socket], booking_id: str, status: str) -> None:
    for sock in sockets:
        event = await sock.next("booking.updated")
        assert event["booking_id"] == booking_id
        assert event["status"] == status


async def test_pending_confirmed_rescheduled_cancelled(api: Api, server: RunningServer) -> None:
    counselor = await make_counselor(api, server, "dr.sari", requires_confirmation=True)
    client = await make_client(api, "bintang")
    sockets = [await connect(server.url, client.token), await connect(server.url, counselor.token)]
    try:
        await _lifecycle(api, server, counselor, client, sockets)
    finally:
        for sock in sockets:
            await sock.close()


async def _lifecycle(
    api: Api, server: RunningServer, counselor: Counselor, client: Person, sockets: list[Socket]
) -> None:
    offered = await slots(
        api,
        client,
        f"/api/v1/counselors/{counselor.id}/slots",
        session_type_id=counselor.type_id,
        **{"from": NOW.isoformat(), "to": (NOW + timedelta(days=1)).isoformat()},
        tz="Europe/Berlin",
    )
    assert offered.status == 200, offered.body
    first, later = offered.body["slots"][0], offered.body["slots"][2]
    assert first["start_utc"] == "2026-10-19T02:00:00Z"
    assert first["start"] == "2026-10-19T04:00:00+02:00"

    booked = await api.request(
        "POST",
        "/api/v1/bookings",
        {
            "counselor_id": counselor.id,
            "session_type_id": counselor.type_id,
            "start": first["start"],
        },
        token=client.token,
    )
    assert booked.status == 201, booked.body
    booking_id = booked.body["id"]
    assert booked.body["status"] == "pending"
    await updated(sockets, booking_id, "pending")
    _, event = await invite(api, client, booking_id)
    assert event["STATUS"] == "TENTATIVE" and event["SEQUENCE"] == 0
    uid = str(event["UID"])

    confirmed = await act(api, counselor, booking_id, "confirm")
    assert confirmed.status == 200 and confirmed.body["status"] == "confirmed"
    await updated(sockets, booking_id, "confirmed")
    assert server.app is not None
    async with server.app[DATABASE].read() as tx:
        assert await tx.conversations.by_pair(pair_key(counselor.id, client.id)) is not None
    calendar, event = await invite(api, client, booking_id)
    assert (str(calendar["METHOD"]), str(event["UID"]), event["SEQUENCE"]) == ("REQUEST", uid, 1)
    assert event["SUMMARY"] == "Counseling session"
    assert event.decoded("DTSTART").isoformat() == "2026-10-19T02:00:00+00:00"
    assert event["ORGANIZER"].params["CN"] == "Dr. dr.sari"

    moved = await act(
        api, counselor, booking_id, "reschedule", {"start": later["start_utc"], "reason": "clash"}
    )
    assert moved.status == 200, moved.body
    assert (moved.body["status"], moved.body["start"]) == ("confirmed", later["start_utc"])
    await updated(sockets, booking_id, "confirmed")
    _, event = await invite(api, counselor, booking_id)
    assert (str(event["UID"]), event["SEQUENCE"]) == (uid, 2)
    assert event.decoded("DTSTART").isoformat() == "2026-10-19T04:00:00+00:00"

    cancelled = await act(api, client, booking_id, "cancel", {"reason": "feeling better"})
    assert cancelled.status == 200, cancelled.body
    assert cancelled.body["late_cancel"] is True  # 4 hours before, policy says 24
    assert cancelled.body["cancelled_by"] == "client"
    await updated(sockets, booking_id, "cancelled")
    calendar, event = await invite(api, client, booking_id)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert (str(event["UID"]), event["SEQUENCE"], event["STATUS"]) == (uid, 3, "CANCELLED")

    detail = await api.request("GET", f"/api/v1/bookings/{booking_id}", token=counselor.token)
    kinds = [(e["kind"], e["actor_id"]) for e in detail.body["history"]]
    assert kinds == [
        ("created", client.id),
        ("confirmed", counselor.id),
        ("rescheduled", counselor.id),
        ("cancelled", client.id),
    ]
    move = detail.body["history"][2]
    assert (move["from_start"], move["to_start"], move["reason"]) == (
        first["start_utc"],
        later["start_utc"],
        "clash",
    )
    assert detail.body["history"][3]["late"] is True
    assert len(await history(server, booking_id)) == 4


async def test_calendar_feed_rotates_and_revokes(
    api: Api, counselor: Counselor, client: Person
) -> None:
    booked = await api.request(
        "POST",
        "/api/v1/bookings",
        {
            "counselor_id": counselor.id,
            "session_type_id": counselor.type_id,
            "start": "2026-10-20T02:00:00Z",
        },
        token=client.token,
    )
    assert booked.status == 201, booked.body
    assert (await api.request("GET", "/api/v1/calendar/feed", token=client.token)).body == {
        "active": False,
        "created_at": None,
    }

    created = await api.request("POST", "/api/v1/calendar/feed", token=client.token)
    assert created.status == 201
    path = created.body["url"].split("127.0.0.1:8080", 1)[1]
    feed = await api.request("GET", path)
    assert feed.status == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.body).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"{booked.body['id']}@rtserver"]
    assert all(str(e["SUMMARY"]) == "Counseling session" for e in events)

    rotated = await api.request("POST", "/api/v1/calendar/feed", token=client.token)
    assert (await api.request("GET", path)).code == "calendar_feed_not_found"
    new_path = rotated.body["url"].split("127.0.0.1:8080", 1)[1]
    assert (await api.request("GET", new_path)).status == 200

    revoked = await api.request("DELETE", "/api/v1/calendar/feed", token=client.token)
    assert revoked.status == 204
    assert (await api.request("GET", new_path)).code == "calendar_feed_not_found"
    again = await api.request("DELETE", "/api/v1/calendar/feed", token=client.token)
    assert again.code == "calendar_feed_not_found"
