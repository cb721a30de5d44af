"""A booking's life: its statuses, which party may move it where and when, and the history
entry each move leaves. Pure: the caller passes `now` and stores the results."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from rtserver.domain.booking.errors import BookingError
from rtserver.domain.booking.intervals import Busy, Slot
from rtserver.domain.booking.policy import cancellation_terms


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


LIVE_STATUSES = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})
"""Statuses that hold the counselor's time (and the client's): the exclusion constraint's set."""


class Party(StrEnum):
    CLIENT = "client"
    COUNSELOR = "counselor"


class EventKind(StrEnum):
    CREATED = "created"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    STARTED = "started"
    ENDED = "ended"
    NO_SHOW = "no_show"


StateCode = Literal[
    "invalid_transition",
    "counselor_only",
    "not_participant",
    "not_confirmed",
    "too_early",
    "session_over",
    "not_started",
    "client_joined",
]


class BookingStateError(BookingError):
    """The booking is not in a state (or time) where this party may do this."""

    def __init__(self, code: StateCode, message: str) -> None:
        super().__init__(code, message)
        self.code: StateCode = code


@dataclass(frozen=True, kw_only=True)
class Booking:
    """A client's booking of a counselor's time. `occupied` is the session plus its buffers."""

    id: str
    counselor_id: str
    client_id: str
    session_type_id: str
    status: BookingStatus
    start: datetime
    end: datetime
    occupied: Busy
    price_minor: int
    currency: str
    room_id: str
    created_at: datetime
    updated_at: datetime
    sequence: int = 0
    cancelled_by: Party | None = None
    cancel_reason: str | None = None
    late_cancel: bool | None = None
    client_joined_at: datetime | None = None
    counselor_joined_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def participant_ids(self) -> tuple[str, str]:
        return (self.counselor_id, self.client_id)

    def party_of(self, user_id: str) -> Party | None:
        if user_id == self.counselor_id:
            return Party.COUNSELOR
        if user_id == self.client_id:
            return Party.CLIENT
        return None


@dataclass(frozen=True, kw_only=True)
class BookingEvent:
    """One line of a booking's history. `actor_id` is None when the policy acted (auto-confirm)."""

    booking_id: str
    kind: EventKind
    at: datetime
    actor_id: str | None
    reason: str | None = None
    from_start: datetime | None = None
    from_end: datetime | None = None
    to_start: datetime | None = None
    to_end: datetime | None = None
    late: bool | None = None


Change = tuple[Booking, BookingEvent]


def _party(booking: Booking, actor_id: str) -> Party:
    party = booking.party_of(actor_id)
    if party is None:
        raise BookingStateError("not_participant", "only the client and the counselor may do this")
    return party


def _counselor(booking: Booking, actor_id: str) -> None:
    if _party(booking, actor_id) is not Party.COUNSELOR:
        raise BookingStateError("counselor_only", "only the counselor may do this")


def _require(booking: Booking, *allowed: BookingStatus) -> None:
    if booking.status not in allowed:
        raise BookingStateError(
            "invalid_transition", f"not possible for a booking that is {booking.status.value}"
        )


def _event(booking: Booking, kind: EventKind, actor_id: str | None, now: datetime) -> BookingEvent:
    return BookingEvent(booking_id=booking.id, kind=kind, at=now, actor_id=actor_id)


def created(booking: Booking) -> list[BookingEvent]:
    """History of a new booking: created, and confirmed by policy when no confirmation is needed."""
    events = [
        BookingEvent(
            booking_id=booking.id,
            kind=EventKind.CREATED,
            at=booking.created_at,
            actor_id=booking.client_id,
            to_start=booking.start,
            to_end=booking.end,
        )
    ]
    if booking.status is BookingStatus.CONFIRMED:
        events.append(_event(booking, EventKind.CONFIRMED, None, booking.created_at))
    return events


def confirm(booking: Booking, actor_id: str, now: datetime) -> Change:
    _counselor(booking, actor_id)
    _require(booking, BookingStatus.PENDING)
    if now >= booking.start:
        raise BookingStateError("invalid_transition", "the requested time has already passed")
    changed = replace(
        booking, status=BookingStatus.CONFIRMED, sequence=booking.sequence + 1, updated_at=now
    )
    return changed, _event(changed, EventKind.CONFIRMED, actor_id, now)


def decline(booking: Booking, actor_id: str, now: datetime, reason: str | None) -> Change:
    _counselor(booking, actor_id)
    _require(booking, BookingStatus.PENDING)
    changed = replace(
        booking,
        status=BookingStatus.DECLINED,
        sequence=booking.sequence + 1,
        cancelled_by=Party.COUNSELOR,
        cancel_reason=reason,
        updated_at=now,
    )
    return changed, replace(_event(changed, EventKind.DECLINED, actor_id, now), reason=reason)


