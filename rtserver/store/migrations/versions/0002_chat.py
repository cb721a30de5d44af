"""chat: conversations, members, messages

Revision ID: 0002_chat
Revises: 0001_accounts
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rtserver.store.tables import UtcDateTime

revision: str = "0002_chat"
down_revision: str | None = "0001_accounts"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(120), nullable=True),
        sa.Column("pair_key", sa.String(80), nullable=True, unique=True),
        sa.Column("created_by", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('direct', 'group')", name="ck_conversations_kind"),
    )
    op.create_table(
        "conversation_members",
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_at", UtcDateTime(), nullable=False),
        sa.Column("joined_seq", sa.BigInteger(), nullable=False),
        sa.Column("read_seq", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_conversation_members_user", "conversation_members", ["user_id"])
    op.create_table(
        "messages",
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column("sender_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("sender_device_id", sa.String(36), nullable=False),
        sa.Column("client_msg_id", sa.String(64), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint(
            "conversation_id", "sender_id", "client_msg_id", name="uq_messages_client_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("conversation_members")
    op.drop_table("conversations")
