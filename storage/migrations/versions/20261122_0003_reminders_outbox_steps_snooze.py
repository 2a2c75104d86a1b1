"""reminders: outbox, reminder steps, snooze, unreachable identities

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 17:35:17.727708
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('reminder', 'escalation', 'overdue_digest', 'unreachable_notice', 'information_request', name='outbox_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('platform', sa.Enum('telegram', 'slack', name='platform', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('platform_user_id', sa.String(length=64), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=True),
    sa.Column('focal_point_id', sa.Integer(), nullable=True),
    sa.Column('secretariat_user_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.JSON(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'unreachable', 'cancelled', name='outbox_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('send_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('ambiguous', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_outbox_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['identity_id'], ['chat_identities.id'], name=op.f('fk_outbox_identity_id_chat_identities')),
    sa.ForeignKeyConstraint(['secretariat_user_id'], ['secretariat_users.id'], name=op.f('fk_outbox_secretariat_user_id_secretariat_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_focal_point_id'), ['focal_point_id'], unique=False)
        batch_op.create_index('ix_outbox_status_due_at', ['status', 'due_at'], unique=False)

    op.create_table('reminder_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('focal_point_id', sa.Integer(), nullable=False),
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadlines.id'], name=op.f('fk_reminder_steps_deadline_id_deadlines')),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_reminder_steps_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_reminder_steps_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_steps')),
    sa.UniqueConstraint('focal_point_id', 'deadline_id', 'step', name=op.f('uq_reminder_steps_focal_point_id_deadline_id_step'))
    )
    with op.batch_alter_table('reminder_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_steps_deadline_id'), ['deadline_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_steps_outbox_id'), ['outbox_id'], unique=False)

    with op.batch_alter_table('chat_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unreachable_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unreachable_reason', sa.String(length=300), nullable=True))

    with op.batch_alter_table('focal_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_until', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('focal_points', schema=None) as batch_op:
        batch_op.drop_column('snoozed_until')

    with op.batch_alter_table('chat_identities', schema=None) as batch_op:
        batch_op.drop_column('unreachable_reason')
        batch_op.drop_column('unreachable_since')

    with op.batch_alter_table('reminder_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_steps_outbox_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_steps_deadline_id'))

    op.drop_table('reminder_steps')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_due_at')
        batch_op.drop_index(batch_op.f('ix_outbox_focal_point_id'))

    op.drop_table('outbox')
