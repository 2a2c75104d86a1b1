"""pending_deliveries: Slack deliveries acknowledged before their handling
ended, kept until handled

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pending_deliveries',
    sa.Column('platform', sa.Enum('telegram', 'slack', name='platform', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('delivery_id', sa.String(length=200), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'delivery_id', name=op.f('pk_pending_deliveries'))
    )
    with op.batch_alter_table('pending_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_deliveries_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_deliveries_received_at'))
    op.drop_table('pending_deliveries')
