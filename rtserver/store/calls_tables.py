"""Call records and the quality reports devices send during a call. No SDP, no candidate, no
media: only what routing, history and ops need."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from rtserver.store.tables import Base, UtcDateTime

OPEN_CALL = text("state != 'ended'")


class CallRow(Base):
    __tablename__ = "calls"
    __table_args__ = (
        # At most one call that has not ended per conversation, on every node: glare and
        # double invites are settled by this index.
        Index(
            "uq_calls_open_per_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=OPEN_CALL,
            postgresql_where=OPEN_CALL,
        ),
        Index("ix_calls_conversation_created", "conversation_id", "created_at"),
        Index("ix_calls_state", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), nullable=True, index=True
    )
    caller_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    caller_device_id: Mapped[str] = mapped_column(String(36))
    callee_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    answered_device_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    media: Mapped[str] = mapped_column(String(8))
    media_used: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ring_deadline: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(24), nullable=True)
    ended_by_user_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # The socket each side's device is in the call through, and since when it is gone: a
    # reconnect (`call.resume`) rebinds the side, so the old socket's late disconnect is ignored.
    caller_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    callee_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    caller_lost_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    callee_lost_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CallQualityRow(Base):
    __tablename__ = "call_quality_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(String(36))
    rtt_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    jitter_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    packet_loss_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    bitrate_kbps: Mapped[float | None] = mapped_column(Float, nullable=True)
    relayed: Mapped[bool] = mapped_column(Boolean)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
