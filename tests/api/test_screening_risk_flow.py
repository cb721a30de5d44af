"""A sign of acute risk is never silently stored: crisis resources at once, the counselor alerted
live and in the inbox, ops counts it; answers appear nowhere but sealed in the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rtserver.domain.accounts import Role
from tests.screening.factories import (
    Person,
    care_for,
    make_client,
    make_counselor,
    make_staff,
    phq9_answers,
    stored_rows,
    submit,
)
from tests.support.clients import Api, connect
from tests.support.server import RunningServer

ALERT_KEYS = {"client_id", "submission_id", "level"}


async def risk_counts(api: Api, ops: Person, days: int = 7) -> dict[str, Any]:
    reply = await api.request(
        "GET", f"/api/v1/ops/screening/risk-counts?days={days}", token=ops.token
    )
    assert reply.status == 200, reply.body
    return dict(reply.body)


def total(counts: dict[str, Any], key: str) -> int:
    return sum(day[key] for day in counts["counts"])


def assert_no_health_details(payload: Any, answers: dict[str, int]) -> None:
    dumped = json.dumps(payload)
    for leak in ("answers", "score", "band", "phq9", "self_harm", json.dumps(answers)):
        assert leak not in dumped, leak


async def test_item_9_alerts_counselor_and_shows_crisis_resources(
    api: Api, server: RunningServer
) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    other_counselor = await make_counselor(api, server, "dr.lain")
    ops = await make_staff(api, server, "ops.andi", Role.OPS)
    client = await make_client(api, "bintang")
    await care_for(server, counselor, client)
    before = await risk_counts(api, ops)
    console = await connect(server.url, counselor.token)
    other_console = await connect(server.url, other_counselor.token)
    try:
        answers = phq9_answers(item9=1, others=1)
        reply = await submit(api, client, answers, lang="en")
        assert reply.status == 201, reply.body
        submission_id = reply.body["submission"]["id"]
        assert reply.body["submission"]["flagged"] is True
        assert reply.body["submission"]["outcomes"][0]["band"] == "mild"  # total 9

        support = reply.body["support"]
        assert support["level"] == "urgent"
        assert support["country"] == "ID"
        assert support["counselor_alerted"] is True
        assert {"112", "119"} <= {n for c in support["contacts"] for n in c["numbers"]}
        assert "not a diagnosis" in support["message"]
        assert "depress" not in support["message"].lower()

        alert = await console.next("screening.alert")
        assert alert == {"client_id": client.id, "submission_id": submission_id, "level": "urgent"}
        pushed = await console.next("notification")
        assert pushed["kind"] == "screening.alert" and pushed["read_at"] is None
        assert pushed["payload"] == alert
        for payload in (alert, pushed):
            assert_no_health_details(payload, answers)
        assert other_console.queue("screening.alert").empty()
        assert other_console.queue("notification").empty()
    finally:
        await console.close()
        await other_console.close()

    inbox = await api.request("GET", "/api/v1/notifications", token=counselor.token)
    assert inbox.status == 200
    assert [n["id"] for n in inbox.body["notifications"]] == [pushed["id"]]
    assert inbox.body["notifications"][0]["payload"] == alert
    other_inbox = await api.request("GET", "/api/v1/notifications", token=other_counselor.token)
    assert other_inbox.body["notifications"] == []

    after = await risk_counts(api, ops)
    assert total(after, "urgent") == total(before, "urgent") + 1
    assert total(after, "without_counselor") == total(before, "without_counselor")
    today = datetime.now(UTC).date().isoformat()
    assert after["counts"][-1]["day"] == today and after["counts"][-1]["urgent"] == 1
    assert len(after["counts"]) == 7
    assert {key for day in after["counts"] for key in day} == {
        "day",
        "urgent",
        "elevated",
        "without_counselor",
    }
    assert_no_health_details(after, answers)

    [row] = await stored_rows(server, "screening_submissions")
    assert row["risk_level"] == "urgent"
    assert row["answers_sealed"].startswith("v1.")
    raw = " ".join(str(value) for value in row.values())
    assert json.dumps(answers) not in raw
    assert json.dumps(answers, separators=(",", ":")) not in raw
    assert '"9":1' not in raw and "'9': 1" not in raw


async def test_offline_counselor_finds_the_alert_later(api: Api, server: RunningServer) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    client = await make_client(api)
    await care_for(server, counselor, client)
    reply = await submit(api, client, phq9_answers(others=3))  # total 24: severe band
    assert reply.status == 201
    assert reply.body["support"]["level"] == "elevated"
    assert reply.body["support"]["counselor_alerted"] is True

    unread = await api.request("GET", "/api/v1/notifications?unread=true", token=counselor.token)
    [notice] = unread.body["notifications"]
    assert notice["payload"] == {
        "client_id": client.id,
        "submission_id": reply.body["submission"]["id"],
        "level": "elevated",
    }


async def test_client_without_counselor_still_gets_resources_and_ops_sees_it(
    api: Api, server: RunningServer
) -> None:
    ops = await make_staff(api, server, "ops.andi", Role.OPS)
    client = await make_client(api)
    reply = await submit(api, client, phq9_answers(item9=2), country="my", lang="id")
    assert reply.status == 201
    support = reply.body["support"]
    assert support["counselor_alerted"] is False
    # a country without entries gets the generic fallback, not numbers that would not work
    assert support["country"] == "MY" and support["contacts"] == []
    assert "darurat" in support["advice"]
    counts = await risk_counts(api, ops, days=1)
    assert counts["counts"][0]["urgent"] == 1 and counts["counts"][0]["without_counselor"] == 1
    assert await stored_rows(server, "notifications") == []


async def test_no_flag_no_alert(api: Api, server: RunningServer) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    client = await make_client(api)
    await care_for(server, counselor, client)
    console = await connect(server.url, counselor.token)
    try:
        reply = await submit(api, client, phq9_answers(others=1))
        assert reply.status == 201
        assert reply.body["support"] is None and reply.body["submission"]["flagged"] is False
        assert console.queue("screening.alert").empty()
    finally:
        await console.close()
    assert await stored_rows(server, "notifications") == []
