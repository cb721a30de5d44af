"""Repository of screening submissions, and who counsels a client (for alerts and access)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rtserver.domain.accounts import Role
from rtserver.domain.chat import ConversationKind
from rtserver.domain.screening import RiskFlag, RiskLevel, ScaleScore, ScreeningResult
from rtserver.domain.screening.risk_counts import FlaggedSubmission
from rtserver.domain.screening.submission import Submission
from rtserver.store.screening_tables import ScreeningSubmissionRow
from rtserver.store.tables import ConversationRow, MemberRow, UserRow


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _scores_json(scores: tuple[ScaleScore, ...]) -> str:
    return _json([{"scale": s.scale, "score": s.score, "band": s.band} for s in scores])


def _flags_json(flags: tuple[RiskFlag, ...]) -> str:
    return _json(
        [{"code": f.code, "level": f.level, "scale": f.scale, "item": f.item} for f in flags]
    )


def _submission(row: ScreeningSubmissionRow) -> Submission:
    scores = tuple(ScaleScore(s["scale"], s["score"], s["band"]) for s in json.loads(row.scores))
    flags = tuple(
        RiskFlag(f["code"], cast(RiskLevel, f["level"]), scale=f["scale"], item=f["item"])
        for f in json.loads(row.flags)
    )
    return Submission(
        id=row.id,
        client_id=row.client_id,
        submitted_at=row.submitted_at,
        booking_id=row.booking_id,
        result=ScreeningResult(row.instrument_id, row.instrument_version, scores, flags),
        counselors_alerted=row.counselors_alerted,
    )


class ScreeningRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, submission: Submission, answers_sealed: str) -> None:
        self._session.add(
            ScreeningSubmissionRow(
                id=submission.id,
                client_id=submission.client_id,
                instrument_id=submission.instrument_id,
                instrument_version=submission.instrument_version,
                booking_id=submission.booking_id,
                submitted_at=submission.submitted_at,
                answers_sealed=answers_sealed,
                scores=_scores_json(submission.result.scores),
                flags=_flags_json(submission.result.flags),
                risk_level=submission.level,
                counselors_alerted=submission.counselors_alerted,
            )
        )
        await self._session.flush()

    async def get(self, submission_id: str) -> Submission | None:
        row = await self._session.get(ScreeningSubmissionRow, submission_id)
        return _submission(row) if row else None

    async def sealed_answers(self, submission_id: str) -> str:
        value = (
            await self._session.execute(
                select(ScreeningSubmissionRow.answers_sealed).where(
                    ScreeningSubmissionRow.id == submission_id
                )
            )
        ).scalar_one()
        return str(value)

    async def of_client(
        self, client_id: str, limit: int, before: Submission | None = None
    ) -> list[Submission]:
        """The client's submissions, newest first, strictly older than `before` if given."""
        row = ScreeningSubmissionRow
        query = select(row).where(row.client_id == client_id)
        if before is not None:
            query = query.where(
                or_(
                    row.submitted_at < before.submitted_at,
                    and_(row.submitted_at == before.submitted_at, row.id < before.id),
                )
            )
        rows = await self._session.execute(
            query.order_by(row.submitted_at.desc(), row.id.desc()).limit(limit)
        )
        return [_submission(r) for r in rows.scalars()]

    async def submitted_since(self, client_id: str, since: datetime) -> list[datetime]:
        """When the client submitted at or after `since`, oldest first."""
        row = ScreeningSubmissionRow
        rows = await self._session.execute(
            select(row.submitted_at)
            .where(row.client_id == client_id, row.submitted_at >= since)
            .order_by(row.submitted_at)
        )
        return list(rows.scalars())

    async def flagged_since(self, since: datetime) -> list[FlaggedSubmission]:
        """When, at which level and whether alerted: the only columns ops counts are made of."""
        row = ScreeningSubmissionRow
        rows = await self._session.execute(
            select(row.submitted_at, row.risk_level, row.counselors_alerted).where(
                row.submitted_at >= since, row.risk_level.is_not(None)
            )
        )
        return [
            FlaggedSubmission(at, cast(RiskLevel, level), alerted) for at, level, alerted in rows
        ]

    async def counselors_of(self, client_id: str) -> list[str]:
        """Active counselors who share a direct conversation with the client, in id order."""
        client_side = aliased(MemberRow)
        counselor_side = aliased(MemberRow)
        rows = await self._session.execute(
            select(UserRow.id)
            .join(counselor_side, counselor_side.user_id == UserRow.id)
            .join(ConversationRow, ConversationRow.id == counselor_side.conversation_id)
            .join(client_side, client_side.conversation_id == ConversationRow.id)
            .where(
                client_side.user_id == client_id,
                ConversationRow.kind == ConversationKind.DIRECT.value,
                UserRow.role == Role.COUNSELOR.value,
                UserRow.disabled_at.is_(None),
            )
            .distinct()
            .order_by(UserRow.id)
        )
        return list(rows.scalars())
