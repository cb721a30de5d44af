"""The counselor's view of a client over time: one series per instrument, oldest first, on an
injected clock; every read of it is written to the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from rtserver.clock import FrozenClock
from tests.conftest import SettingsFactory
from tests.screening.factories import (
    care_for,
    make_client,
    make_counselor,
    phq9_answers,
    refreshed,
    stored_rows,
    submit,
)
from tests.support.clients import Api
from tests.support.server import RunningServer, serve_in_process

START = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def server(
    make_settings: SettingsFactory, clock: FrozenClock
) -> AsyncIterator[RunningServer]:
    async with serve_in_process(make_settings(), clock=clock) as running:
        yield running


async def test_trend_series_in_order_and_audited(
    api: Api, server: RunningServer, clock: FrozenClock
) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    client = await make_client(api, "bintang")
    await care_for(server, counselor, client)

    weekly = [phq9_answers(others=3, item9=0), phq9_answers(others=2), phq9_answers(others=1)]
    submitted = []
    for week, answers in enumerate(weekly):
        if week:
            clock.advance(timedelta(days=7))
            await refreshed(api, client, counselor)
        reply = await submit(api, client, answers, booking_id=f"booking-{week}")
        assert reply.status == 201, reply.body
        submitted.append(reply.body["submission"]["id"])
    gad7 = await api.request(
        "POST",
        "/api/v1/screening/submissions",
        {"instrument_id": "gad7", "version": "1.0.0", "answers": {str(i): 1 for i in range(1, 8)}},
        token=client.token,
    )
    assert gad7.status == 201

    clock.advance(timedelta(minutes=5))
    read = await api.request(
        "GET", f"/api/v1/counselor/clients/{client.id}/screening?lang=en", token=counselor.token
    )
    assert read.status == 200, read.body
    assert read.body["client_id"] == client.id
    assert [t["instrument_id"] for t in read.body["instruments"]] == ["gad7", "phq9"]
    phq9 = read.body["instruments"][1]
    assert phq9["title"] == "Patient Health Questionnaire (PHQ-9)"
    [scale] = phq9["scales"]
    assert (scale["key"], scale["min"], scale["max"]) == ("total", 0, 27)
    assert [b["key"] for b in scale["bands"]] == [
        "minimal",
        "mild",
        "moderate",
        "moderately_severe",
        "severe",
    ]
    points = phq9["points"]
    assert [p["submission_id"] for p in points] == submitted
    assert [p["submitted_at"] for p in points] == [
        "2026-10-05T02:00:00Z",
        "2026-10-12T02:00:00Z",
        "2026-10-19T02:00:00Z",
    ]
    assert [(p["scores"][0]["score"], p["scores"][0]["band"]) for p in points] == [
        (24, "severe"),
        (16, "moderately_severe"),
        (8, "mild"),
    ]
    assert points[0]["scores"][0]["label"] == "Severe"
    assert [p["risk_level"] for p in points] == ["elevated", None, None]
    assert points[0]["flags"] == ["severe"]
    assert [p["booking_id"] for p in points] == ["booking-0", "booking-1", "booking-2"]
    assert all(set(p) >= {"scores"} and "answers" not in p for p in points)

    detail = await api.request(
        "GET",
        f"/api/v1/counselor/clients/{client.id}/screening/submissions/{submitted[0]}?lang=id",
        token=counselor.token,
    )
    assert detail.status == 200, detail.body
    assert detail.body["client_id"] == client.id and detail.body["risk_level"] == "elevated"
    assert detail.body["flags"] == [
        {"code": "severe", "level": "elevated", "scale": "total", "item": None}
    ]
    assert [(a["item"], a["answer"]) for a in detail.body["answers"]] == [
        (item, 3) for item in range(1, 9)
    ] + [(9, 0)]
    assert detail.body["answers"][8]["option"] == "Tidak sama sekali"
    assert detail.body["outcomes"][0]["label"] == "Berat"

    audit = sorted(await stored_rows(server, "audit_log"), key=lambda row: row["action"])
    assert [
        (row["actor_id"], row["action"], row["subject_user_id"], row["record_id"]) for row in audit
    ] == [
        (counselor.id, "screening.submission.read", client.id, submitted[0]),
        (counselor.id, "screening.trend.read", client.id, None),
    ]
    expected_at = START + timedelta(days=14, minutes=5)
    assert all(_utc(row["at"]) == expected_at for row in audit)

    # the client reading their own results is not a third-party read
    own = await api.request("GET", "/api/v1/screening/submissions", token=client.token)
    assert own.status == 200 and len(own.body["submissions"]) == 4
    assert len(await stored_rows(server, "audit_log")) == 2


def _utc(value: datetime | str) -> datetime:
    """A raw timestamp column: naive UTC text on SQLite, aware on PostgreSQL."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
