"""Repositories for availability, session types, bookings with their history, calendar feeds."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rtserver.domain.accounts import Role
from rtserver.domain.booking import (
    LIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    Busy,
    DateOverride,
    EventKind,
    LocalRange,
    OfferedSessionType,
    Party,
    SessionType,
    Weekday,
    WeeklySchedule,
)
from rtserver.store.booking_tables import (
    BookingEventRow,
    BookingRow,
    CalendarFeedRow,
    CounselorScheduleRow,
    DateOverrideRow,
    SessionTypeRow,
)
from rtserver.store.tables import UserRow

_LIVE = [status.value for status in LIVE_STATUSES]
_TRANSIENT = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


class BookingOverlap(Exception):
    """The database refused a live booking overlapping another: `whose` is whose time it was."""

    def __init__(self, whose: Party) -> None:
        super().__init__(f"overlaps a live booking of the {whose.value}")
        self.whose = whose


class WriteConflict(Exception):
    """PostgreSQL aborted the transaction to break a deadlock (two inserts each waiting on the
    other's exclusion check) or a serialisation conflict: run it again."""


def _ranges_json(ranges: Iterable[LocalRange]) -> list[list[str]]:
    return [[r.start.isoformat(), r.end.isoformat()] for r in ranges]


def _ranges(raw: list[list[str]]) -> list[LocalRange]:
    return [LocalRange(time.fromisoformat(start), time.fromisoformat(end)) for start, end in raw]


def _schedule(row: CounselorScheduleRow) -> WeeklySchedule:
    week = json.loads(row.week)
    return WeeklySchedule(row.time_zone, {Weekday(int(d)): _ranges(r) for d, r in week.items()})


def _session_type(row: SessionTypeRow) -> OfferedSessionType:
    return OfferedSessionType(
        id=row.id,
        counselor_id=row.counselor_id,
        name=row.name,
        rules=SessionType(
            duration_minutes=row.duration_minutes,
            slot_interval_minutes=row.slot_interval_minutes,
            buffer_before_minutes=row.buffer_before_minutes,
            buffer_after_minutes=row.buffer_after_minutes,
            min_notice_minutes=row.min_notice_minutes,
            booking_window_days=row.booking_window_days,
            price_minor=row.price_minor,
            currency=row.currency,
            requires_confirmation=row.requires_confirmation,
        ),
        active=row.active,
        created_at=row.created_at,
    )


def _session_type_values(offered: OfferedSessionType) -> dict[str, object]:
    rules = offered.rules
    return {
        "name": offered.name,
        "duration_minutes": rules.duration_minutes,
        "slot_interval_minutes": rules.slot_interval_minutes,
        "buffer_before_minutes": rules.buffer_before_minutes,
        "buffer_after_minutes": rules.buffer_after_minutes,
        "min_notice_minutes": rules.min_notice_minutes,
        "booking_window_days": rules.booking_window_days,
        "price_minor": rules.price_minor,
        "currency": rules.currency,
        "requires_confirmation": rules.requires_confirmation,
        "active": offered.active,
    }


def _booking(row: BookingRow) -> Booking:
    return Booking(
        id=row.id,
        counselor_id=row.counselor_id,
        client_id=row.client_id,
        session_type_id=row.session_type_id,
        status=BookingStatus(row.status),
        start=row.start_at,
        end=row.end_at,
        occupied=Busy(row.occupied_start, row.occupied_end),
        price_minor=row.price_minor,
        currency=row.currency,
        room_id=row.room_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sequence=row.sequence,
        cancelled_by=Party(row.cancelled_by) if row.cancelled_by else None,
        cancel_reason=row.cancel_reason,
        late_cancel=row.late_cancel,
        client_joined_at=row.client_joined_at,
        counselor_joined_at=row.counselor_joined_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


def _booking_values(booking: Booking) -> dict[str, object]:
    """The columns a change may touch (ids, parties, type, price and room never change)."""
    return {
        "status": booking.status.value,
        "start_at": booking.start,
        "end_at": booking.end,
        "occupied_start": booking.occupied.start,
        "occupied_end": booking.occupied.end,
        "sequence": booking.sequence,
        "updated_at": booking.updated_at,
        "cancelled_by": booking.cancelled_by.value if booking.cancelled_by else None,
        "cancel_reason": booking.cancel_reason,
        "late_cancel": booking.late_cancel,
        "client_joined_at": booking.client_joined_at,
        "counselor_joined_at": booking.counselor_joined_at,
        "started_at": booking.started_at,
        "ended_at": booking.ended_at,
    }


def _event(row: BookingEventRow) -> BookingEvent:
    return BookingEvent(
        booking_id=row.booking_id,
        kind=EventKind(row.kind),
        at=row.at,
        actor_id=row.actor_id,
        reason=row.reason,
        from_start=row.from_start,
        from_end=row.from_end,
        to_start=row.to_start,
        to_end=row.to_end,
        late=row.late,
    )


@contextmanager
def _overlaps_refused() -> Iterator[None]:
    """Exclusion-constraint violations (PostgreSQL) as `BookingOverlap`, an aborted deadlock
    between two such checks as `WriteConflict`; anything else propagates."""
    try:
        yield
    except IntegrityError as exc:
        text = str(exc.orig)
        if "ex_bookings_counselor_overlap" in text:
            raise BookingOverlap(Party.COUNSELOR) from exc
        if "ex_bookings_client_overlap" in text:
            raise BookingOverlap(Party.CLIENT) from exc
        raise
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in _TRANSIENT:
            raise WriteConflict from exc
        raise


class AvailabilityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def is_counselor(self, user_id: str) -> bool:
        """True for an active counselor account."""
        row = await self._session.get(UserRow, user_id)
        return row is not None and row.role == Role.COUNSELOR.value and row.disabled_at is None

    async def schedule(self, counselor_id: str) -> WeeklySchedule | None:
        row = await self._session.get(CounselorScheduleRow, counselor_id)
        return _schedule(row) if row else None

    async def schedules(self, counselor_ids: Collection[str]) -> dict[str, WeeklySchedule]:
        rows = await self._session.execute(
            select(CounselorScheduleRow).where(CounselorScheduleRow.counselor_id.in_(counselor_ids))
        )
        return {row.counselor_id: _schedule(row) for row in rows.scalars()}

    async def put_schedule(self, counselor_id: str, schedule: WeeklySchedule, at: datetime) -> None:
        week = json.dumps({str(int(d)): _ranges_json(r) for d, r in schedule.week.items()})
        row = await self._session.get(CounselorScheduleRow, counselor_id)
        if row is None:
            self._session.add(
                CounselorScheduleRow(
                    counselor_id=counselor_id,
                    time_zone=schedule.time_zone,
                    week=week,
                    updated_at=at,
                )
            )
        else:
            row.time_zone, row.week, row.updated_at = schedule.time_zone, week, at
        await self._session.flush()

    async def overrides(
        self, counselor_ids: Collection[str], first: date, last: date
    ) -> dict[str, list[DateOverride]]:
        """Each counselor's overrides for local dates in `[first, last]`, by date."""
        rows = await self._session.execute(
            select(DateOverrideRow)
            .where(
                DateOverrideRow.counselor_id.in_(counselor_ids),
                DateOverrideRow.day >= first,
                DateOverrideRow.day <= last,
            )
            .order_by(DateOverrideRow.counselor_id, DateOverrideRow.day)
        )
        found: dict[str, list[DateOverride]] = {}
        for row in rows.scalars():
            override = DateOverride(row.day, _ranges(json.loads(row.ranges)))
            found.setdefault(row.counselor_id, []).append(override)
        return found

    async def put_override(self, counselor_id: str, override: DateOverride) -> None:
        ranges = json.dumps(_ranges_json(override.ranges))
        row = await self._session.get(DateOverrideRow, (counselor_id, override.day))
        if row is None:
            self._session.add(
                DateOverrideRow(counselor_id=counselor_id, day=override.day, ranges=ranges)
            )
        else:
            row.ranges = ranges
        await self._session.flush()

    async def delete_override(self, counselor_id: str, day: date) -> bool:
        result = await self._session.execute(
            delete(DateOverrideRow).where(
                DateOverrideRow.counselor_id == counselor_id, DateOverrideRow.day == day
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SessionTypeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, offered: OfferedSessionType) -> None:
        self._session.add(
            SessionTypeRow(
                id=offered.id,
                counselor_id=offered.counselor_id,
                created_at=offered.created_at,
                **_session_type_values(offered),
            )
        )
        await self._session.flush()

    async def replace(self, offered: OfferedSessionType) -> None:
        await self._session.execute(
            update(SessionTypeRow)
            .where(SessionTypeRow.id == offered.id)
            .values(**_session_type_values(offered))
        )

    async def get(self, session_type_id: str) -> OfferedSessionType | None:
        row = await self._session.get(SessionTypeRow, session_type_id)
        return _session_type(row) if row else None

    async def of_counselor(self, counselor_id: str) -> list[OfferedSessionType]:
        """The counselor's active session types, oldest first."""
        rows = await self._session.execute(
            select(SessionTypeRow)
            .where(SessionTypeRow.counselor_id == counselor_id, SessionTypeRow.active.is_(True))
            .order_by(SessionTypeRow.created_at, SessionTypeRow.id)
        )
        return [_session_type(row) for row in rows.scalars()]

    async def lasting(self, minutes: int) -> list[OfferedSessionType]:
        """Active session types of that length offered by active counselors with a schedule."""
        rows = await self._session.execute(
            select(SessionTypeRow)
            .join(UserRow, UserRow.id == SessionTypeRow.counselor_id)
            .join(
                CounselorScheduleRow,
                CounselorScheduleRow.counselor_id == SessionTypeRow.counselor_id,
            )
            .where(
                SessionTypeRow.duration_minutes == minutes,
                SessionTypeRow.active.is_(True),
                UserRow.disabled_at.is_(None),
                UserRow.role == Role.COUNSELOR.value,
            )
            .order_by(SessionTypeRow.created_at, SessionTypeRow.id)
        )
        return [_session_type(row) for row in rows.scalars()]


class BookingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, booking: Booking, events: Iterable[BookingEvent]) -> None:
        """Insert a booking and its first history; `BookingOverlap` if the database refuses."""
        self._session.add(
            BookingRow(
                id=booking.id,
                counselor_id=booking.counselor_id,
                client_id=booking.client_id,
                session_type_id=booking.session_type_id,
                price_minor=booking.price_minor,
                currency=booking.currency,
                room_id=booking.room_id,
                created_at=booking.created_at,
                **_booking_values(booking),
            )
        )
        with _overlaps_refused():
            await self._session.flush()
        await self.add_events(events)

    async def change(self, booking: Booking, event: BookingEvent) -> None:
        """Store a changed booking and the history entry that says why."""
        with _overlaps_refused():
            await self._session.execute(
                update(BookingRow)
                .where(BookingRow.id == booking.id)
                .values(**_booking_values(booking))
            )
        await self.add_events([event])

    async def add_events(self, events: Iterable[BookingEvent]) -> None:
        for event in events:
            self._session.add(
                BookingEventRow(
                    booking_id=event.booking_id,
                    kind=event.kind.value,
                    actor_id=event.actor_id,
                    at=event.at,
                    reason=event.reason,
                    from_start=event.from_start,
                    from_end=event.from_end,
                    to_start=event.to_start,
                    to_end=event.to_end,
                    late=event.late,
                )
            )
        await self._session.flush()

    async def get(self, booking_id: str, *, for_update: bool = False) -> Booking | None:
        """One booking; `for_update` locks its row until commit (PostgreSQL; SQLite has one
        writer anyway)."""
        query = select(BookingRow).where(BookingRow.id == booking_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).scalar_one_or_none()
        return _booking(row) if row else None

    async def events(self, booking_id: str) -> list[BookingEvent]:
        rows = await self._session.execute(
            select(BookingEventRow)
            .where(BookingEventRow.booking_id == booking_id)
            .order_by(BookingEventRow.id)
        )
        return [_event(row) for row in rows.scalars()]

    async def busy(
        self, counselor_ids: Collection[str], start: datetime, end: datetime, *, exclude: str = ""
    ) -> dict[str, list[Busy]]:
        """Occupied spans of live bookings overlapping `[start, end)`, per counselor."""
        rows = await self._session.execute(
            select(BookingRow.counselor_id, BookingRow.occupied_start, BookingRow.occupied_end)
            .where(
                BookingRow.counselor_id.in_(counselor_ids),
                BookingRow.status.in_(_LIVE),
                BookingRow.occupied_start < end,
                BookingRow.occupied_end > start,
                BookingRow.id != exclude,
            )
            .order_by(BookingRow.occupied_start)
        )
        found: dict[str, list[Busy]] = {}
        for counselor_id, occupied_start, occupied_end in rows:
            found.setdefault(counselor_id, []).append(Busy(occupied_start, occupied_end))
        return found

    async def client_busy(
        self, client_id: str, start: datetime, end: datetime, *, exclude: str = ""
    ) -> bool:
        """Whether the client has another live booking overlapping `[start, end)`."""
        found = await self._session.execute(
            select(BookingRow.id)
            .where(
                BookingRow.client_id == client_id,
                BookingRow.status.in_(_LIVE),
                BookingRow.start_at < end,
                BookingRow.end_at > start,
                BookingRow.id != exclude,
            )
            .limit(1)
        )
        return found.first() is not None

    async def of_user(
        self,
        user_id: str,
        start: datetime,
        end: datetime,
        statuses: Collection[BookingStatus],
        limit: int,
    ) -> list[Booking]:
        """A participant's bookings starting in `[start, end)`, earliest first."""
        query = select(BookingRow).where(
            (BookingRow.client_id == user_id) | (BookingRow.counselor_id == user_id),
            BookingRow.start_at >= start,
            BookingRow.start_at < end,
        )
        if statuses:
            query = query.where(BookingRow.status.in_([s.value for s in statuses]))
        rows = await self._session.execute(
            query.order_by(BookingRow.start_at, BookingRow.id).limit(limit)
        )
        return [_booking(row) for row in rows.scalars()]

    async def live_count(self, counselor_id: str) -> int:
        rows = await self._session.execute(
            select(BookingRow.id).where(
                BookingRow.counselor_id == counselor_id, BookingRow.status.in_(_LIVE)
            )
        )
        return len(rows.all())


class CalendarFeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(self, user_id: str, token_hash: str, at: datetime) -> None:
        """Create or replace the user's feed token."""
        await self._session.execute(
            delete(CalendarFeedRow).where(CalendarFeedRow.user_id == user_id)
        )
        self._session.add(CalendarFeedRow(user_id=user_id, token_hash=token_hash, created_at=at))
        await self._session.flush()

    async def created_at(self, user_id: str) -> datetime | None:
        row = await self._session.get(CalendarFeedRow, user_id)
        return row.created_at if row else None

    async def owner(self, token_hash: str) -> str | None:
        """The active user whose feed token has this hash."""
        found = await self._session.execute(
            select(CalendarFeedRow.user_id)
            .join(UserRow, UserRow.id == CalendarFeedRow.user_id)
            .where(CalendarFeedRow.token_hash == token_hash, UserRow.disabled_at.is_(None))
        )
        return found.scalar_one_or_none()

    async def delete(self, user_id: str) -> bool:
        result = await self._session.execute(
            delete(CalendarFeedRow).where(CalendarFeedRow.user_id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
