"""A unit of work: one session, the repositories of every aggregate bound to it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rtserver.store.accounts import DeviceRepository, RefreshTokenRepository, UserRepository
from rtserver.store.audit import AuditRepository
from rtserver.store.booking import (
    AvailabilityRepository,
    BookingRepository,
    CalendarFeedRepository,
    SessionTypeRepository,
)
from rtserver.store.calls import CallRepository
from rtserver.store.chat import ConversationRepository, MessageRepository
from rtserver.store.keys import KeyRepository
from rtserver.store.notifications import NotificationRepository
from rtserver.store.screening import ScreeningRepository


class Transaction:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.devices = DeviceRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.conversations = ConversationRepository(session)
        self.messages = MessageRepository(session)
        self.calls = CallRepository(session)
        self.keys = KeyRepository(session)
        self.availability = AvailabilityRepository(session)
        self.session_types = SessionTypeRepository(session)
        self.bookings = BookingRepository(session)
        self.calendar_feeds = CalendarFeedRepository(session)
        self.screening = ScreeningRepository(session)
        self.notifications = NotificationRepository(session)
        self.audit = AuditRepository(session)
