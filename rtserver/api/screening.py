"""/api/v1/screening and the counselor's view of a client's screening results."""

from __future__ import annotations

from rtserver.api.keys import SCREENING
from rtserver.api.routing import Call, RouteTable
from rtserver.api.screening_models import (
    ClientScreening,
    CounselorSubmission,
    HistoryQuery,
    InstrumentList,
    InstrumentOut,
    InstrumentQuery,
    LangQuery,
    SubmissionDetail,
    SubmissionPage,
    SubmitBody,
    SubmitResult,
    answers_out,
    flags_out,
    instrument_out,
    instrument_summary,
    submission_out,
    support_out,
    trend_out,
)
from rtserver.domain.accounts import Role

routes = RouteTable("screening")
SUBMIT_ERRORS = (
    "instrument_not_found",
    "missing_answers",
    "unknown_item",
    "answer_out_of_range",
    "too_many_submissions",
)


@routes.route(
    "GET",
    "/api/v1/screening/instruments",
    summary="The screening instruments offered, in one language",
    query=LangQuery,
    response=InstrumentList,
)
async def list_instruments(call: Call[None]) -> InstrumentList:
    lang = call.query.lang
    return InstrumentList(
        instruments=[instrument_summary(i, lang) for i in call.request.app[SCREENING].instruments()]
    )


@routes.route(
    "GET",
    "/api/v1/screening/instruments/{instrument_id}",
    summary="One instrument with its items, options and bands, in one language",
    query=InstrumentQuery,
    response=InstrumentOut,
    errors=("instrument_not_found",),
)
async def get_instrument(call: Call[None]) -> InstrumentOut:
    query: InstrumentQuery = call.query
    instrument = call.request.app[SCREENING].instrument(
        call.request.match_info["instrument_id"], query.version
    )
    return instrument_out(instrument, query.lang)


@routes.route(
    "POST",
    "/api/v1/screening/submissions",
    summary="Submit answers; a raised risk flag answers with crisis resources at once",
    body=SubmitBody,
    response=SubmitResult,
    roles={Role.CLIENT},
    status=201,
    errors=SUBMIT_ERRORS,
)
async def submit(call: Call[SubmitBody]) -> SubmitResult:
    body = call.body
    service = call.request.app[SCREENING]
    submitted = await service.submit(
        call.principal,
        body.instrument_id,
        body.version,
        {int(item): answer for item, answer in body.answers.items()},
        booking_id=body.booking_id,
        country=body.country,
    )
    instrument = service.definition_of(submitted.submission)
    return SubmitResult(
        submission=submission_out(submitted.submission, instrument, body.lang),
        support=support_out(submitted.support, body.lang) if submitted.support else None,
    )


@routes.route(
    "GET",
    "/api/v1/screening/submissions",
    summary="My own results, newest first",
    query=HistoryQuery,
    response=SubmissionPage,
    roles={Role.CLIENT},
    errors=("submission_not_found",),
)
async def my_history(call: Call[None]) -> SubmissionPage:
    query: HistoryQuery = call.query
    service = call.request.app[SCREENING]
    found, has_more = await service.history(call.principal, limit=query.limit, before=query.before)
    return SubmissionPage(
        submissions=[submission_out(s, service.definition_of(s), query.lang) for s in found],
        has_more=has_more,
    )


@routes.route(
    "GET",
    "/api/v1/screening/submissions/{submission_id}",
    summary="One of my own results with my answers",
    query=LangQuery,
    response=SubmissionDetail,
    roles={Role.CLIENT},
    errors=("submission_not_found",),
)
async def my_submission(call: Call[None]) -> SubmissionDetail:
    lang = call.query.lang
    service = call.request.app[SCREENING]
    submission, answers = await service.own_submission(
        call.principal, call.request.match_info["submission_id"]
    )
    instrument = service.definition_of(submission)
    return SubmissionDetail(
        **submission_out(submission, instrument, lang).model_dump(),
        answers=answers_out(answers, instrument, lang),
    )


@routes.route(
    "GET",
    "/api/v1/counselor/clients/{client_id}/screening",
    summary="A client's results as one trend series per instrument (audited read)",
    query=LangQuery,
    response=ClientScreening,
    roles={Role.COUNSELOR},
    errors=("client_not_found",),
)
async def client_screening(call: Call[None]) -> ClientScreening:
    lang = call.query.lang
    client_id = call.request.match_info["client_id"]
    service = call.request.app[SCREENING]
    found = await service.client_trends(call.principal, client_id)
    return ClientScreening(
        client_id=client_id,
        instruments=[
            trend_out(trend, service.served(trend.instrument_id), lang) for trend in found
        ],
    )


@routes.route(
    "GET",
    "/api/v1/counselor/clients/{client_id}/screening/submissions/{submission_id}",
    summary="One result of a client, answers included (audited read)",
    query=LangQuery,
    response=CounselorSubmission,
    roles={Role.COUNSELOR},
    errors=("client_not_found", "submission_not_found"),
)
async def client_submission(call: Call[None]) -> CounselorSubmission:
    lang = call.query.lang
    client_id = call.request.match_info["client_id"]
    service = call.request.app[SCREENING]
    submission, answers = await service.client_submission(
        call.principal, client_id, call.request.match_info["submission_id"]
    )
    instrument = service.definition_of(submission)
    return CounselorSubmission(
        **submission_out(submission, instrument, lang).model_dump(),
        answers=answers_out(answers, instrument, lang),
        client_id=client_id,
        risk_level=submission.level,
        flags=flags_out(submission),
    )
