"""Tables of screening submissions: results in the clear for trends, answers sealed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rtserver.store.tables import Base, UtcDateTime


class ScreeningSubmissionRow(Base):
    __tablename__ = "screening_submissions"
    __table_args__ = (
        Index("ix_screening_submissions_client", "client_id", "submitted_at"),
        Index("ix_screening_submissions_risk", "submitted_at", "risk_level"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    instrument_id: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[str] = mapped_column(String(20))
    # An opaque reference to the booking this screening is the intake of; not a foreign key, so
    # that screening does not depend on the booking tables.
    booking_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # "v1." + URL-safe base64 of a SecretBox under a subkey of data_key (never plaintext).
    answers_sealed: Mapped[str] = mapped_column(Text)
    # JSON: [{scale, score, band}] and [{code, level, scale?, item?}].
    scores: Mapped[str] = mapped_column(Text)
    flags: Mapped[str] = mapped_column(Text)
    risk_level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    counselors_alerted: Mapped[int] = mapped_column(Integer)
