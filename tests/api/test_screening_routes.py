"""Instruments in both languages, submitting, one's own history and results, the per-client
submission limit and an ops-maintained crisis directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rtserver.domain.accounts import Role
from tests.conftest import SettingsFactory
from tests.screening.factories import (
    make_client,
    make_staff,
    phq9_answers,
    stored_rows,
    submit,
)
from tests.support.clients import Api
from tests.support.server import serve_in_process


async def test_instruments_listed_and_localized(api: Api) -> None:
    client = await make_client(api)
    listed = await api.request("GET", "/api/v1/screening/instruments?lang=en", token=client.token)
    assert listed.status == 200
    summaries = {i["id"]: i for i in listed.body["instruments"]}
    assert set(summaries) == {"dass21", "gad7", "k10", "phq9", "pss10"}
    assert summaries["dass21"]["scales"] == ["depression", "anxiety", "stress"]
    assert summaries["dass21"]["item_count"] == 21
    assert summaries["phq9"]["title"] == "Patient Health Questionnaire (PHQ-9)"

    indonesian = await api.request("GET", "/api/v1/screening/instruments/phq9", token=client.token)
    english = await api.request(
        "GET", "/api/v1/screening/instruments/phq9?lang=en&version=1.0.0", token=client.token
    )
    assert indonesian.status == english.status == 200
    assert indonesian.body["lang"] == "id" and english.body["lang"] == "en"
    assert indonesian.body["title"] == "Kuesioner Kesehatan Pasien (PHQ-9)"
    assert len(english.body["items"]) == 9
    assert [o["score"] for o in english.body["options"]] == [0, 1, 2, 3]
    assert english.body["options"][0]["text"] == "Not at all"
    assert indonesian.body["items"][8]["text"] != english.body["items"][8]["text"]
    assert english.body["sources"] and "phqscreeners" in english.body["licence"]
    [scale] = english.body["scales"]
    assert (scale["min"], scale["max"]) == (0, 27)

    k10 = await api.request("GET", "/api/v1/screening/instruments/k10", token=client.token)
    assert (k10.body["scales"][0]["min"], k10.body["scales"][0]["max"]) == (10, 50)

    anonymous = await api.request("GET", "/api/v1/screening/instruments")
    assert anonymous.status == 401


async def test_own_history_pages_and_detail(api: Api) -> None:
    client = await make_client(api)
    ids = []
    for others in (0, 1, 2):
        reply = await submit(api, client, phq9_answers(others=others))
        assert reply.status == 201
        ids.append(reply.body["submission"]["id"])
    dass = await api.request(
        "POST",
        "/api/v1/screening/submissions",
        {
            "instrument_id": "dass21",
            "version": "1.0.0",
            "answers": {str(i): 1 for i in range(1, 22)},
            "lang": "en",
        },
        token=client.token,
    )
    assert dass.status == 201
    outcomes = {o["scale"]: o for o in dass.body["submission"]["outcomes"]}
    assert {scale: o["score"] for scale, o in outcomes.items()} == {
        "depression": 14,
        "anxiety": 14,
        "stress": 14,
    }
    assert "not a diagnosis" in outcomes["stress"]["explanation"]
    ids.append(dass.body["submission"]["id"])

    first = await api.request("GET", "/api/v1/screening/submissions?limit=2", token=client.token)
    assert first.status == 200 and first.body["has_more"] is True
    page = [s["id"] for s in first.body["submissions"]]
    rest = await api.request(
        "GET", f"/api/v1/screening/submissions?limit=2&before={page[-1]}", token=client.token
    )
    assert rest.body["has_more"] is False
    page += [s["id"] for s in rest.body["submissions"]]
    assert sorted(page) == sorted(ids) and len(set(page)) == 4
    newest_first = [s["submitted_at"] for s in first.body["submissions"] + rest.body["submissions"]]
    assert newest_first == sorted(newest_first, reverse=True)

    detail = await api.request(
        "GET", f"/api/v1/screening/submissions/{ids[2]}?lang=en", token=client.token
    )
    assert detail.status == 200
    assert detail.body["outcomes"][0]["score"] == 16
    assert detail.body["outcomes"][0]["label"] == "Moderately severe"
    assert [(a["item"], a["answer"], a["option"]) for a in detail.body["answers"]][:2] == [
        (1, 2, "More than half the days"),
        (2, 2, "More than half the days"),
    ]


async def test_submissions_per_day_are_limited(
    make_settings: SettingsFactory, http: Any, tmp_path: Path
) -> None:
    async with serve_in_process(make_settings(screening_max_submissions_per_day=2)) as server:
        api = Api(server.url, http)
        client = await make_client(api)
        for _ in range(2):
            assert (await submit(api, client, phq9_answers())).status == 201
        refused = await submit(api, client, phq9_answers(item9=1))
        assert (refused.status, refused.code) == (429, "too_many_submissions")
        assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
        assert len(await stored_rows(server, "screening_submissions")) == 2
        other = await make_client(api)
        assert (await submit(api, other, phq9_answers())).status == 201


async def test_crisis_directory_from_an_ops_file(
    make_settings: SettingsFactory, http: Any, tmp_path: Path
) -> None:
    directory: dict[str, Any] = {
        "verified_note": "verified by ops, test data",
        "default_country": "MY",
        "countries": {
            "MY": {
                "advice": {"id": "Hubungi 999.", "en": "Call 999."},
                "contacts": [
                    {
                        "key": "emergency",
                        "name": {"id": "Darurat", "en": "Emergency"},
                        "numbers": ["999"],
                    }
                ],
            }
        },
        "fallback": {
            "advice": {"id": "Hubungi layanan darurat.", "en": "Call emergency."},
            "contacts": [],
        },
    }
    path = tmp_path / "crisis.json"
    path.write_text(json.dumps(directory))
    settings = make_settings(crisis_resources_file=str(path), crisis_country_default="MY")
    async with serve_in_process(settings) as server:
        api = Api(server.url, http)
        client = await make_client(api)
        reply = await submit(api, client, phq9_answers(item9=1), lang="en")
        support = reply.body["support"]
        assert (support["country"], support["advice"]) == ("MY", "Call 999.")
        assert support["contacts"][0]["numbers"] == ["999"]
        elsewhere = await submit(api, client, phq9_answers(item9=1), country="ID", lang="en")
        assert elsewhere.body["support"]["contacts"] == []


async def test_ops_see_counts_for_each_day(api: Api, server: Any) -> None:
    ops = await make_staff(api, server, "ops.andi", Role.OPS)
    admin = await make_staff(api, server, "admin.root", Role.ADMIN)
    counselor = await make_staff(api, server, "dr.sari", Role.COUNSELOR)
    for person in (ops, admin):
        reply = await api.request(
            "GET", "/api/v1/ops/screening/risk-counts?days=30", token=person.token
        )
        assert reply.status == 200
        assert reply.body["days"] == 30 and len(reply.body["counts"]) == 30
        days = [day["day"] for day in reply.body["counts"]]
        assert days == sorted(days)
    refused = await api.request("GET", "/api/v1/ops/screening/risk-counts", token=counselor.token)
    assert (refused.status, refused.code) == (403, "forbidden")
