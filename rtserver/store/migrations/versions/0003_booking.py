"""booking: availability, session types, bookings, booking history, calendar feeds

On PostgreSQL two exclusion constraints (btree_gist) make double booking impossible: live
bookings of one counselor never overlap in their occupied span (buffers included), and live
bookings of one client never overlap in their session time. SQLite has no such constraint; its
single serialised writer re-checks inside the booking transaction instead.

Revision ID: 0003_booking
Revises: 0002_chat
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rtserver.store.tables import UtcDateTime

revision: str = "0003_booking"
down_revision: str | None = "0002_chat"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

LIVE = "status IN ('pending', 'confirmed')"


def upgrade() -> None:
    op.create_table(
        "counselor_schedules",
        sa.Column(
            "counselor_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("week", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "counselor_date_overrides",
        sa.Column(
            "counselor_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("ranges", sa.Text(), nullable=False),
    )
    op.create_table(
        "session_types",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "counselor_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("slot_interval_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("booking_window_days", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("requires_confirmation", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_session_types_counselor", "session_types", ["counselor_id"])
    op.create_table(
        "bookings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("counselor_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column(
            "session_type_id", sa.String(36), sa.ForeignKey("session_types.id"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=False),
        sa.Column("occupied_start", UtcDateTime(), nullable=False),
        sa.Column("occupied_end", UtcDateTime(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("room_id", sa.String(36), nullable=False, unique=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("cancelled_by", sa.String(16), nullable=True),
        sa.Column("cancel_reason", sa.String(500), nullable=True),
        sa.Column("late_cancel", sa.Boolean(), nullable=True),
        sa.Column("client_joined_at", UtcDateTime(), nullable=True),
        sa.Column("counselor_joined_at", UtcDateTime(), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'declined', 'cancelled', 'completed', 'no_show')",
            name="ck_bookings_status",
        ),
        sa.CheckConstraint("start_at < end_at", name="ck_bookings_session_span"),
        sa.CheckConstraint(
            "occupied_start <= start_at AND end_at <= occupied_end",
            name="ck_bookings_occupied_span",
        ),
    )
    op.create_index("ix_bookings_counselor_span", "bookings", ["counselor_id", "occupied_start"])
    op.create_index("ix_bookings_client_start", "bookings", ["client_id", "start_at"])
    op.create_table(
        "booking_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "booking_id",
            sa.String(36),
            sa.ForeignKey("bookings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("from_start", UtcDateTime(), nullable=True),
        sa.Column("from_end", UtcDateTime(), nullable=True),
        sa.Column("to_start", UtcDateTime(), nullable=True),
        sa.Column("to_end", UtcDateTime(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
    )
    op.create_index("ix_booking_events_booking", "booking_events", ["booking_id", "id"])
    op.create_table(
        "calendar_feeds",
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_counselor_overlap "
            "EXCLUDE USING gist (counselor_id WITH =, "
            "tstzrange(occupied_start, occupied_end, '[)') WITH &&) "
            f"WHERE ({LIVE})"
        )
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_client_overlap "
            "EXCLUDE USING gist (client_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
            f"WHERE ({LIVE})"
        )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    op.drop_table("booking_events")
    op.drop_table("bookings")
    op.drop_table("session_types")
    op.drop_table("counselor_date_overrides")
    op.drop_table("counselor_schedules")
