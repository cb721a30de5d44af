"""Bookings: book, confirm, decline, cancel, reschedule with history; the session they become
(join, end, no-show). Never double-booked: see `BookingRepository.add` and migration 0003."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rtserver.clock import Clock
from rtserver.domain.accounts import Principal
from rtserver.domain.booking import (
    Booking,
    BookingEvent,
    BookingRuleError,
    BookingStatus,
    Busy,
    DateOverride,
    OfferedSessionType,
    Slot,
    WeeklySchedule,
    cancellation_terms,
    check_bookable,
    check_reschedulable,
    lifecycle,
    occupied_span,
)
from rtserver.errors import Invalid
from rtserver.ids import new_id
from rtserver.protocol import BOOKING_UPDATED
from rtserver.services.booking_errors import (
    booking_not_found,
    booking_rules,
    counselor_not_found,
    overlapping_booking,
    retried,
    session_type_not_found,
)
from rtserver.services.connections import Realtime
from rtserver.services.conversations import ConversationService
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction

log = logging.getLogger(__name__)

_DAY = timedelta(days=1)
LIST_PAST = timedelta(days=30)
LIST_AHEAD = timedelta(days=430)
Step = Callable[[Transaction, Booking], Awaitable[lifecycle.Change | None]]


@dataclass(frozen=True)
class SessionRoom:
    """Where the two participants meet: the session's room and their conversation."""

    booking: Booking
    room_id: str
    conversation_id: str


def booking_event_payload(booking: Booking) -> dict[str, str]:
    return {
        "booking_id": booking.id,
        "status": booking.status.value,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
    }


