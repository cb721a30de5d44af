"""Bad screening input and reads beyond one's care: each refused with a stable code, and nothing
is stored (no submission, no notification, no audit entry)."""

from __future__ import annotations

from typing import Any

import pytest

from rtserver.domain.accounts import Role
from tests.screening.factories import (
    PHQ9,
    Person,
    care_for,
    make_client,
    make_counselor,
    make_staff,
    phq9_answers,
    stored_rows,
    submit,
)
from tests.support.clients import Api
from tests.support.server import RunningServer


async def assert_nothing_stored(server: RunningServer) -> None:
    for table in ("screening_submissions", "notifications", "audit_log"):
        assert await stored_rows(server, table) == [], table


def without(answers: dict[str, int], *items: str) -> dict[str, int]:
    return {k: v for k, v in answers.items() if k not in items}


BAD_ANSWERS: list[tuple[str, dict[str, Any], int, str, Any]] = [
    ("missing item", without(phq9_answers(item9=1), "9", "2"), 400, "missing_answers", [2, 9]),
    ("no answers", {}, 400, "missing_answers", list(range(1, 10))),
    ("above the options", {**phq9_answers(item9=3), "1": 4}, 400, "answer_out_of_range", [1]),
    ("below the options", {**phq9_answers(), "5": -1}, 400, "answer_out_of_range", [5]),
    ("unknown item", {**phq9_answers(item9=1), "10": 0}, 400, "unknown_item", [10]),
    ("item zero", {**phq9_answers(), "0": 1}, 400, "unknown_item", [0]),
    ("answer as text", {**phq9_answers(), "1": "2"}, 400, "invalid_request", None),
    ("answer as bool", {**phq9_answers(), "1": True}, 400, "invalid_request", None),
    ("answer as float", {**phq9_answers(), "1": 1.5}, 400, "invalid_request", None),
    ("item not a number", {**phq9_answers(), "first": 1}, 400, "invalid_request", None),
    ("item with leading zero", {**phq9_answers(), "01": 1}, 400, "invalid_request", None),
    ("too many items", {str(n): 0 for n in range(1, 102)}, 400, "invalid_request", None),
]


@pytest.mark.parametrize(
    ("answers", "status", "code", "items"),
    [case[1:] for case in BAD_ANSWERS],
    ids=[case[0] for case in BAD_ANSWERS],
)
async def test_bad_answers(
    api: Api,
    server: RunningServer,
    answers: dict[str, Any],
    status: int,
    code: str,
    items: list[int] | None,
) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    client = await make_client(api)
    await care_for(server, counselor, client)
    reply = await submit(api, client, answers)
    assert (reply.status, reply.code) == (status, code), reply.body
    if items is not None:
        assert reply.body["error"]["details"]["items"] == items
    await assert_nothing_stored(server)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"instrument_id": "phq10", "version": "1.0.0"}, 404, "instrument_not_found"),
        ({"instrument_id": "phq9", "version": "9.9.9"}, 404, "instrument_not_found"),
        ({**PHQ9, "score": 0}, 400, "invalid_request"),
        ({**PHQ9, "booking_id": ""}, 400, "invalid_request"),
        ({**PHQ9, "country": "Indonesia"}, 400, "invalid_request"),
        ({**PHQ9, "lang": "fr"}, 400, "invalid_request"),
        ({"version": "1.0.0"}, 400, "invalid_request"),
    ],
    ids=[
        "unknown instrument",
        "unknown version",
        "unknown field",
        "empty booking id",
        "country not a code",
        "unknown language",
        "no instrument",
    ],
)
async def test_bad_submission_bodies(
    api: Api, server: RunningServer, body: dict[str, Any], status: int, code: str
) -> None:
    client = await make_client(api)
    full = {**body, "answers": phq9_answers(item9=1)}
    reply = await api.request("POST", "/api/v1/screening/submissions", full, token=client.token)
    assert (reply.status, reply.code) == (status, code), reply.body
    await assert_nothing_stored(server)


async def test_only_clients_submit(api: Api, server: RunningServer) -> None:
    counselor = await make_counselor(api, server, "dr.sari")
    ops = await make_staff(api, server, "ops.andi", Role.OPS)
    admin = await make_staff(api, server, "admin.root", Role.ADMIN)
    for person in (counselor, ops, admin):
        reply = await submit(api, person, phq9_answers(item9=1))
        assert (reply.status, reply.code) == (403, "forbidden")
    anonymous = await api.request(
        "POST", "/api/v1/screening/submissions", {**PHQ9, "answers": phq9_answers()}
    )
    assert (anonymous.status, anonymous.code) == (401, "unauthenticated")
    await assert_nothing_stored(server)


