"""A booking's statuses and who may move it: pure rules, no server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtserver.domain.booking import (
    Booking,
    BookingStateError,
    BookingStatus,
    Busy,
    EventKind,
    lifecycle,
)
from rtserver.domain.booking.errors import BookingRuleError
from rtserver.domain.booking.intervals import Slot

from .factories import utc

START = utc(2026, 6, 1, 2)
NOW = utc(2026, 5, 30)
EARLY = timedelta(minutes=10)


def booking(status: BookingStatus = BookingStatus.PENDING, **changes: object) -> Booking:
    fields: dict[str, object] = {
        "id": "b1",
        "counselor_id": "co",
        "client_id": "cl",
        "session_type_id": "t",
        "status": status,
        "start": START,
        "end": START + timedelta(minutes=50),
        "occupied": Busy(START, START + timedelta(hours=1)),
        "price_minor": 1,
        "currency": "IDR",
        "room_id": "r",
        "created_at": NOW,
        "updated_at": NOW,
        **changes,
    }
    return Booking(**fields)  # type: ignore[arg-type]


def test_history_of_a_new_booking() -> None:
    assert [e.kind for e in lifecycle.created(booking())] == [EventKind.CREATED]
    confirmed = lifecycle.created(booking(BookingStatus.CONFIRMED))
    assert [(e.kind, e.actor_id) for e in confirmed] == [
        (EventKind.CREATED, "cl"),
        (EventKind.CONFIRMED, None),
    ]


def test_only_the_counselor_confirms_a_pending_booking_before_it_starts() -> None:
    with pytest.raises(BookingStateError) as refused:
        lifecycle.confirm(booking(), "cl", NOW)
    assert refused.value.code == "counselor_only"
    with pytest.raises(BookingStateError) as refused:
        lifecycle.confirm(booking(), "stranger", NOW)
    assert refused.value.code == "not_participant"
    with pytest.raises(BookingStateError) as refused:
        lifecycle.confirm(booking(), "co", START)
    assert refused.value.code == "invalid_transition"
    changed, event = lifecycle.confirm(booking(), "co", NOW)
    assert (changed.status, changed.sequence, event.kind) == (
        BookingStatus.CONFIRMED,
        1,
        EventKind.CONFIRMED,
    )


def test_cancel_records_who_and_whether_late() -> None:
    changed, event = lifecycle.cancel(booking(), "co", START - timedelta(hours=3), "ill", 24)
    assert (changed.cancelled_by, changed.late_cancel, event.late) == ("counselor", True, True)
    changed, _ = lifecycle.cancel(booking(), "cl", START - timedelta(days=2), "ok", 24)
    assert changed.late_cancel is False
    with pytest.raises(BookingRuleError) as refused:
        lifecycle.cancel(booking(), "cl", START, "too late", 24)
    assert refused.value.code == "already_started"


def test_a_client_move_needs_confirmation_again_when_the_type_says_so() -> None:
    new = Slot(START + timedelta(days=1), START + timedelta(days=1, minutes=50))
    span = Busy(new.start, new.end + timedelta(minutes=10))
    confirmed = booking(BookingStatus.CONFIRMED)
    by_client, event = lifecycle.reschedule(
        confirmed, "cl", NOW, new, span, requires_confirmation=True, late=False, reason=None
    )
    assert by_client.status is BookingStatus.PENDING
    assert (event.from_start, event.to_start) == (START, new.start)
    by_counselor, _ = lifecycle.reschedule(
        confirmed, "co", NOW, new, span, requires_confirmation=True, late=False, reason=None
    )
    assert by_counselor.status is BookingStatus.CONFIRMED


@given(st.sampled_from(BookingStatus), st.integers(min_value=-120, max_value=120))
def test_join_only_in_the_window_of_a_confirmed_session(
    status: BookingStatus, minutes: int
) -> None:
    now = START + timedelta(minutes=minutes)
    try:
        change = lifecycle.join(booking(status), "cl", now, EARLY)
    except BookingStateError as refused:
        assert status is not BookingStatus.CONFIRMED or not (
            START - EARLY <= now < START + timedelta(minutes=50)
        )
        assert refused.code in {"not_confirmed", "too_early", "session_over", "invalid_transition"}
    else:
        assert status is BookingStatus.CONFIRMED
        assert START - EARLY <= now < START + timedelta(minutes=50)
        assert change is not None and change[0].started_at == now


def test_no_show_after_the_start_when_the_client_never_came() -> None:
    confirmed = booking(BookingStatus.CONFIRMED)
    with pytest.raises(BookingStateError) as refused:
        lifecycle.mark_no_show(confirmed, "co", START - timedelta(minutes=1), None)
    assert refused.value.code == "not_started"
    joined = booking(BookingStatus.CONFIRMED, client_joined_at=START)
    with pytest.raises(BookingStateError) as refused:
        lifecycle.mark_no_show(joined, "co", START + timedelta(minutes=20), None)
    assert refused.value.code == "client_joined"
    changed, _ = lifecycle.mark_no_show(confirmed, "co", START + timedelta(minutes=20), "absent")
    assert changed.status is BookingStatus.NO_SHOW
