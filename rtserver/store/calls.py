"""Repository for call records and quality reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rtserver.domain.calls import (
    Call,
    CallMedia,
    CallState,
    EndReason,
    QualityReport,
    Side,
)
from rtserver.store.calls_tables import CallQualityRow, CallRow


class OpenCallExists(Exception):
    """The conversation already has a call that has not ended (glare or a second invite)."""


def _call(row: CallRow) -> Call:
    return Call(
        id=row.id,
        conversation_id=row.conversation_id,
        session_id=row.session_id,
        caller_id=row.caller_id,
        caller_device_id=row.caller_device_id,
        callee_id=row.callee_id,
        answered_device_id=row.answered_device_id,
        media=CallMedia(row.media),
        media_used=tuple(CallMedia(m) for m in row.media_used.split(",") if m),
        state=CallState(row.state),
        created_at=row.created_at,
        ring_deadline=row.ring_deadline,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        end_reason=EndReason(row.end_reason) if row.end_reason else None,
        ended_by_user_id=row.ended_by_user_id,
    )


def _fields(call: Call) -> dict[str, Any]:
    return {
        "answered_device_id": call.answered_device_id,
        "media": call.media.value,
        "media_used": ",".join(m.value for m in call.media_used),
        "state": call.state.value,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "end_reason": call.end_reason.value if call.end_reason else None,
        "ended_by_user_id": call.ended_by_user_id,
    }


def _quality(row: CallQualityRow) -> QualityReport:
    return QualityReport(
        call_id=row.call_id,
        device_id=row.device_id,
        rtt_ms=row.rtt_ms,
        jitter_ms=row.jitter_ms,
        packet_loss_pct=row.packet_loss_pct,
        bitrate_kbps=row.bitrate_kbps,
        relayed=row.relayed,
        reported_at=row.reported_at,
    )


def _sid_column(side: Side) -> Any:
    return CallRow.caller_sid if side is Side.CALLER else CallRow.callee_sid


def _lost_column(side: Side) -> Any:
    return CallRow.caller_lost_at if side is Side.CALLER else CallRow.callee_lost_at


class CallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def exists(self, call_id: str) -> bool:
        return await self._session.get(CallRow, call_id) is not None

    async def add(self, call: Call, caller_sid: str) -> None:
        """Insert a ringing call; OpenCallExists if the conversation has one that has not ended."""
        row = CallRow(
            id=call.id,
            conversation_id=call.conversation_id,
            session_id=call.session_id,
            caller_id=call.caller_id,
            caller_device_id=call.caller_device_id,
            callee_id=call.callee_id,
            created_at=call.created_at,
            ring_deadline=call.ring_deadline,
            caller_sid=caller_sid,
            **_fields(call),
        )
        try:
            async with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError as exc:
            raise OpenCallExists from exc

    async def get(self, call_id: str, *, lock: bool = False) -> Call | None:
        query = select(CallRow).where(CallRow.id == call_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).scalar_one_or_none()
        return _call(row) if row else None

    async def open_in_conversation(self, conversation_id: str) -> Call | None:
        row = (
            await self._session.execute(
                select(CallRow).where(
                    CallRow.conversation_id == conversation_id, CallRow.state != "ended"
                )
            )
        ).scalar_one_or_none()
        return _call(row) if row else None

    async def in_active_call(self, user_id: str) -> bool:
        query = select(CallRow.id).where(
            CallRow.state == CallState.ACTIVE.value,
            or_(CallRow.caller_id == user_id, CallRow.callee_id == user_id),
        )
        return (await self._session.execute(query.limit(1))).first() is not None

    async def save(self, call: Call, *, expect: CallState) -> bool:
        """Write a changed call if it is still in state `expect` (the compare-and-set that makes
        the first answer win on every node); False if someone else changed it first."""
        result = await self._session.execute(
            update(CallRow)
            .where(CallRow.id == call.id, CallRow.state == expect.value)
            .values(**_fields(call))
        )
        return bool(getattr(result, "rowcount", 0))

    async def bind(self, call_id: str, side: Side, sid: str) -> None:
        """The side's device is now in the call through socket `sid` (and not lost)."""
        await self._session.execute(
            update(CallRow)
            .where(CallRow.id == call_id)
            .values({_sid_column(side): sid, _lost_column(side): None})
        )

    async def mark_lost(self, call_id: str, side: Side, sid: str, at: datetime) -> bool:
        """The side's socket `sid` is gone; ignored if the side has rebound to another socket."""
        result = await self._session.execute(
            update(CallRow)
            .where(CallRow.id == call_id, CallRow.state != "ended", _sid_column(side) == sid)
            .values({_lost_column(side): at})
        )
        return bool(getattr(result, "rowcount", 0))

    async def still_lost(self, call_id: str, side: Side, sid: str) -> bool:
        query = select(CallRow.id).where(
            CallRow.id == call_id,
            CallRow.state != "ended",
            _sid_column(side) == sid,
            _lost_column(side).is_not(None),
        )
        return (await self._session.execute(query)).first() is not None

    async def lost_before(self, call_id: str, before: datetime) -> bool:
        """A side of this call has been gone since before `before` (and has not come back)."""
        query = select(CallRow.id).where(
            CallRow.id == call_id,
            or_(CallRow.caller_lost_at <= before, CallRow.callee_lost_at <= before),
        )
        return (await self._session.execute(query)).first() is not None

    async def overdue(self, now: datetime, lost_before: datetime) -> list[tuple[str, EndReason]]:
        """Ringing calls past their deadline, and calls a side left before `lost_before`."""
        ringing = select(CallRow.id).where(
            CallRow.state == CallState.RINGING.value, CallRow.ring_deadline <= now
        )
        lost = select(CallRow.id).where(
            CallRow.state != "ended",
            or_(CallRow.caller_lost_at <= lost_before, CallRow.callee_lost_at <= lost_before),
        )
        missed = [(i, EndReason.MISSED) for i in (await self._session.scalars(ringing)).all()]
        gone = [(i, EndReason.CONNECTION_LOST) for i in (await self._session.scalars(lost)).all()]
        return missed + [g for g in gone if g[0] not in {m[0] for m in missed}]

    async def recent(self, conversation_id: str, session_id: str | None, limit: int) -> list[Call]:
        query = select(CallRow).where(CallRow.conversation_id == conversation_id)
        if session_id is not None:
            query = query.where(CallRow.session_id == session_id)
        query = query.order_by(CallRow.created_at.desc(), CallRow.id.desc()).limit(limit)
        return [_call(row) for row in (await self._session.scalars(query)).all()]

    async def live(self) -> list[Call]:
        query = select(CallRow).where(CallRow.state != "ended").order_by(CallRow.created_at)
        return [_call(row) for row in (await self._session.scalars(query)).all()]

    async def ended_since(self, since: datetime) -> list[Call]:
        query = select(CallRow).where(and_(CallRow.state == "ended", CallRow.ended_at >= since))
        return [_call(row) for row in (await self._session.scalars(query)).all()]

    async def add_quality(self, report: QualityReport) -> None:
        self._session.add(
            CallQualityRow(
                call_id=report.call_id,
                device_id=report.device_id,
                rtt_ms=report.rtt_ms,
                jitter_ms=report.jitter_ms,
                packet_loss_pct=report.packet_loss_pct,
                bitrate_kbps=report.bitrate_kbps,
                relayed=report.relayed,
                reported_at=report.reported_at,
            )
        )
        await self._session.flush()

    async def quality(self, call_ids: Sequence[str]) -> dict[str, list[QualityReport]]:
        if not call_ids:
            return {}
        rows = await self._session.scalars(
            select(CallQualityRow)
            .where(CallQualityRow.call_id.in_(list(call_ids)))
            .order_by(CallQualityRow.id)
        )
        reports: dict[str, list[QualityReport]] = {i: [] for i in call_ids}
        for row in rows.all():
            reports[row.call_id].append(_quality(row))
        return reports
