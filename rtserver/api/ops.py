"""/api/v1/ops: aggregate figures for the ops dashboard; counts, never content or people."""

from __future__ import annotations

from rtserver.api.keys import SCREENING
from rtserver.api.routing import Call, RouteTable
from rtserver.api.screening_models import DayCountOut, RiskCountQuery, RiskCounts
from rtserver.domain.accounts import Role

routes = RouteTable("ops")


@routes.route(
    "GET",
    "/api/v1/ops/screening/risk-counts",
    summary="Screening risk flags per UTC day and level over the last `days` days",
    query=RiskCountQuery,
    response=RiskCounts,
    roles={Role.OPS, Role.ADMIN},
)
async def screening_risk_counts(call: Call[None]) -> RiskCounts:
    query: RiskCountQuery = call.query
    counts = await call.request.app[SCREENING].risk_counts(call.principal, query.days)
    return RiskCounts(
        days=query.days,
        counts=[
            DayCountOut(
                day=c.day,
                urgent=c.urgent,
                elevated=c.elevated,
                without_counselor=c.without_counselor,
            )
            for c in counts
        ],
    )
