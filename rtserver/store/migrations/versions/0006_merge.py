"""merge the booking, screening and keys branches into one head

Revision ID: 0006_merge
Revises: 0003_booking, 0004_screening, 0005_keys
Create Date: 2026-11-29
"""

from collections.abc import Sequence

revision: str = "0006_merge"
down_revision: tuple[str, ...] | None = ("0003_booking", "0004_screening", "0005_keys")
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
