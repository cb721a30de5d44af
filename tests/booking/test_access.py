"""Least access: only a booking's two participants see or act on it, only its counselor
confirms, and a counselor edits only their own availability. Refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

from tests.booking.factories import (
    NOW,
    Counselor,
    Person,
    act,
    book,
    history,
    make_client,
    make_counselor,
    session_type_body,
    stored_bookings,
    week,
)
from tests.support.clients import Api
from tests.support.server import RunningServer


async def test_strangers_cannot_see_or_touch_a_booking(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    booking_id = (await book(api, client, counselor, NOW + timedelta(hours=2))).body["id"]
    stranger = await make_client(api)
    colleague = await make_counselor(api, server, "dr.colleague")
    before = await stored_bookings(server, client.id)
    events = await history(server, booking_id)

    for outsider in (stranger, colleague):
        for method, path, body in [
            ("GET", f"/api/v1/bookings/{booking_id}", None),
            ("GET", f"/api/v1/bookings/{booking_id}/invite.ics", None),
            ("POST", f"/api/v1/bookings/{booking_id}/cancel", {"reason": "mine now"}),
            ("POST", f"/api/v1/bookings/{booking_id}/confirm", None),
            ("POST", f"/api/v1/bookings/{booking_id}/decline", {}),
            (
                "POST",
                f"/api/v1/bookings/{booking_id}/reschedule",
                {"start": "2026-10-19T03:00:00Z"},
            ),
            ("POST", f"/api/v1/bookings/{booking_id}/join", None),
            ("POST", f"/api/v1/bookings/{booking_id}/no-show", {}),
            ("POST", f"/api/v1/bookings/{booking_id}/end", None),
        ]:
            reply = await api.request(method, path, body, token=outsider.token)
            assert (reply.status, reply.code) == (404, "booking_not_found"), (path, reply.body)
        listed = await api.request("GET", "/api/v1/bookings", token=outsider.token)
        assert listed.body == {"bookings": []}
    missing = await api.request("GET", "/api/v1/bookings/no-such-id", token=client.token)
    assert missing.code == "booking_not_found"

    assert await stored_bookings(server, client.id) == before
    assert await history(server, booking_id) == events


async def test_only_the_counselor_confirms_or_declines(
    api: Api, server: RunningServer, client: Person
) -> None:
    careful = await make_counselor(api, server, "dr.careful", requires_confirmation=True)
    booking_id = (await book(api, client, careful, NOW + timedelta(hours=2))).body["id"]

    for action, body in (("confirm", None), ("decline", {}), ("no-show", {})):
        reply = await act(api, client, booking_id, action, body)
        assert (reply.status, reply.code) == (403, "counselor_only"), action
    [stored] = await stored_bookings(server, client.id)
    assert (stored.status.value, stored.sequence) == ("pending", 0)
    assert [e.kind.value for e in await history(server, booking_id)] == ["created"]

    declined = await act(api, careful, booking_id, "decline", {"reason": "not my field"})
    assert declined.body["status"] == "declined"
    again = await act(api, careful, booking_id, "confirm")
    assert (again.status, again.code) == (409, "invalid_transition")
    listed = await api.request("GET", "/api/v1/bookings?status=declined", token=client.token)
    assert [b["id"] for b in listed.body["bookings"]] == [booking_id]


async def test_counselors_edit_only_their_own_availability(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    rival = await make_counselor(api, server, "dr.rival")
    path = f"/api/v1/counselors/{counselor.id}"
    before = (await api.request("GET", f"{path}/availability", token=client.token)).body
    types_before = (await api.request("GET", f"{path}/session-types", token=client.token)).body

    attempts = [
        ("PUT", f"{path}/availability", {"time_zone": "UTC", "week": week("sunday")}),
        ("PUT", f"{path}/overrides/2026-10-20", {"ranges": []}),
        ("DELETE", f"{path}/overrides/2026-10-20", None),
        ("POST", f"{path}/session-types", session_type_body(price_minor=1)),
        ("PUT", f"{path}/session-types/{counselor.type_id}", session_type_body(price_minor=1)),
        ("DELETE", f"{path}/session-types/{counselor.type_id}", None),
    ]
    for method, url, body in attempts:
        by_rival = await api.request(method, url, body, token=rival.token)
        assert (by_rival.status, by_rival.code) == (403, "not_your_availability"), url
        by_client = await api.request(method, url, body, token=client.token)
        assert (by_client.status, by_client.code) == (403, "forbidden"), url

    assert (await api.request("GET", f"{path}/availability", token=client.token)).body == before
    after = await api.request("GET", f"{path}/session-types", token=client.token)
    assert after.body == types_before


async def test_rescheduling_onto_a_taken_slot_changes_nothing(
    api: Api, server: RunningServer, counselor: Counselor, client: Person
) -> None:
    mine = (await book(api, client, counselor, NOW + timedelta(hours=2))).body["id"]
    other = await make_client(api)
    assert (await book(api, other, counselor, NOW + timedelta(hours=3))).status == 201
    before = await stored_bookings(server, counselor.id)

    taken = await act(api, client, mine, "reschedule", {"start": "2026-10-19T03:00:00Z"})
    assert (taken.status, taken.code) == (409, "slot_taken")
    lunch = await act(api, client, mine, "reschedule", {"start": "2026-10-19T05:00:00Z"})
    assert lunch.code == "outside_availability"  # 12:00 in Jakarta
    assert await stored_bookings(server, counselor.id) == before
    assert [e.kind.value for e in await history(server, mine)] == ["created", "confirmed"]

    moved = await act(api, client, mine, "reschedule", {"start": "2026-10-19T06:00:00Z"})
    assert moved.status == 200 and moved.body["sequence"] == 1
