"""screening: submissions (answers sealed), notifications inbox, audit log

Revision ID: 0004_screening
Revises: 0002_chat
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rtserver.store.tables import UtcDateTime

revision: str = "0004_screening"
down_revision: str | None = "0002_chat"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "screening_submissions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "client_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("instrument_id", sa.String(40), nullable=False),
        sa.Column("instrument_version", sa.String(20), nullable=False),
        sa.Column("booking_id", sa.String(64), nullable=True),
        sa.Column("submitted_at", UtcDateTime(), nullable=False),
        sa.Column("answers_sealed", sa.Text(), nullable=False),
        sa.Column("scores", sa.Text(), nullable=False),
        sa.Column("flags", sa.Text(), nullable=False),
        sa.Column("risk_level", sa.String(16), nullable=True),
        sa.Column("counselors_alerted", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "risk_level IS NULL OR risk_level IN ('urgent', 'elevated')",
            name="ck_screening_submissions_risk_level",
        ),
    )
    op.create_index(
        "ix_screening_submissions_client", "screening_submissions", ["client_id", "submitted_at"]
    )
    op.create_index(
        "ix_screening_submissions_risk", "screening_submissions", ["submitted_at", "risk_level"]
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("read_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_notifications_user", "notifications", ["user_id", "created_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("actor_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject_user_id", sa.String(36), nullable=True),
        sa.Column("record_id", sa.String(64), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject_user_id", "at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor_id", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("notifications")
    op.drop_table("screening_submissions")
