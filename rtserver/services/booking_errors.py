"""Booking failures as AppErrors: the domain's stable codes kept, the HTTP family chosen here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rtserver.domain.booking import (
    BookingError,
    BookingRuleError,
    BookingStateError,
    Party,
)
from rtserver.errors import AppError, Conflict, Forbidden, Invalid, NotFound
from rtserver.store.booking import BookingOverlap, WriteConflict

T = TypeVar("T")
_CONFLICTS = frozenset({"slot_taken", "already_started"})


def booking_not_found() -> NotFound:
    # Also for bookings of other people: nobody learns that someone else's booking exists.
    return NotFound("no such booking", code="booking_not_found")


def counselor_not_found() -> NotFound:
    return NotFound("no such counselor", code="counselor_not_found")


def session_type_not_found() -> NotFound:
    return NotFound("no such session type for this counselor", code="session_type_not_found")


def not_your_availability() -> Forbidden:
    return Forbidden(
        "counselors edit only their own availability and session types",
        code="not_your_availability",
    )


def overlapping_booking() -> Conflict:
    return Conflict("you already have a session at that time", code="overlapping_booking")


def slot_taken() -> Conflict:
    return Conflict("the counselor is already booked then", code="slot_taken")


def app_error(exc: BookingError) -> AppError:
    if isinstance(exc, BookingRuleError):
        family = Conflict if exc.code in _CONFLICTS else Invalid
        return family(exc.message, code=exc.code)
    if isinstance(exc, BookingStateError):
        if exc.code == "not_participant":
            return booking_not_found()
        if exc.code == "counselor_only":
            return Forbidden(exc.message, code=exc.code)
        return Conflict(exc.message, code=exc.code)
    return Invalid(exc.message, code=exc.code)


@contextmanager
def booking_rules() -> Iterator[None]:
    """Translate the domain's and the store's booking refusals into AppErrors."""
    try:
        yield
    except BookingError as exc:
        raise app_error(exc) from exc
    except BookingOverlap as exc:
        raise (overlapping_booking() if exc.whose is Party.CLIENT else slot_taken()) from exc


async def retried(work: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """Run a booking write again when PostgreSQL aborted it to break a deadlock with a
    concurrent one; the next attempt sees the winner's commit and answers normally."""
    for _ in range(attempts - 1):
        try:
            return await work()
        except WriteConflict:
            continue
    try:
        return await work()
    except WriteConflict as exc:
        raise Conflict(
            "the booking collided with concurrent changes; try again", code="write_conflict"
        ) from exc
