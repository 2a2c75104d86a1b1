"""the implementation plan's indicators (issue 16): indicators (kind,
definition, unit, baseline, target, source, disaggregation, frequency, the
institution that reports them, the plausible range the secretariat sets,
the first due date), what they measure (actions, recommendations), their
values (append-only, triggers as status_updates) and the reminder steps of
each due date's request

New tables only: nothing existing is altered, so no batch rebuild can drop
another table's triggers.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.indicator_models import Measure
from storage.migrations.append_only import create_triggers, drop_triggers
from storage.types import UTCDateTime

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('structural', 'process', 'outcome', name='indicator_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('unit', sa.String(length=100), nullable=False),
    sa.Column('baseline_value', Measure(), nullable=True),
    sa.Column('baseline_date', sa.Date(), nullable=True),
    sa.Column('target_value', Measure(), nullable=True),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.Column('data_source', sa.String(length=300), nullable=True),
    sa.Column('disaggregation', sa.String(length=300), nullable=True),
    sa.Column('frequency', sa.Enum('monthly', 'quarterly', 'half_yearly', 'yearly', name='indicator_frequency', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('plausible_min', Measure(), nullable=True),
    sa.Column('plausible_max', Measure(), nullable=True),
    sa.Column('first_due', sa.Date(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('plausible_min IS NULL OR plausible_max IS NULL OR plausible_max >= plausible_min', name=op.f('ck_indicators_plausible_range')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_indicators_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('code', name=op.f('uq_indicators_code'))
    )
    op.create_index(op.f('ix_indicators_institution_id'), 'indicators', ['institution_id'], unique=False)
    op.create_table('indicator_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('value', Measure(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('focal_point_id', sa.Integer(), nullable=True),
    sa.Column('secretariat_user_id', sa.Integer(), nullable=True),
    sa.Column('reporter_label', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.Enum('telegram', 'slack', 'cli', 'import', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('NOT (focal_point_id IS NOT NULL AND secretariat_user_id IS NOT NULL)', name=op.f('ck_indicator_values_one_reporter')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_indicator_values_period_order')),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_indicator_values_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_values_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_indicator_values_institution_id_institutions')),
    sa.ForeignKeyConstraint(['secretariat_user_id'], ['secretariat_users.id'], name=op.f('fk_indicator_values_secretariat_user_id_secretariat_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_indicator_values_idempotency_key'))
    )
    op.create_index('ix_indicator_values_indicator_id_id', 'indicator_values', ['indicator_id', 'id'], unique=False)
    op.create_table('indicator_actions',
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_indicator_actions_action_id_actions')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_actions_indicator_id_indicators')),
    sa.PrimaryKeyConstraint('indicator_id', 'action_id', name=op.f('pk_indicator_actions'))
    )
    op.create_index(op.f('ix_indicator_actions_action_id'), 'indicator_actions', ['action_id'], unique=False)
    op.create_table('indicator_recommendations',
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_recommendations_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_indicator_recommendations_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('indicator_id', 'recommendation_id', name=op.f('pk_indicator_recommendations'))
    )
    op.create_index(op.f('ix_indicator_recommendations_recommendation_id'), 'indicator_recommendations', ['recommendation_id'], unique=False)
    op.create_table('indicator_reminder_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('focal_point_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_indicator_reminder_steps_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_reminder_steps_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_indicator_reminder_steps_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_reminder_steps')),
    sa.UniqueConstraint('focal_point_id', 'indicator_id', 'due_on', 'step', name=op.f('uq_indicator_reminder_steps_step'))
    )
    op.create_index(op.f('ix_indicator_reminder_steps_indicator_id'), 'indicator_reminder_steps', ['indicator_id'], unique=False)
    op.create_index(op.f('ix_indicator_reminder_steps_outbox_id'), 'indicator_reminder_steps', ['outbox_id'], unique=False)
    create_triggers('indicator_values')


def downgrade() -> None:
    drop_triggers('indicator_values')
    op.drop_index(op.f('ix_indicator_reminder_steps_outbox_id'), table_name='indicator_reminder_steps')
    op.drop_index(op.f('ix_indicator_reminder_steps_indicator_id'), table_name='indicator_reminder_steps')
    op.drop_table('indicator_reminder_steps')
    op.drop_index(op.f('ix_indicator_recommendations_recommendation_id'), table_name='indicator_recommendations')
    op.drop_table('indicator_recommendations')
    op.drop_index(op.f('ix_indicator_actions_action_id'), table_name='indicator_actions')
    op.drop_table('indicator_actions')
    op.drop_index('ix_indicator_values_indicator_id_id', table_name='indicator_values')
    op.drop_table('indicator_values')
    op.drop_index(op.f('ix_indicators_institution_id'), table_name='indicators')
    op.drop_table('indicators')
