"""issue 15, follow-up selections and deadlines: no schema change (their table
is 0020's follow_up_selections). Reserved while the parts were built side by
side, and kept, empty, so a database already stamped 0023 stays on the chain

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
