"""Repositories for conversations, members and messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rtserver.domain.chat import Conversation, ConversationKind, Member, MemberRole, Message
from rtserver.store.tables import ConversationRow, MemberRow, MessageRow


def _member(row: MemberRow) -> Member:
    return Member(
        user_id=row.user_id,
        role=MemberRole(row.role),
        joined_at=row.joined_at,
        joined_seq=row.joined_seq,
        read_seq=row.read_seq,
    )


def _message(row: MessageRow) -> Message:
    return Message(
        conversation_id=row.conversation_id,
        seq=row.seq,
        sender_id=row.sender_id,
        sender_device_id=row.sender_device_id,
        client_msg_id=row.client_msg_id,
        envelope=json.loads(row.envelope),
        sent_at=row.sent_at,
    )


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        conversation_id: str,
        kind: ConversationKind,
        title: str | None,
        pair_key: str | None,
        created_by: str,
        created_at: datetime,
        members: Sequence[tuple[str, MemberRole]],
    ) -> bool:
        """Insert; False if a direct conversation for that pair already exists."""
        try:
            async with self._session.begin_nested():
                self._session.add(
                    ConversationRow(
                        id=conversation_id,
                        kind=kind.value,
                        title=title,
                        pair_key=pair_key,
                        created_by=created_by,
                        created_at=created_at,
                        last_seq=0,
                    )
                )
                await self._session.flush()
                for user_id, role in members:
                    self._session.add(
                        MemberRow(
                            conversation_id=conversation_id,
                            user_id=user_id,
                            role=role.value,
                            joined_at=created_at,
                            joined_seq=0,
                            read_seq=0,
                        )
                    )
                await self._session.flush()
        except IntegrityError:
            if pair_key is None:
                raise
            return False
        return True

    async def by_pair(self, pair_key: str) -> Conversation | None:
        row = (
            await self._session.execute(
                select(ConversationRow).where(ConversationRow.pair_key == pair_key)
            )
        ).scalar_one_or_none()
        return await self._with_members(row) if row else None

    async def get(self, conversation_id: str) -> Conversation | None:
        row = await self._session.get(ConversationRow, conversation_id)
        return await self._with_members(row) if row else None

    async def of_user(self, user_id: str) -> list[Conversation]:
        rows = (
            await self._session.execute(
                select(ConversationRow)
                .join(MemberRow, MemberRow.conversation_id == ConversationRow.id)
                .where(MemberRow.user_id == user_id)
                .order_by(ConversationRow.created_at)
            )
        ).scalars()
        return [await self._with_members(row) for row in rows]

    async def positions_of(self, user_id: str) -> dict[str, tuple[int, int]]:
        """Each conversation of the user: (its last seq, the seq the user joined at); one
        statement, for `sync` (of_user loads every member of every conversation)."""
        rows = await self._session.execute(
            select(ConversationRow.id, ConversationRow.last_seq, MemberRow.joined_seq)
            .join(MemberRow, MemberRow.conversation_id == ConversationRow.id)
            .where(MemberRow.user_id == user_id)
        )
        return {cid: (int(last), int(joined)) for cid, last, joined in rows}

    async def member(self, conversation_id: str, user_id: str) -> Member | None:
        row = await self._session.get(MemberRow, (conversation_id, user_id))
        return _member(row) if row else None

    async def member_ids(self, conversation_id: str) -> list[str]:
        return list(
            (
                await self._session.execute(
                    select(MemberRow.user_id).where(MemberRow.conversation_id == conversation_id)
                )
            ).scalars()
        )

    async def contacts_of(self, user_id: str) -> set[str]:
        """Everyone who shares at least one conversation with the user."""
        mine = select(MemberRow.conversation_id).where(MemberRow.user_id == user_id)
        rows = await self._session.execute(
            select(MemberRow.user_id)
            .where(MemberRow.conversation_id.in_(mine), MemberRow.user_id != user_id)
            .distinct()
        )
        return set(rows.scalars())

    async def add_member(
        self, conversation_id: str, user_id: str, role: MemberRole, at: datetime
    ) -> bool:
        last_seq = await self.lock(conversation_id)
        if await self._session.get(MemberRow, (conversation_id, user_id)):
            return False
        self._session.add(
            MemberRow(
                conversation_id=conversation_id,
                user_id=user_id,
                role=role.value,
                joined_at=at,
                joined_seq=last_seq,
                read_seq=last_seq,
            )
        )
        await self._session.flush()
        return True

    async def remove_member(self, conversation_id: str, user_id: str) -> bool:
        await self.lock(conversation_id)
        result = await self._session.execute(
            delete(MemberRow).where(
                MemberRow.conversation_id == conversation_id, MemberRow.user_id == user_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def lock(self, conversation_id: str) -> int:
        """Lock the conversation row until commit (PostgreSQL; SQLite has one writer) and
        return its last seq. Membership changes take it so that they serialise with the group
        commit of messages (store.chat_batch), which reads members after taking it."""
        value = (
            await self._session.execute(
                select(ConversationRow.last_seq)
                .where(ConversationRow.id == conversation_id)
                .with_for_update()
            )
        ).scalar_one()
        return int(value)

    async def last_seq(self, conversation_id: str) -> int:
        value = (
            await self._session.execute(
                select(ConversationRow.last_seq).where(ConversationRow.id == conversation_id)
            )
        ).scalar_one()
        return int(value)

    async def mark_read(self, conversation_id: str, user_id: str, seq: int) -> int:
        """Move the read marker forward (never back); returns the marker after the update."""
        await self._session.execute(
            update(MemberRow)
            .where(
                MemberRow.conversation_id == conversation_id,
                MemberRow.user_id == user_id,
                MemberRow.read_seq < seq,
            )
            .values(read_seq=seq)
        )
        value = (
            await self._session.execute(
                select(MemberRow.read_seq).where(
                    MemberRow.conversation_id == conversation_id, MemberRow.user_id == user_id
                )
            )
        ).scalar_one()
        return int(value)

    async def _with_members(self, row: ConversationRow) -> Conversation:
        members = (
            await self._session.execute(
                select(MemberRow)
                .where(MemberRow.conversation_id == row.id)
                .order_by(MemberRow.joined_at, MemberRow.user_id)
            )
        ).scalars()
        return Conversation(
            id=row.id,
            kind=ConversationKind(row.kind),
            title=row.title,
            created_by=row.created_by,
            created_at=row.created_at,
            last_seq=row.last_seq,
            members=tuple(_member(m) for m in members),
        )


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def after(
        self, cursors: dict[str, int], floor: dict[str, int], limit: int
    ) -> list[Message]:
        """Messages after each conversation's cursor (never before the member's join), ordered
        by conversation then seq, at most `limit`."""
        if not cursors:
            return []
        clauses = [
            and_(
                MessageRow.conversation_id == conversation_id,
                MessageRow.seq > max(after, floor.get(conversation_id, 0)),
            )
            for conversation_id, after in cursors.items()
        ]
        rows = await self._session.execute(
            select(MessageRow)
            .where(or_(*clauses))
            .order_by(MessageRow.conversation_id, MessageRow.seq)
            .limit(limit)
        )
        return [_message(row) for row in rows.scalars()]

    async def before(
        self, conversation_id: str, before_seq: int | None, floor: int, limit: int
    ) -> list[Message]:
        """The page of messages just before `before_seq` (newest page when None), ascending."""
        query = select(MessageRow).where(
            MessageRow.conversation_id == conversation_id, MessageRow.seq > floor
        )
        if before_seq is not None:
            query = query.where(MessageRow.seq < before_seq)
        rows = await self._session.execute(query.order_by(MessageRow.seq.desc()).limit(limit))
        return [_message(row) for row in reversed(list(rows.scalars()))]

    async def count(self, conversation_id: str) -> int:
        return int(
            (
                await self._session.execute(
                    select(func.count()).where(MessageRow.conversation_id == conversation_id)
                )
            ).scalar_one()
        )
