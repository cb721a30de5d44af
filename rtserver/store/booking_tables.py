"""Booking tables: counselor availability, session types, bookings with their history, and
private calendar feeds. The PostgreSQL exclusion constraints live in migration 0003_booking."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rtserver.store.tables import Base, UtcDateTime


class CounselorScheduleRow(Base):
    """A counselor's weekly hours: `week` is JSON {"0": [["09:00", "12:00"], ...], ...}."""

    __tablename__ = "counselor_schedules"

    counselor_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))
    week: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DateOverrideRow(Base):
    """Other hours on one local date (`ranges` JSON, empty = day off)."""

    __tablename__ = "counselor_date_overrides"

    counselor_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    ranges: Mapped[str] = mapped_column(Text)


class SessionTypeRow(Base):
    __tablename__ = "session_types"
    __table_args__ = (Index("ix_session_types_counselor", "counselor_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    counselor_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    slot_interval_minutes: Mapped[int] = mapped_column(Integer)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer)
    min_notice_minutes: Mapped[int] = mapped_column(Integer)
    booking_window_days: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    requires_confirmation: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BookingRow(Base):
    """One booking. `[occupied_start, occupied_end)` is the session with its buffers: two live
    bookings of a counselor never overlap in it (exclusion constraint on PostgreSQL)."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_counselor_span", "counselor_id", "occupied_start"),
        Index("ix_bookings_client_start", "client_id", "start_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    counselor_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    session_type_id: Mapped[str] = mapped_column(ForeignKey("session_types.id"))
    status: Mapped[str] = mapped_column(String(16))
    start_at: Mapped[datetime] = mapped_column(UtcDateTime())
    end_at: Mapped[datetime] = mapped_column(UtcDateTime())
    occupied_start: Mapped[datetime] = mapped_column(UtcDateTime())
    occupied_end: Mapped[datetime] = mapped_column(UtcDateTime())
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    room_id: Mapped[str] = mapped_column(String(36), unique=True)
    sequence: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    late_cancel: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    client_joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    counselor_joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class BookingEventRow(Base):
    """The history of a booking, append-only."""

    __tablename__ = "booking_events"
    __table_args__ = (Index("ix_booking_events_booking", "booking_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    from_start: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    from_end: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    to_start: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    to_end: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    late: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class CalendarFeedRow(Base):
    """A user's private calendar feed: only the SHA-256 of its random token is kept."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
