"""A unit of work: one session, the repositories of every aggregate bound to it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rtserver.store.accounts import DeviceRepository, RefreshTokenRepository, UserRepository
from rtserver.store.chat import ConversationRepository, MessageRepository


class Transaction:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.devices = DeviceRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.conversations = ConversationRepository(session)
        self.messages = MessageRepository(session)
