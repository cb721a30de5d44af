"""Screening use cases: submit answers, read one's own results, counselors' views of their
clients, and the risk counts ops may see.

Answers are sealed at rest and opened only for the client or, audited, for a counselor of the
client. A raised risk flag is stored together with an inbox notification for each of the
client's counselors in one transaction, then pushed to them live.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from rtserver.clock import Clock
from rtserver.domain.accounts import Principal, Role
from rtserver.domain.audit import SCREENING_SUBMISSION_READ, SCREENING_TREND_READ
from rtserver.domain.notifications import SCREENING_ALERT_KIND
from rtserver.domain.screening import (
    CrisisDirectory,
    CrisisResources,
    DayRiskCount,
    Instrument,
    RiskLevel,
    ScreeningInputError,
    Submission,
    Trend,
    crisis_resources_for,
    daily_risk_counts,
    risk_window,
    score,
    trends,
)
from rtserver.errors import Forbidden, Invalid, NotFound, RateLimited
from rtserver.ids import new_id
from rtserver.protocol import SCREENING_ALERT
from rtserver.services.at_rest import AtRestBox
from rtserver.services.audit import AuditService
from rtserver.services.connections import Realtime
from rtserver.services.notifications import NotificationService
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction

log = logging.getLogger(__name__)

ANSWERS_PURPOSE = b"rtserver screening answers v1"
SUBMISSION_WINDOW = timedelta(hours=24)
MAX_TREND_SUBMISSIONS = 500
MAX_RISK_COUNT_DAYS = 90


@dataclass(frozen=True)
class Support:
    """What a flagged submission answers with at once: the level and whose crisis resources."""

    level: RiskLevel
    country: str
    resources: CrisisResources
    counselor_alerted: bool


@dataclass(frozen=True)
class Submitted:
    submission: Submission
    support: Support | None


def instrument_not_found() -> NotFound:
    return NotFound("no such instrument or version", code="instrument_not_found")


def client_not_found() -> NotFound:
    # The same answer for an unknown user, a non-client and someone else's client: a counselor
    # must not learn who exists or who is counseled by whom.
    return NotFound("no such client", code="client_not_found")


def submission_not_found() -> NotFound:
    return NotFound("no such submission", code="submission_not_found")


class ScreeningService:
    def __init__(
        self,
        database: Database,
        instruments: Mapping[str, Instrument],
        crisis: CrisisDirectory,
        answers_box: AtRestBox,
        notifications: NotificationService,
        audit: AuditService,
        realtime: Realtime,
        clock: Clock,
        *,
        default_country: str,
        max_per_day: int,
    ) -> None:
        self._db = database
        self._instruments = dict(sorted(instruments.items()))
        self._crisis = crisis
        self._box = answers_box
        self._notifications = notifications
        self._audit = audit
        self._realtime = realtime
        self._clock = clock
        self._default_country = default_country
        self._max_per_day = max_per_day
        if default_country not in crisis.countries:
            log.warning(
                "crisis_country_default %s has no entry in the crisis directory: flagged "
                "screenings without a country show the generic fallback",
                default_country,
            )

    # instruments

    def instruments(self) -> list[Instrument]:
        return list(self._instruments.values())

    def instrument(self, instrument_id: str, version: str | None = None) -> Instrument:
        """The served definition; a `version` other than the served one is not found."""
        instrument = self._instruments.get(instrument_id)
        if instrument is None or (version is not None and version != instrument.version):
            raise instrument_not_found()
        return instrument

    def served(self, instrument_id: str) -> Instrument | None:
        """The definition served now under this id, whatever its version."""
        return self._instruments.get(instrument_id)

    def definition_of(self, submission: Submission) -> Instrument | None:
        """The definition a stored submission was scored with, if it is still served."""
        instrument = self._instruments.get(submission.instrument_id)
        if instrument is None or instrument.version != submission.instrument_version:
            return None
        return instrument

    # clients

    async def submit(
        self,
        principal: Principal,
        instrument_id: str,
        version: str,
        answers: Mapping[int, int],
        *,
        booking_id: str | None = None,
        country: str | None = None,
    ) -> Submitted:
        if principal.role is not Role.CLIENT:
            raise Forbidden("only clients submit screenings")
        instrument = self.instrument(instrument_id, version)
        try:
            result = score(instrument, answers)
        except ScreeningInputError as exc:
            raise Invalid(exc.message, code=exc.code, details=exc.details) from exc
        now = self._clock.now()
        submission_id = new_id()
        async with self._db.write() as tx:
            await self._check_rate(tx, principal.user_id, now)
            counselors = await tx.screening.counselors_of(principal.user_id) if result.flags else []
            submission = Submission(
                id=submission_id,
                client_id=principal.user_id,
                submitted_at=now,
                booking_id=booking_id,
                result=result,
                counselors_alerted=len(counselors),
            )
            await tx.screening.add(submission, self._seal(submission, answers))
            if submission.level is None:
                return Submitted(submission, None)
            alert = _alert_payload(submission, submission.level)
            staged = await self._notifications.stage(tx, counselors, SCREENING_ALERT_KIND, alert)
        await self._alert(counselors, alert)
        await self._notifications.deliver(staged)
        resolved = (country or self._default_country).strip().upper()
        return Submitted(
            submission,
            Support(
                level=submission.level,
                country=resolved,
                resources=crisis_resources_for(self._crisis, resolved),
                counselor_alerted=bool(counselors),
            ),
        )

    async def history(
        self, principal: Principal, *, limit: int, before: str | None = None
    ) -> tuple[list[Submission], bool]:
        """A page of the caller's own submissions, newest first, and whether more follow."""
        async with self._db.read() as tx:
            cursor = await self._own(tx, principal, before) if before else None
            found = await tx.screening.of_client(principal.user_id, limit + 1, cursor)
        return found[:limit], len(found) > limit

    async def own_submission(
        self, principal: Principal, submission_id: str
    ) -> tuple[Submission, dict[int, int]]:
        """One of the caller's own submissions with its answers."""
        async with self._db.read() as tx:
            submission = await self._own(tx, principal, submission_id)
            sealed = await tx.screening.sealed_answers(submission_id)
        return submission, self._open(submission, sealed)

    # counselors

    async def client_trends(self, principal: Principal, client_id: str) -> tuple[Trend, ...]:
        """Every instrument's series for one of the caller's clients; the read is audited."""
        async with self._db.write() as tx:
            await self._require_counselor_of(tx, principal, client_id)
            await self._audit.record(tx, principal.user_id, SCREENING_TREND_READ, client_id)
            found = await tx.screening.of_client(client_id, MAX_TREND_SUBMISSIONS)
        return trends(found)

    async def client_submission(
        self, principal: Principal, client_id: str, submission_id: str
    ) -> tuple[Submission, dict[int, int]]:
        """One submission of one of the caller's clients, answers included; audited."""
        async with self._db.write() as tx:
            await self._require_counselor_of(tx, principal, client_id)
            submission = await tx.screening.get(submission_id)
            if submission is None or submission.client_id != client_id:
                raise submission_not_found()
            await self._audit.record(
                tx, principal.user_id, SCREENING_SUBMISSION_READ, client_id, submission_id
            )
            sealed = await tx.screening.sealed_answers(submission_id)
        return submission, self._open(submission, sealed)

    # ops

    async def risk_counts(self, principal: Principal, days: int) -> tuple[DayRiskCount, ...]:
        """Flagged submissions per UTC day and level over the last `days` days (today
        included): counts only, never who or what."""
        if principal.role not in (Role.OPS, Role.ADMIN):
            raise Forbidden("only ops see risk counts")
        if not 1 <= days <= MAX_RISK_COUNT_DAYS:
            raise Invalid(f"days must be 1 to {MAX_RISK_COUNT_DAYS}", code="invalid_request")
        today = self._clock.now().astimezone(UTC).date()
        since = datetime.combine(risk_window(today, days), time(), tzinfo=UTC)
        async with self._db.read() as tx:
            flagged = await tx.screening.flagged_since(since)
        return daily_risk_counts(flagged, today, days)

    # internals

    async def _check_rate(self, tx: Transaction, client_id: str, now: datetime) -> None:
        recent = await tx.screening.submitted_since(client_id, now - SUBMISSION_WINDOW)
        if len(recent) >= self._max_per_day:
            frees_at = recent[-self._max_per_day] + SUBMISSION_WINDOW
            raise RateLimited(
                f"at most {self._max_per_day} screenings in 24 hours",
                retry_after=max(1, int((frees_at - now).total_seconds()) + 1),
                code="too_many_submissions",
            )

    @staticmethod
    async def _own(tx: Transaction, principal: Principal, submission_id: str) -> Submission:
        submission = await tx.screening.get(submission_id)
        if submission is None or submission.client_id != principal.user_id:
            raise submission_not_found()
        return submission

    @staticmethod
    async def _require_counselor_of(tx: Transaction, principal: Principal, client_id: str) -> None:
        if principal.role is not Role.COUNSELOR:
            raise Forbidden("only counselors see their clients' screenings")
        client = await tx.users.get(client_id)
        if client is None or client.role is not Role.CLIENT:
            raise client_not_found()
        if principal.user_id not in await tx.screening.counselors_of(client_id):
            raise client_not_found()

    def _seal(self, submission: Submission, answers: Mapping[int, int]) -> str:
        # The ids travel inside the box, so a sealed value copied onto another row won't open.
        plaintext = {
            "submission_id": submission.id,
            "client_id": submission.client_id,
            "answers": {str(item): answer for item, answer in sorted(answers.items())},
        }
        return self._box.seal(json.dumps(plaintext, separators=(",", ":")).encode())

    def _open(self, submission: Submission, sealed: str) -> dict[int, int]:
        opened = json.loads(self._box.open(sealed))
        if (opened["submission_id"], opened["client_id"]) != (submission.id, submission.client_id):
            raise ValueError(f"sealed answers of submission {submission.id} belong elsewhere")
        return {int(item): int(answer) for item, answer in opened["answers"].items()}

    async def _alert(self, counselors: list[str], payload: dict[str, str]) -> None:
        """Best effort: the alert is also in each counselor's inbox."""
        if not counselors:
            return
        try:
            await self._realtime.to_users(counselors, SCREENING_ALERT, payload)
        except Exception:
            log.exception("screening alert %s stored but not pushed", payload["submission_id"])


def _alert_payload(submission: Submission, level: RiskLevel) -> dict[str, str]:
    """Ids and the level only: no answers, scores, bands, nor even the instrument."""
    return {"client_id": submission.client_id, "submission_id": submission.id, "level": level}