class BookingService:
    def __init__(
        self,
        database: Database,
        conversations: ConversationService,
        realtime: Realtime,
        clock: Clock,
        *,
        join_early: timedelta,
        late_cancel_hours: float,
    ) -> None:
        self._db = database
        self._conversations = conversations
        self._realtime = realtime
        self._clock = clock
        self._join_early = join_early
        self._late_cancel_hours = late_cancel_hours

    async def book(
        self,
        principal: Principal,
        counselor_id: str,
        session_type_id: str,
        start: datetime,
        end: datetime | None = None,
    ) -> Booking:
        """A client books a slot: `pending`, or `confirmed` when the type needs no confirmation.

        The overlap checks run inside the write transaction (serial on SQLite); on PostgreSQL
        the exclusion constraints settle any race between concurrent transactions.
        """
        if end is not None and end <= start:
            raise Invalid("`end` must be after `start`", code="invalid_interval")

        async def insert() -> Booking:
            return await self._insert(principal, counselor_id, session_type_id, start, end)

        booking = await retried(insert)
        await self._after_change(booking)
        return booking

    async def _insert(
        self,
        principal: Principal,
        counselor_id: str,
        session_type_id: str,
        start: datetime,
        end: datetime | None,
    ) -> Booking:
        now = self._clock.now()
        # Every rule is checked on a concurrent reader first, so refusals (most of them, when
        # many clients want one slot) never wait for the single writer.
        async with self._db.read() as tx:
            if not await tx.availability.is_counselor(counselor_id):
                raise counselor_not_found()
            offered = await tx.session_types.get(session_type_id)
            if offered is None or offered.counselor_id != counselor_id or not offered.active:
                raise session_type_not_found()
            if end is not None and end - start != offered.rules.duration:
                raise Invalid(
                    f"a {offered.name} session lasts {offered.rules.duration_minutes} minutes",
                    code="invalid_interval",
                )
            with booking_rules():
                slot, occupied = await self._bookable(tx, counselor_id, offered, now, start)
                await self._require_client_free(tx, principal.user_id, slot)
        needs_confirmation = offered.rules.requires_confirmation
        booking = Booking(
            id=new_id(),
            counselor_id=counselor_id,
            client_id=principal.user_id,
            session_type_id=offered.id,
            status=BookingStatus.PENDING if needs_confirmation else BookingStatus.CONFIRMED,
            start=slot.start,
            end=slot.end,
            occupied=occupied,
            price_minor=offered.rules.price_minor,
            currency=offered.rules.currency,
            room_id=new_id(),
            created_at=now,
            updated_at=now,
        )
        # The decisive check: serialised with every other write on SQLite, and backed by the
        # exclusion constraints on PostgreSQL should a concurrent insert slip between.
        async with self._db.write() as tx:
            with booking_rules():
                busy = await tx.bookings.busy([counselor_id], occupied.start, occupied.end)
                if busy:
                    raise BookingRuleError("slot_taken", "the counselor is already busy then")
                await self._require_client_free(tx, principal.user_id, slot)
                await tx.bookings.add(booking, lifecycle.created(booking))
        return booking

    async def get(
        self, principal: Principal, booking_id: str
    ) -> tuple[Booking, list[BookingEvent]]:
        """A booking with its history; only its two participants may see it."""
        async with self._db.read() as tx:
            booking = await self._participant_booking(tx, principal, booking_id)
            return booking, await tx.bookings.events(booking.id)

    async def mine(
        self,
        principal: Principal,
        start: datetime | None,
        end: datetime | None,
        status: BookingStatus | None,
        limit: int,
    ) -> list[Booking]:
        """The caller's bookings starting in `[start, end)` (default: the last 30 days on)."""
        now = self._clock.now()
        start = start or now - LIST_PAST
        end = end or start + LIST_AHEAD
        async with self._db.read() as tx:
            return await tx.bookings.of_user(
                principal.user_id, start, end, [status] if status else [], limit
            )

    async def confirm(self, principal: Principal, booking_id: str) -> Booking:
        async def step(_: Transaction, booking: Booking) -> lifecycle.Change:
            return lifecycle.confirm(booking, principal.user_id, self._clock.now())

        return await self._apply(principal, booking_id, step)

    async def decline(self, principal: Principal, booking_id: str, reason: str | None) -> Booking:
        async def step(_: Transaction, booking: Booking) -> lifecycle.Change:
            return lifecycle.decline(booking, principal.user_id, self._clock.now(), reason)

        return await self._apply(principal, booking_id, step)

    async def cancel(self, principal: Principal, booking_id: str, reason: str) -> Booking:
        """Either party cancels before the start; inside the late window it is recorded late."""

        async def step(_: Transaction, booking: Booking) -> lifecycle.Change:
            now = self._clock.now()
            return lifecycle.cancel(
                booking, principal.user_id, now, reason, self._late_cancel_hours
            )

        return await self._apply(principal, booking_id, step)

    async def reschedule(
        self, principal: Principal, booking_id: str, start: datetime, reason: str | None
    ) -> Booking:
        """Move a live booking to another free slot under its session type's rules."""

        async def step(tx: Transaction, booking: Booking) -> lifecycle.Change:
            lifecycle.check_movable(booking, principal.user_id)
            now = self._clock.now()
            offered = await tx.session_types.get(booking.session_type_id)
            assert offered is not None  # session types are retired, never deleted
            schedule, overrides = await self._rules_of(tx, booking.counselor_id, start)
            busy = await tx.bookings.busy(
                [booking.counselor_id], *_around(start, offered), exclude=booking.id
            )
            slot = check_reschedulable(
                schedule,
                overrides,
                offered.rules,
                busy.get(booking.counselor_id, []),
                now,
                booking.start,
                start,
            )
            await self._require_client_free(tx, booking.client_id, slot, exclude=booking.id)
            late = cancellation_terms(booking.start, now, self._late_cancel_hours).late
            return lifecycle.reschedule(
                booking,
                principal.user_id,
                now,
                slot,
                occupied_span(slot.start, offered.rules),
                requires_confirmation=offered.rules.requires_confirmation,
                late=late,
                reason=reason,
            )

        return await self._apply(principal, booking_id, step)

    async def join(self, principal: Principal, booking_id: str) -> SessionRoom:
        """Enter the session room from `join_early` before the start until the end; the first
        join by either participant records the actual start."""

        async def step(_: Transaction, booking: Booking) -> lifecycle.Change | None:
            return lifecycle.join(booking, principal.user_id, self._clock.now(), self._join_early)

        booking = await self._apply(principal, booking_id, step)
        conversation = await self._conversations.open_direct(
            booking.counselor_id, booking.client_id
        )
        return SessionRoom(booking, booking.room_id, conversation.id)

    async def end(self, principal: Principal, booking_id: str) -> Booking:
        async def step(_: Transaction, booking: Booking) -> lifecycle.Change:
            return lifecycle.end(booking, principal.user_id, self._clock.now())

        return await self._apply(principal, booking_id, step)

    async def no_show(self, principal: Principal, booking_id: str, reason: str | None) -> Booking:
        async def step(_: Transaction, booking: Booking) -> lifecycle.Change:
            return lifecycle.mark_no_show(booking, principal.user_id, self._clock.now(), reason)

        return await self._apply(principal, booking_id, step)

    async def _apply(self, principal: Principal, booking_id: str, step: Step) -> Booking:
        """Run one change on a locked booking in one transaction; announce it after commit."""

        async def write() -> lifecycle.Change | Booking:
            async with self._db.write() as tx:
                booking = await self._participant_booking(tx, principal, booking_id, lock=True)
                with booking_rules():
                    change = await step(tx, booking)
                    if change is None:
                        return booking
                    await tx.bookings.change(*change)
            return change

        outcome = await retried(write)
        if isinstance(outcome, Booking):
            return outcome
        await self._after_change(outcome[0])
        return outcome[0]

    async def _after_change(self, booking: Booking) -> None:
        if booking.status is BookingStatus.CONFIRMED and booking.started_at is None:
            try:
                await self._conversations.open_direct(booking.counselor_id, booking.client_id)
            except Exception:
                # The booking stands; joining the session opens the conversation again.
                log.exception("could not open the conversation for booking %s", booking.id)
        await self._realtime.to_users(
            booking.participant_ids, BOOKING_UPDATED, booking_event_payload(booking)
        )

    async def _bookable(
        self,
        tx: Transaction,
        counselor_id: str,
        offered: OfferedSessionType,
        now: datetime,
        start: datetime,
    ) -> tuple[Slot, Busy]:
        schedule, overrides = await self._rules_of(tx, counselor_id, start)
        busy = await tx.bookings.busy([counselor_id], *_around(start, offered))
        slot = check_bookable(
            schedule, overrides, offered.rules, busy.get(counselor_id, []), now, start
        )
        return slot, occupied_span(slot.start, offered.rules)

    @staticmethod
    async def _rules_of(
        tx: Transaction, counselor_id: str, start: datetime
    ) -> tuple[WeeklySchedule, list[DateOverride]]:
        schedule = await tx.availability.schedule(counselor_id)
        if schedule is None:
            raise BookingRuleError("outside_availability", "the counselor has no hours yet")
        overrides = await tx.availability.overrides(
            [counselor_id], (start - 2 * _DAY).date(), (start + 3 * _DAY).date()
        )
        return schedule, overrides.get(counselor_id, [])

    @staticmethod
    async def _require_client_free(
        tx: Transaction, client_id: str, slot: Slot, *, exclude: str = ""
    ) -> None:
        if await tx.bookings.client_busy(client_id, slot.start, slot.end, exclude=exclude):
            raise overlapping_booking()

    @staticmethod
    async def _participant_booking(
        tx: Transaction, principal: Principal, booking_id: str, *, lock: bool = False
    ) -> Booking:
        booking = await tx.bookings.get(booking_id, for_update=lock)
        if booking is None or booking.party_of(principal.user_id) is None:
            raise booking_not_found()
        return booking


def _around(start: datetime, offered: OfferedSessionType) -> tuple[datetime, datetime]:
    """The occupied span a session starting at `start` would have: the busy query's range."""
    span = occupied_span(start, offered.rules)
    return span.start, span.end
