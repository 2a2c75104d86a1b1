"""outbox: the platform's id of each sent message, when an interrupted send began;
focal points' own working hours

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('focal_points') as batch:
        batch.add_column(sa.Column('working_hours', sa.String(length=11), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('working_hours', sa.String(length=11), nullable=True))
        batch.add_column(sa.Column('platform_message_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('interrupted_send_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('interrupted_send_at')
        batch.drop_column('platform_message_id')
        batch.drop_column('working_hours')
    with op.batch_alter_table('focal_points') as batch:
        batch.drop_column('working_hours')
