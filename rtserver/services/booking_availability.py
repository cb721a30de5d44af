"""Counselor availability and session types (the counselor edits their own, everyone signed in
reads them), and free-slot search for one counselor or across counselors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rtserver.clock import Clock
from rtserver.domain.accounts import Principal
from rtserver.domain.booking import (
    CounselorAvailability,
    DateOverride,
    InvalidBookingInput,
    LocalRange,
    LocalSlot,
    OfferedSessionType,
    SessionType,
    Slot,
    Weekday,
    WeeklySchedule,
    free_slots_many,
    to_viewer,
)
from rtserver.domain.booking.schedule import load_zone
from rtserver.errors import NotFound
from rtserver.ids import new_id
from rtserver.services.booking_errors import (
    booking_rules,
    counselor_not_found,
    not_your_availability,
    session_type_not_found,
)
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction

WallRange = tuple[time, time]
OVERRIDES_AHEAD = timedelta(days=400)
# Local dates differ from UTC dates by at most a day; a session plus buffers spans at most 3.
_DAY_MARGIN = timedelta(days=2)
_BUSY_MARGIN = timedelta(days=3)
# Free-slot search over more counselors than this runs in a thread, off the event loop.
_THREAD_ABOVE = 20


@dataclass(frozen=True)
class Availability:
    counselor_id: str
    schedule: WeeklySchedule | None
    overrides: Sequence[DateOverride]


@dataclass(frozen=True, kw_only=True)
class SessionTypeDraft:
    """A session type as a counselor writes it; `requires_confirmation=None` takes the default."""

    name: str
    duration_minutes: int
    slot_interval_minutes: int | None
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    booking_window_days: int
    price_minor: int
    currency: str
    requires_confirmation: bool | None


@dataclass(frozen=True)
class OfferedSlot:
    counselor_id: str
    session_type_id: str
    slot: Slot
    local: LocalSlot


@dataclass(frozen=True)
class SlotPage:
    time_zone: str
    slots: list[OfferedSlot]
    truncated: bool


def _ranges(ranges: Sequence[WallRange]) -> list[LocalRange]:
    return [LocalRange(start, end) for start, end in ranges]


class AvailabilityService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        requires_confirmation_default: bool,
        max_search_days: int,
        max_results: int,
    ) -> None:
        self._db = database
        self._clock = clock
        self._requires_confirmation_default = requires_confirmation_default
        self._max_search = timedelta(days=max_search_days)
        self._max_results = max_results

    async def availability(self, counselor_id: str) -> Availability:
        async with self._db.read() as tx:
            await self._require_counselor(tx, counselor_id)
            return await self._availability(tx, counselor_id)

    async def set_schedule(
        self,
        principal: Principal,
        counselor_id: str,
        time_zone: str,
        week: Mapping[Weekday, Sequence[WallRange]],
    ) -> Availability:
        self._require_self(principal, counselor_id)
        with booking_rules():
            schedule = WeeklySchedule(time_zone, {day: _ranges(r) for day, r in week.items()})
        async with self._db.write() as tx:
            await self._require_counselor(tx, counselor_id)
            await tx.availability.put_schedule(counselor_id, schedule, self._clock.now())
            return await self._availability(tx, counselor_id)

    async def set_override(
        self, principal: Principal, counselor_id: str, day: date, ranges: Sequence[WallRange]
    ) -> Availability:
        """Other hours on one local date of the counselor; no ranges = a day off."""
        self._require_self(principal, counselor_id)
        with booking_rules():
            override = DateOverride(day, _ranges(ranges))
        async with self._db.write() as tx:
            await self._require_counselor(tx, counselor_id)
            await tx.availability.put_override(counselor_id, override)
            return await self._availability(tx, counselor_id)

    async def remove_override(self, principal: Principal, counselor_id: str, day: date) -> None:
        self._require_self(principal, counselor_id)
        async with self._db.write() as tx:
            await self._require_counselor(tx, counselor_id)
            if not await tx.availability.delete_override(counselor_id, day):
                raise NotFound("no override on that date", code="override_not_found")

    async def session_types(self, counselor_id: str) -> list[OfferedSessionType]:
        async with self._db.read() as tx:
            await self._require_counselor(tx, counselor_id)
            return await tx.session_types.of_counselor(counselor_id)

    async def add_session_type(
        self, principal: Principal, counselor_id: str, draft: SessionTypeDraft
    ) -> OfferedSessionType:
        self._require_self(principal, counselor_id)
        offered = OfferedSessionType(
            id=new_id(),
            counselor_id=counselor_id,
            name=draft.name,
            rules=self._rules(draft),
            created_at=self._clock.now(),
        )
        async with self._db.write() as tx:
            await self._require_counselor(tx, counselor_id)
            await tx.session_types.add(offered)
        return offered

    async def replace_session_type(
        self, principal: Principal, counselor_id: str, session_type_id: str, draft: SessionTypeDraft
    ) -> OfferedSessionType:
        """New terms for future bookings; existing bookings keep their time and price."""
        self._require_self(principal, counselor_id)
        rules = self._rules(draft)
        async with self._db.write() as tx:
            current = await self._own_type(tx, counselor_id, session_type_id)
            changed = OfferedSessionType(
                id=current.id,
                counselor_id=counselor_id,
                name=draft.name,
                rules=rules,
                created_at=current.created_at,
            )
            await tx.session_types.replace(changed)
        return changed

    async def retire_session_type(
        self, principal: Principal, counselor_id: str, session_type_id: str
    ) -> None:
        """No new bookings of this type; the ones made keep it."""
        self._require_self(principal, counselor_id)
        async with self._db.write() as tx:
            current = await self._own_type(tx, counselor_id, session_type_id)
            await tx.session_types.replace(
                OfferedSessionType(
                    id=current.id,
                    counselor_id=counselor_id,
                    name=current.name,
                    rules=current.rules,
                    active=False,
                    created_at=current.created_at,
                )
            )

    async def slots(
        self,
        counselor_id: str,
        session_type_id: str,
        start: datetime,
        end: datetime,
        viewer_tz: str,
    ) -> SlotPage:
        """One counselor's free slots of one session type starting in `[start, end)`."""
        zone = self._check_query(start, end, viewer_tz)
        async with self._db.read() as tx:
            await self._require_counselor(tx, counselor_id)
            offered = await tx.session_types.get(session_type_id)
            if offered is None or offered.counselor_id != counselor_id or not offered.active:
                raise session_type_not_found()
            limit = self._max_results
            found = await self._search(tx, {counselor_id: offered}, start, end, limit)
        return self._page(found, {counselor_id: offered}, zone, limit)

    async def matching_slots(
        self, session_minutes: int, start: datetime, end: datetime, viewer_tz: str, limit: int
    ) -> SlotPage:
        """Free slots of every counselor offering a session of that length (their oldest such
        type), earliest first."""
        zone = self._check_query(start, end, viewer_tz)
        async with self._db.read() as tx:
            chosen: dict[str, OfferedSessionType] = {}
            for offered in await tx.session_types.lasting(session_minutes):
                chosen.setdefault(offered.counselor_id, offered)
            limit = min(limit, self._max_results)
            found = await self._search(tx, chosen, start, end, limit)
        return self._page(found, chosen, zone, limit)

    async def seed_offer(
        self,
        login: str,
        time_zone: str,
        week: Mapping[Weekday, Sequence[WallRange]],
        draft: SessionTypeDraft,
    ) -> None:
        """Give the counselor with this login these hours and this session type (unless one of
        that name exists). For seeding demo data, not an API use case: no caller is checked."""
        with booking_rules():
            schedule = WeeklySchedule(time_zone, {day: _ranges(r) for day, r in week.items()})
        rules = self._rules(draft)
        now = self._clock.now()
        async with self._db.write() as tx:
            found = await tx.users.by_login(login)
            if found is None or not await tx.availability.is_counselor(found[0].id):
                raise counselor_not_found()
            counselor_id = found[0].id
            await tx.availability.put_schedule(counselor_id, schedule, now)
            offered = await tx.session_types.of_counselor(counselor_id)
            if all(existing.name != draft.name for existing in offered):
                await tx.session_types.add(
                    OfferedSessionType(
                        id=new_id(),
                        counselor_id=counselor_id,
                        name=draft.name,
                        rules=rules,
                        created_at=now,
                    )
                )

    async def _search(
        self,
        tx: Transaction,
        chosen: Mapping[str, OfferedSessionType],
        start: datetime,
        end: datetime,
        limit: int,
    ) -> list[tuple[str, Slot]]:
        """The first `limit + 1` free slots (one more tells whether there are more)."""
        if not chosen:
            return []
        ids = list(chosen)
        schedules = await tx.availability.schedules(ids)
        overrides = await tx.availability.overrides(
            ids, (start - _DAY_MARGIN).date(), (end + _DAY_MARGIN).date()
        )
        busy = await tx.bookings.busy(ids, start - _BUSY_MARGIN, end + _BUSY_MARGIN)
        inputs = {
            counselor_id: CounselorAvailability(
                schedule=schedules[counselor_id],
                session_type=offered.rules,
                overrides=overrides.get(counselor_id, ()),
                busy=busy.get(counselor_id, ()),
            )
            for counselor_id, offered in chosen.items()
            if counselor_id in schedules
        }
        now = self._clock.now()
        with booking_rules():
            if len(inputs) > _THREAD_ABOVE:
                found = await asyncio.to_thread(free_slots_many, inputs, now, start, end, limit + 1)
            else:
                found = free_slots_many(inputs, now, start, end, limit + 1)
        return [(item.counselor_id, item.slot) for item in found]

    def _page(
        self,
        found: list[tuple[str, Slot]],
        chosen: Mapping[str, OfferedSessionType],
        zone: ZoneInfo,
        limit: int,
    ) -> SlotPage:
        shown = [
            OfferedSlot(counselor_id, chosen[counselor_id].id, slot, to_viewer(slot, zone))
            for counselor_id, slot in found[:limit]
        ]
        return SlotPage(zone.key, shown, truncated=len(found) > limit)

    def _check_query(self, start: datetime, end: datetime, viewer_tz: str) -> ZoneInfo:
        with booking_rules():
            zone = load_zone(viewer_tz)
            if start >= end:
                raise InvalidBookingInput("invalid_range", "`from` must be before `to`")
            if end - start > self._max_search:
                raise InvalidBookingInput(
                    "invalid_range", f"search at most {self._max_search.days} days at once"
                )
        return zone

    def _rules(self, draft: SessionTypeDraft) -> SessionType:
        interval = draft.slot_interval_minutes
        if interval is None:
            interval = draft.duration_minutes + draft.buffer_before_minutes
            interval += draft.buffer_after_minutes
        requires = draft.requires_confirmation
        with booking_rules():
            return SessionType(
                duration_minutes=draft.duration_minutes,
                slot_interval_minutes=interval,
                buffer_before_minutes=draft.buffer_before_minutes,
                buffer_after_minutes=draft.buffer_after_minutes,
                min_notice_minutes=draft.min_notice_minutes,
                booking_window_days=draft.booking_window_days,
                price_minor=draft.price_minor,
                currency=draft.currency,
                requires_confirmation=(
                    self._requires_confirmation_default if requires is None else requires
                ),
            )

    async def _availability(self, tx: Transaction, counselor_id: str) -> Availability:
        today = self._clock.now().date() - timedelta(days=1)
        overrides = await tx.availability.overrides([counselor_id], today, today + OVERRIDES_AHEAD)
        return Availability(
            counselor_id,
            await tx.availability.schedule(counselor_id),
            overrides.get(counselor_id, []),
        )

    async def _own_type(
        self, tx: Transaction, counselor_id: str, session_type_id: str
    ) -> OfferedSessionType:
        await self._require_counselor(tx, counselor_id)
        offered = await tx.session_types.get(session_type_id)
        if offered is None or offered.counselor_id != counselor_id or not offered.active:
            raise session_type_not_found()
        return offered

    @staticmethod
    def _require_self(principal: Principal, counselor_id: str) -> None:
        if principal.user_id != counselor_id:
            raise not_your_availability()

    @staticmethod
    async def _require_counselor(tx: Transaction, counselor_id: str) -> None:
        if not await tx.availability.is_counselor(counselor_id):
            raise counselor_not_found()
