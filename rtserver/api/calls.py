"""/api/v1/calls: call records for their participants, and the live call overview for ops."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rtserver.api.keys import CALLS
from rtserver.api.routing import Call, RouteTable
from rtserver.domain.accounts import Role
from rtserver.validation import Id

routes = RouteTable("calls")


class Party(BaseModel):
    user_id: str
    device_id: str


class QualityOut(BaseModel):
    reports: int
    rtt_ms_avg: float | None
    rtt_ms_max: float | None
    jitter_ms_avg: float | None
    packet_loss_pct_max: float | None
    bitrate_kbps_avg: float | None
    relayed: bool


class CallOut(BaseModel):
    call_id: str
    conversation_id: str
    session_id: str | None
    state: str
    media: str
    media_used: list[str]
    caller: Party
    callee_user_id: str
    answered_by_device_id: str | None
    created_at: str
    ring_deadline: str
    answered_at: str | None
    ended_at: str | None
    duration_seconds: float | None
    end_reason: str | None
    ended_by_user_id: str | None
    quality: QualityOut


class CallList(BaseModel):
    calls: list[CallOut]


class CallListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=100)
    session_id: Id | None = None


class LiveCall(BaseModel):
    call_id: str
    state: str
    media: str
    in_session: bool
    seconds: float
    quality: QualityOut


class RecentCalls(BaseModel):
    window_seconds: int
    ended: int
    end_reasons: dict[str, int]
    duration_seconds_avg: float | None


class CallOverview(BaseModel):
    ringing: int
    active: int
    live: list[LiveCall]
    recent: RecentCalls


class OverviewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window_minutes: int = Field(default=60, ge=1, le=24 * 60)


def _call(data: dict[str, Any]) -> CallOut:
    return CallOut.model_validate(data)


@routes.route(
    "GET",
    "/api/v1/calls/{call_id}",
    summary="One call record with its quality summary (its two participants only)",
    response=CallOut,
    errors=("call_not_found",),
)
async def get_call(call: Call[None]) -> CallOut:
    record = await call.request.app[CALLS].get(call.principal, call.request.match_info["call_id"])
    return _call(record)


@routes.route(
    "GET",
    "/api/v1/conversations/{conversation_id}/calls",
    summary="Calls in a conversation, newest first (members only); optionally one session's",
    query=CallListQuery,
    response=CallList,
    errors=("conversation_not_found",),
)
async def list_calls(call: Call[None]) -> CallList:
    query: CallListQuery = call.query
    records = await call.request.app[CALLS].history(
        call.principal, call.request.match_info["conversation_id"], query.session_id, query.limit
    )
    return CallList(calls=[_call(r) for r in records])


@routes.route(
    "GET",
    "/api/v1/ops/calls",
    summary="Live calls and recent outcomes with quality figures; no people, no content",
    query=OverviewQuery,
    response=CallOverview,
    roles={Role.OPS, Role.ADMIN},
)
async def call_overview(call: Call[None]) -> CallOverview:
    query: OverviewQuery = call.query
    overview = await call.request.app[CALLS].ops_overview(timedelta(minutes=query.window_minutes))
    return CallOverview.model_validate(overview)
