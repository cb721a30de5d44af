"""People, links and answer sets for screening tests against a running server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from rtserver.api.keys import ACCOUNTS, CONVERSATIONS, DATABASE
from rtserver.domain.accounts import Role
from tests.support.clients import Api, Reply
from tests.support.server import RunningServer

PHQ9 = {"instrument_id": "phq9", "version": "1.0.0"}
STAFF_PASSWORD = "staff pw 12345"


@dataclass
class Person:
    session: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.session["user"]["id"])

    @property
    def token(self) -> str:
        return str(self.session["access_token"])


async def make_client(api: Api, login: str | None = None) -> Person:
    return Person(await api.register(login))


async def make_staff(api: Api, server: RunningServer, login: str, role: Role) -> Person:
    assert server.app is not None
    await server.app[ACCOUNTS].create_user(login, STAFF_PASSWORD, login, role)
    return Person(await api.login(login, STAFF_PASSWORD, device="console"))


async def make_counselor(api: Api, server: RunningServer, login: str) -> Person:
    return await make_staff(api, server, login, Role.COUNSELOR)


async def care_for(server: RunningServer, counselor: Person, client: Person) -> None:
    """Make `counselor` one of the client's counselors: they share a direct conversation."""
    assert server.app is not None
    await server.app[CONVERSATIONS].open_direct(counselor.id, client.id)


async def refreshed(api: Api, *people: Person) -> None:
    """New access tokens after the test moved the clock past the old ones' expiry."""
    for person in people:
        reply = await api.request(
            "POST", "/api/v1/auth/refresh", {"refresh_token": person.session["refresh_token"]}
        )
        assert reply.status == 200, reply.body
        person.session = reply.body


def phq9_answers(*, item9: int = 0, others: int = 0) -> dict[str, int]:
    """PHQ-9 answers: items 1-8 all `others`, item 9 (thoughts of self-harm) `item9`."""
    answers = {str(item): others for item in range(1, 9)}
    answers["9"] = item9
    return answers


async def submit(api: Api, client: Person, answers: dict[str, Any], **extra: Any) -> Reply:
    body = {**PHQ9, "answers": answers, **extra}
    return await api.request("POST", "/api/v1/screening/submissions", body, token=client.token)


async def stored_rows(server: RunningServer, table: str) -> list[dict[str, Any]]:
    """Every raw row of a table, as the database holds it."""
    assert server.app is not None
    assert table in {"screening_submissions", "notifications", "audit_log"}
    async with server.app[DATABASE].read() as tx:
        result = await tx.session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
        return [dict(row._mapping) for row in result]