def cancel(
    booking: Booking, actor_id: str, now: datetime, reason: str, late_cancel_hours: float
) -> Change:
    """Either party, before the start; `late` when inside the policy's late-cancel window."""
    party = _party(booking, actor_id)
    _require(booking, *LIVE_STATUSES)
    terms = cancellation_terms(booking.start, now, late_cancel_hours)
    changed = replace(
        booking,
        status=BookingStatus.CANCELLED,
        sequence=booking.sequence + 1,
        cancelled_by=party,
        cancel_reason=reason,
        late_cancel=terms.late,
        updated_at=now,
    )
    event = replace(
        _event(changed, EventKind.CANCELLED, actor_id, now), reason=reason, late=terms.late
    )
    return changed, event


def check_movable(booking: Booking, actor_id: str) -> Party:
    """Either party may move a live booking; the new time is `check_reschedulable`'s business."""
    party = _party(booking, actor_id)
    _require(booking, *LIVE_STATUSES)
    return party


def reschedule(
    booking: Booking,
    actor_id: str,
    now: datetime,
    slot: Slot,
    occupied: Busy,
    *,
    requires_confirmation: bool,
    late: bool,
    reason: str | None,
) -> Change:
    """Move a live booking to `slot` (already checked with `check_reschedulable`).

    A client's move of a booking whose type needs confirmation waits for the counselor again.
    """
    party = check_movable(booking, actor_id)
    status = booking.status
    if party is Party.CLIENT and requires_confirmation:
        status = BookingStatus.PENDING
    changed = replace(
        booking,
        status=status,
        start=slot.start,
        end=slot.end,
        occupied=occupied,
        sequence=booking.sequence + 1,
        updated_at=now,
    )
    event = replace(
        _event(changed, EventKind.RESCHEDULED, actor_id, now),
        reason=reason,
        from_start=booking.start,
        from_end=booking.end,
        to_start=slot.start,
        to_end=slot.end,
        late=late,
    )
    return changed, event


def join(booking: Booking, actor_id: str, now: datetime, early: timedelta) -> Change | None:
    """Let a participant into the session from `early` before its start until its end.

    Returns the change when this join is the party's first (the first join by either starts the
    session), None when the party had joined before.
    """
    party = _party(booking, actor_id)
    if booking.status in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        raise BookingStateError("session_over", "the session is over")
    if booking.status is BookingStatus.PENDING:
        raise BookingStateError("not_confirmed", "the counselor has not confirmed this booking")
    _require(booking, BookingStatus.CONFIRMED)
    if now < booking.start - early:
        minutes = int(early.total_seconds() // 60)
        raise BookingStateError(
            "too_early", f"the session opens {minutes} minutes before it starts"
        )
    if now >= booking.end:
        raise BookingStateError("session_over", "the session is over")
    joined = booking.client_joined_at if party is Party.CLIENT else booking.counselor_joined_at
    if joined is not None:
        return None
    changed = replace(booking, started_at=booking.started_at or now, updated_at=now)
    if party is Party.CLIENT:
        changed = replace(changed, client_joined_at=now)
    else:
        changed = replace(changed, counselor_joined_at=now)
    return changed, _event(changed, EventKind.STARTED, actor_id, now)


def end(booking: Booking, actor_id: str, now: datetime) -> Change:
    """Either party ends a started session; the booking is then completed."""
    _party(booking, actor_id)
    if booking.status in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        raise BookingStateError("session_over", "the session is over")
    _require(booking, BookingStatus.CONFIRMED)
    if booking.started_at is None:
        raise BookingStateError("not_started", "nobody has joined the session yet")
    changed = replace(booking, status=BookingStatus.COMPLETED, ended_at=now, updated_at=now)
    return changed, _event(changed, EventKind.ENDED, actor_id, now)


def mark_no_show(booking: Booking, actor_id: str, now: datetime, reason: str | None) -> Change:
    """The counselor records that the client did not come: after the start, client never joined."""
    _counselor(booking, actor_id)
    _require(booking, BookingStatus.CONFIRMED)
    if now < booking.start:
        raise BookingStateError("not_started", "a no-show can be recorded once the session starts")
    if booking.client_joined_at is not None:
        raise BookingStateError("client_joined", "the client joined this session")
    changed = replace(booking, status=BookingStatus.NO_SHOW, updated_at=now)
    return changed, replace(_event(changed, EventKind.NO_SHOW, actor_id, now), reason=reason)
