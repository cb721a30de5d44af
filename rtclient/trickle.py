"""Trickled ICE candidates of one call, both ways: sending ours as `call.candidate`, and
routing the peer's to the connection whose remote ICE ufrag they carry, held (bounded) until
that connection has its remote description (the offer may still be ringing, or a renegotiation
answer may arrive after its candidates)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from rtclient.connection import MediaConnection
from rtclient.errors import CallError
from rtclient.ice import RemoteCandidate

MAX_HELD = 64

Request = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


async def send_candidates(
    request: Request, call_id: str, candidates: Sequence[dict[str, Any]]
) -> None:
    for candidate in candidates:
        try:
            await request("call.candidate", {"call_id": call_id, "candidate": candidate})
        except CallError as exc:
            if exc.code != "call_ended":
                raise
            return  # ended meanwhile (declined, cancelled): call.ended tells us how


class CandidateInbox:
    def __init__(self) -> None:
        self.held: list[RemoteCandidate] = []

    async def route(
        self, candidate: RemoteCandidate, connections: Sequence[MediaConnection | None]
    ) -> None:
        """Give `candidate` to the first (newest) connection that wants it, or hold it."""
        for connection in connections:
            if connection is not None and connection.wants(candidate):
                await connection.add_candidate(candidate)
                return
        if len(self.held) < MAX_HELD:
            self.held.append(candidate)

    async def release_to(self, connection: MediaConnection) -> None:
        """`connection` just got its remote description: hand it the candidates it wants."""
        mine = [c for c in self.held if connection.wants(c)]
        self.held = [c for c in self.held if not connection.wants(c)]
        for candidate in mine:
            await connection.add_candidate(candidate)
