"""conversation states, processed deliveries, invites

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:48:31.808171
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('conversation_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.Enum('telegram', 'slack', name='platform', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('platform_user_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_states')),
    sa.UniqueConstraint('platform', 'workspace_id', 'platform_user_id', name=op.f('uq_conversation_states_platform_workspace_id_platform_user_id'))
    )
    op.create_table('processed_deliveries',
    sa.Column('platform', sa.Enum('telegram', 'slack', name='platform', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('delivery_id', sa.String(length=200), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'delivery_id', name=op.f('pk_processed_deliveries'))
    )
    with op.batch_alter_table('processed_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_deliveries_processed_at'), ['processed_at'], unique=False)

    op.create_table('invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('focal_point_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_invites_focal_point_id_focal_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invites')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invites_code_hash'))
    )
    with op.batch_alter_table('invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invites_focal_point_id'), ['focal_point_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('invites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invites_focal_point_id'))

    op.drop_table('invites')
    with op.batch_alter_table('processed_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_deliveries_processed_at'))

    op.drop_table('processed_deliveries')
    op.drop_table('conversation_states')