async def test_counselor_sees_only_clients_in_their_care(api: Api, server: RunningServer) -> None:
    mine = await make_counselor(api, server, "dr.sari")
    stranger = await make_counselor(api, server, "dr.lain")
    client = await make_client(api, "bintang")
    await care_for(server, mine, client)
    submitted = await submit(api, client, phq9_answers())
    submission_id = submitted.body["submission"]["id"]
    other_client = await make_client(api, "bulan")

    async def read(counselor: Person, client_id: str, submission: str | None = None) -> Any:
        path = f"/api/v1/counselor/clients/{client_id}/screening"
        if submission:
            path += f"/submissions/{submission}"
        return await api.request("GET", path, token=counselor.token)

    refused = [
        await read(stranger, client.id),  # someone else's client
        await read(stranger, client.id, submission_id),
        await read(mine, other_client.id),  # a client not in anyone's care
        await read(mine, stranger.id),  # not a client at all
        await read(mine, "no-such-user"),
        await read(mine, other_client.id, submission_id),  # a real submission, wrong client
    ]
    for reply in refused:
        assert (reply.status, reply.code) == (404, "client_not_found"), reply.body
    wrong_submission = await read(mine, client.id, "no-such-submission")
    assert (wrong_submission.status, wrong_submission.code) == (404, "submission_not_found")
    assert await stored_rows(server, "audit_log") == []


async def test_clients_see_only_their_own_results(api: Api, server: RunningServer) -> None:
    owner = await make_client(api, "bintang")
    nosy = await make_client(api, "bulan")
    submitted = await submit(api, owner, phq9_answers(item9=1))
    submission_id = submitted.body["submission"]["id"]

    foreign = await api.request(
        "GET", f"/api/v1/screening/submissions/{submission_id}", token=nosy.token
    )
    assert (foreign.status, foreign.code) == (404, "submission_not_found")
    history = await api.request("GET", "/api/v1/screening/submissions", token=nosy.token)
    assert history.body == {"submissions": [], "has_more": False}
    foreign_cursor = await api.request(
        "GET", f"/api/v1/screening/submissions?before={submission_id}", token=nosy.token
    )
    assert foreign_cursor.code == "submission_not_found"
    as_counselor = await api.request(
        "GET", f"/api/v1/counselor/clients/{owner.id}/screening", token=nosy.token
    )
    assert (as_counselor.status, as_counselor.code) == (403, "forbidden")
    counts = await api.request("GET", "/api/v1/ops/screening/risk-counts", token=nosy.token)
    assert (counts.status, counts.code) == (403, "forbidden")
    assert await stored_rows(server, "audit_log") == []


async def test_bad_queries(api: Api, server: RunningServer) -> None:
    client = await make_client(api)
    ops = await make_staff(api, server, "ops.andi", Role.OPS)
    cases = [
        (client, "/api/v1/screening/instruments?lang=fr", 400, "invalid_request"),
        (client, "/api/v1/screening/instruments?color=red", 400, "invalid_request"),
        (client, "/api/v1/screening/instruments/phq10", 404, "instrument_not_found"),
        (client, "/api/v1/screening/instruments/phq9?version=0.9.0", 404, "instrument_not_found"),
        (client, "/api/v1/screening/submissions?limit=0", 400, "invalid_request"),
        (client, "/api/v1/screening/submissions?limit=101", 400, "invalid_request"),
        (ops, "/api/v1/ops/screening/risk-counts?days=0", 400, "invalid_request"),
        (ops, "/api/v1/ops/screening/risk-counts?days=91", 400, "invalid_request"),
        (ops, "/api/v1/ops/screening/risk-counts?client_id=x", 400, "invalid_request"),
    ]
    for person, path, status, code in cases:
        reply = await api.request("GET", path, token=person.token)
        assert (reply.status, reply.code) == (status, code), path


async def test_malformed_body_changes_nothing(api: Api, server: RunningServer) -> None:
    client = await make_client(api)
    headers = {"Content-Type": "application/json"}
    for data in ("{", "[]", '"phq9"', "null"):
        reply = await api.request(
            "POST", "/api/v1/screening/submissions", data=data, headers=headers, token=client.token
        )
        assert reply.status == 400 and reply.code in {"malformed_json", "invalid_request"}, data
    await assert_nothing_stored(server)
