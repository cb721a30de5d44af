"""Request and response shapes of the screening routes, and their conversion from the domain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from rtserver.domain.screening import (
    CrisisResources,
    Instrument,
    Language,
    RiskLevel,
    Submission,
    Trend,
    localized,
    localized_outcomes,
    support_message,
)
from rtserver.services.screening import Support

Id = Annotated[str, Field(min_length=1, max_length=64)]
ItemNumber = Annotated[str, Field(pattern=r"^(0|[1-9][0-9]{0,2})$")]
Lang = Literal["id", "en"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# requests


class LangQuery(Strict):
    lang: Lang = "id"


class InstrumentQuery(Strict):
    lang: Lang = "id"
    version: str | None = Field(default=None, max_length=20)


class HistoryQuery(Strict):
    lang: Lang = "id"
    limit: int = Field(default=20, ge=1, le=100)
    before: Id | None = Field(default=None, description="a submission id: the page after it")


class RiskCountQuery(Strict):
    days: int = Field(default=7, ge=1, le=90)


class SubmitBody(Strict):
    instrument_id: str = Field(min_length=1, max_length=40, examples=["phq9"])
    version: str = Field(min_length=1, max_length=20, examples=["1.0.0"])
    answers: dict[ItemNumber, StrictInt] = Field(
        max_length=100,
        description="item number -> the score of the chosen option",
        examples=[{"1": 0, "2": 1}],
    )
    booking_id: Id | None = Field(default=None, description="the booking this is the intake of")
    country: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2 country for crisis resources",
    )
    lang: Lang = "id"


# instruments


class OptionOut(BaseModel):
    score: int
    text: str


class ItemOut(BaseModel):
    number: int
    text: str


class BandOut(BaseModel):
    key: str
    min: int
    max: int
    label: str
    explanation: str


class ScaleOut(BaseModel):
    key: str
    name: str
    min: int
    max: int
    bands: list[BandOut]


class InstrumentSummary(BaseModel):
    id: str
    version: str
    title: str
    item_count: int
    scales: list[str]


class InstrumentList(BaseModel):
    instruments: list[InstrumentSummary]


class InstrumentOut(BaseModel):
    id: str
    version: str
    lang: Lang
    title: str
    instructions: str
    options: list[OptionOut]
    items: list[ItemOut]
    scales: list[ScaleOut]
    sources: list[str]
    licence: str


def scales_out(instrument: Instrument, lang: Language) -> list[ScaleOut]:
    return [
        ScaleOut(
            key=scale.key,
            name=scale.name,
            min=scale.bands[0].min,
            max=scale.bands[-1].max,
            bands=[BandOut(**vars(band)) for band in scale.bands],
        )
        for scale in localized(instrument, lang).scales
    ]


def instrument_summary(instrument: Instrument, lang: Language) -> InstrumentSummary:
    return InstrumentSummary(
        id=instrument.id,
        version=instrument.version,
        title=instrument.title.in_language(lang),
        item_count=len(instrument.items),
        scales=[scale.key for scale in instrument.scales],
    )


def instrument_out(instrument: Instrument, lang: Language) -> InstrumentOut:
    shown = localized(instrument, lang)
    return InstrumentOut(
        id=shown.id,
        version=shown.version,
        lang=lang,
        title=shown.title,
        instructions=shown.instructions,
        options=[OptionOut(score=o.score, text=o.text) for o in shown.options],
        items=[ItemOut(number=i.number, text=i.text) for i in shown.items],
        scales=scales_out(instrument, lang),
        sources=list(shown.sources),
        licence=instrument.licence,
    )


# results


class OutcomeOut(BaseModel):
    """A scale's score with its band in words. Names and words are null when the instrument
    version that scored it is no longer served."""

    scale: str
    score: int
    band: str
    name: str | None
    label: str | None
    explanation: str | None


class SubmissionOut(BaseModel):
    id: str
    instrument_id: str
    version: str
    submitted_at: datetime
    booking_id: str | None
    outcomes: list[OutcomeOut]
    flagged: bool


class AnswerOut(BaseModel):
    item: int
    answer: int
    text: str | None
    option: str | None


class SubmissionDetail(SubmissionOut):
    answers: list[AnswerOut]


class ContactOut(BaseModel):
    key: str
    name: str
    numbers: list[str]
    extension: str | None


class SupportOut(BaseModel):
    """Shown at once with a flagged result: supportive words and crisis contacts."""

    level: RiskLevel
    message: str
    country: str
    advice: str
    contacts: list[ContactOut]
    counselor_alerted: bool


class SubmitResult(BaseModel):
    submission: SubmissionOut
    support: SupportOut | None


class SubmissionPage(BaseModel):
    submissions: list[SubmissionOut]
    has_more: bool


def outcomes_out(
    submission: Submission, instrument: Instrument | None, lang: Language
) -> list[OutcomeOut]:
    if instrument is None:
        return [
            OutcomeOut(
                scale=s.scale, score=s.score, band=s.band, name=None, label=None, explanation=None
            )
            for s in submission.result.scores
        ]
    return [
        OutcomeOut(
            scale=o.scale,
            score=o.score,
            band=o.band,
            name=o.name,
            label=o.label,
            explanation=o.explanation,
        )
        for o in localized_outcomes(instrument, submission.result, lang)
    ]


def submission_out(
    submission: Submission, instrument: Instrument | None, lang: Language
) -> SubmissionOut:
    return SubmissionOut(
        id=submission.id,
        instrument_id=submission.instrument_id,
        version=submission.instrument_version,
        submitted_at=submission.submitted_at,
        booking_id=submission.booking_id,
        outcomes=outcomes_out(submission, instrument, lang),
        flagged=submission.level is not None,
    )


def answers_out(
    answers: dict[int, int], instrument: Instrument | None, lang: Language
) -> list[AnswerOut]:
    texts = (
        {item.number: item.text.in_language(lang) for item in instrument.items}
        if instrument
        else {}
    )
    options = (
        {option.score: option.text.in_language(lang) for option in instrument.options}
        if instrument
        else {}
    )
    return [
        AnswerOut(item=item, answer=answer, text=texts.get(item), option=options.get(answer))
        for item, answer in sorted(answers.items())
    ]


def support_out(support: Support, lang: Language) -> SupportOut:
    resources: CrisisResources = support.resources
    return SupportOut(
        level=support.level,
        message=support_message(support.level, lang),
        country=support.country,
        advice=resources.advice.in_language(lang),
        contacts=[
            ContactOut(
                key=c.key,
                name=c.name.in_language(lang),
                numbers=list(c.numbers),
                extension=c.extension,
            )
            for c in resources.contacts
        ],
        counselor_alerted=support.counselor_alerted,
    )


# counselor views


class FlagOut(BaseModel):
    code: str
    level: RiskLevel
    scale: str | None
    item: int | None


class PointScore(BaseModel):
    scale: str
    score: int
    band: str
    label: str | None


class TrendPoint(BaseModel):
    submission_id: str
    submitted_at: datetime
    version: str
    booking_id: str | None
    scores: list[PointScore]
    risk_level: RiskLevel | None
    flags: list[str]


class TrendOut(BaseModel):
    instrument_id: str
    title: str | None
    scales: list[ScaleOut]
    points: list[TrendPoint]


class ClientScreening(BaseModel):
    client_id: str
    instruments: list[TrendOut]


class CounselorSubmission(SubmissionDetail):
    client_id: str
    risk_level: RiskLevel | None
    flags: list[FlagOut]


def trend_out(trend: Trend, instrument: Instrument | None, lang: Language) -> TrendOut:
    labels = (
        {
            (scale.key, band.key): band.label.in_language(lang)
            for scale in instrument.scales
            for band in scale.bands
        }
        if instrument
        else {}
    )
    return TrendOut(
        instrument_id=trend.instrument_id,
        title=instrument.title.in_language(lang) if instrument else None,
        scales=scales_out(instrument, lang) if instrument else [],
        points=[
            TrendPoint(
                submission_id=point.id,
                submitted_at=point.submitted_at,
                version=point.instrument_version,
                booking_id=point.booking_id,
                scores=[
                    PointScore(
                        scale=s.scale,
                        score=s.score,
                        band=s.band,
                        # labels of another version's bands are not reused
                        label=labels.get((s.scale, s.band))
                        if instrument and instrument.version == point.instrument_version
                        else None,
                    )
                    for s in point.result.scores
                ],
                risk_level=point.level,
                flags=[flag.code for flag in point.result.flags],
            )
            for point in trend.points
        ],
    )


def flags_out(submission: Submission) -> list[FlagOut]:
    return [
        FlagOut(code=f.code, level=f.level, scale=f.scale, item=f.item)
        for f in submission.result.flags
    ]


# ops


class DayCountOut(BaseModel):
    day: date
    urgent: int
    elevated: int
    without_counselor: int


class RiskCounts(BaseModel):
    days: int
    counts: list[DayCountOut]
