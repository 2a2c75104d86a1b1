"""validations: an institution's validator approving or returning its updates (append-only)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 18:23:45.653575
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.append_only import create_triggers, drop_triggers


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('validations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status_update_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('approved', 'returned', name='validation_decision', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('validator_focal_point_id', sa.Integer(), nullable=True),
    sa.Column('validator_label', sa.String(length=200), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['status_update_id'], ['status_updates.id'], name=op.f('fk_validations_status_update_id_status_updates')),
    sa.ForeignKeyConstraint(['validator_focal_point_id'], ['focal_points.id'], name=op.f('fk_validations_validator_focal_point_id_focal_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validations')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_validations_idempotency_key'))
    )
    with op.batch_alter_table('validations', schema=None) as batch_op:
        batch_op.create_index('ix_validations_status_update_id_id', ['status_update_id', 'id'], unique=False)
    create_triggers("validations")


def downgrade() -> None:
    drop_triggers("validations")
    with op.batch_alter_table('validations', schema=None) as batch_op:
        batch_op.drop_index('ix_validations_status_update_id_id')

    op.drop_table('validations')
