"""calls: call records with at most one open call per conversation, and quality reports

Revision ID: 0007_calls
Revises: 0006_merge
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rtserver.store.tables import UtcDateTime

revision: str = "0007_calls"
down_revision: str | None = "0006_merge"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

OPEN_CALL = sa.text("state != 'ended'")


def _user_fk(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("bookings.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "caller_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("caller_device_id", sa.String(36), nullable=False),
        sa.Column(
            "callee_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("answered_device_id", sa.String(36), nullable=True),
        sa.Column("media", sa.String(8), nullable=False),
        sa.Column("media_used", sa.String(32), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("ring_deadline", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(24), nullable=True),
        sa.Column("ended_by_user_id", sa.String(36), nullable=True),
        sa.Column("caller_sid", sa.String(64), nullable=True),
        sa.Column("callee_sid", sa.String(64), nullable=True),
        sa.Column("caller_lost_at", UtcDateTime(), nullable=True),
        sa.Column("callee_lost_at", UtcDateTime(), nullable=True),
    )
    op.create_index(
        "uq_calls_open_per_conversation",
        "calls",
        ["conversation_id"],
        unique=True,
        sqlite_where=OPEN_CALL,
        postgresql_where=OPEN_CALL,
    )
    op.create_index("ix_calls_conversation_created", "calls", ["conversation_id", "created_at"])
    op.create_index("ix_calls_state", "calls", ["state"])
    op.create_index("ix_calls_session_id", "calls", ["session_id"])
    op.create_table(
        "call_quality_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "call_id", sa.String(36), sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("rtt_ms", sa.Float(), nullable=True),
        sa.Column("jitter_ms", sa.Float(), nullable=True),
        sa.Column("packet_loss_pct", sa.Float(), nullable=True),
        sa.Column("bitrate_kbps", sa.Float(), nullable=True),
        sa.Column("relayed", sa.Boolean(), nullable=False),
        sa.Column("reported_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_call_quality_reports_call_id", "call_quality_reports", ["call_id"])


def downgrade() -> None:
    op.drop_table("call_quality_reports")
    op.drop_table("calls")
