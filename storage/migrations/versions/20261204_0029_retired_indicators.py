"""Retired indicators (issue 16): ``indicators.retired_at`` and
``retired_reason``. A retired indicator is asked no more values; it stays,
with its values, in the history and in the reports, marked retired from that
moment (a report as of an earlier day shows it as it stood then).

Two nullable columns: every existing indicator stays in use.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 19:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('retired_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_column('retired_reason')
        batch_op.drop_column('retired_at')
