"""yearly pledges and their report-back (issue 16): pledge_rounds (a year,
the day pledges are asked by, the day the report-back begins, opened and
closed), the institutions each round asks (and their word that they pledge
nothing), pledges (an institution's own words, draft, confirmed or
withdrawn) with the recommendations and actions they serve, their outcomes
(done, partly, not, with an account: append-only, triggers as
status_updates) and the reminder steps of each round's asking.

New tables only: nothing existing is altered, so no batch rebuild can drop
another table's triggers.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.append_only import create_triggers, drop_triggers
from storage.types import UTCDateTime

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = sa.Enum('telegram', 'slack', 'cli', 'import', name='channel', native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table('pledge_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('ask_by', sa.Date(), nullable=False),
    sa.Column('report_back_on', sa.Date(), nullable=False),
    sa.Column('opened_at', UTCDateTime(), nullable=False),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('report_back_on > ask_by', name=op.f('ck_pledge_rounds_round_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_rounds')),
    sa.UniqueConstraint('year', name=op.f('uq_pledge_rounds_year'))
    )
    op.create_table('pledge_round_institutions',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('no_pledge_at', UTCDateTime(), nullable=True),
    sa.Column('no_pledge_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_pledge_round_institutions_institution_id_institutions')),
    sa.ForeignKeyConstraint(['round_id'], ['pledge_rounds.id'], name=op.f('fk_pledge_round_institutions_round_id_pledge_rounds')),
    sa.PrimaryKeyConstraint('round_id', 'institution_id', name=op.f('pk_pledge_round_institutions'))
    )
    op.create_index(op.f('ix_pledge_round_institutions_institution_id'), 'pledge_round_institutions', ['institution_id'], unique=False)
    op.create_table('pledges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'confirmed', 'withdrawn', name='pledge_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('author_focal_point_id', sa.Integer(), nullable=True),
    sa.Column('author_label', sa.String(length=200), nullable=False),
    sa.Column('channel', CHANNEL, nullable=False),
    sa.Column('confirmed_at', UTCDateTime(), nullable=True),
    sa.Column('confirmed_by', sa.String(length=200), nullable=True),
    sa.Column('withdrawn_at', UTCDateTime(), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=200), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_focal_point_id'], ['focal_points.id'], name=op.f('fk_pledges_author_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_pledges_institution_id_institutions')),
    sa.ForeignKeyConstraint(['round_id'], ['pledge_rounds.id'], name=op.f('fk_pledges_round_id_pledge_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledges')),
    sa.UniqueConstraint('code', name=op.f('uq_pledges_code')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_pledges_idempotency_key'))
    )
    op.create_index('ix_pledges_round_id_institution_id', 'pledges', ['round_id', 'institution_id'], unique=False)
    op.create_table('pledge_actions',
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_pledge_actions_action_id_actions')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_actions_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('pledge_id', 'action_id', name=op.f('pk_pledge_actions'))
    )
    op.create_index(op.f('ix_pledge_actions_action_id'), 'pledge_actions', ['action_id'], unique=False)
    op.create_table('pledge_recommendations',
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_recommendations_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_pledge_recommendations_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('pledge_id', 'recommendation_id', name=op.f('pk_pledge_recommendations'))
    )
    op.create_index(op.f('ix_pledge_recommendations_recommendation_id'), 'pledge_recommendations', ['recommendation_id'], unique=False)
    op.create_table('pledge_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('done', 'partly', 'not', name='pledge_outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('account', sa.Text(), nullable=False),
    sa.Column('author_focal_point_id', sa.Integer(), nullable=True),
    sa.Column('author_secretariat_user_id', sa.Integer(), nullable=True),
    sa.Column('author_label', sa.String(length=200), nullable=False),
    sa.Column('channel', CHANNEL, nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('NOT (author_focal_point_id IS NOT NULL AND author_secretariat_user_id IS NOT NULL)', name=op.f('ck_pledge_outcomes_one_author')),
    sa.ForeignKeyConstraint(['author_focal_point_id'], ['focal_points.id'], name=op.f('fk_pledge_outcomes_author_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['author_secretariat_user_id'], ['secretariat_users.id'], name=op.f('fk_pledge_outcomes_author_secretariat_user_id_secretariat_users')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_outcomes_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_outcomes')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_pledge_outcomes_idempotency_key'))
    )
    op.create_index('ix_pledge_outcomes_pledge_id_id', 'pledge_outcomes', ['pledge_id', 'id'], unique=False)
    op.create_table('pledge_reminder_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('focal_point_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_pledge_reminder_steps_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_pledge_reminder_steps_institution_id_institutions')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_pledge_reminder_steps_outbox_id_outbox')),
    sa.ForeignKeyConstraint(['round_id'], ['pledge_rounds.id'], name=op.f('fk_pledge_reminder_steps_round_id_pledge_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_reminder_steps')),
    sa.UniqueConstraint('focal_point_id', 'round_id', 'phase', 'step', name='uq_pledge_reminder_steps_step')
    )
    op.create_index(op.f('ix_pledge_reminder_steps_outbox_id'), 'pledge_reminder_steps', ['outbox_id'], unique=False)
    op.create_index(op.f('ix_pledge_reminder_steps_round_id'), 'pledge_reminder_steps', ['round_id'], unique=False)
    create_triggers('pledge_outcomes')


def downgrade() -> None:
    drop_triggers('pledge_outcomes')
    op.drop_index(op.f('ix_pledge_reminder_steps_round_id'), table_name='pledge_reminder_steps')
    op.drop_index(op.f('ix_pledge_reminder_steps_outbox_id'), table_name='pledge_reminder_steps')
    op.drop_table('pledge_reminder_steps')
    op.drop_index('ix_pledge_outcomes_pledge_id_id', table_name='pledge_outcomes')
    op.drop_table('pledge_outcomes')
    op.drop_index(op.f('ix_pledge_recommendations_recommendation_id'), table_name='pledge_recommendations')
    op.drop_table('pledge_recommendations')
    op.drop_index(op.f('ix_pledge_actions_action_id'), table_name='pledge_actions')
    op.drop_table('pledge_actions')
    op.drop_index('ix_pledges_round_id_institution_id', table_name='pledges')
    op.drop_table('pledges')
    op.drop_index(op.f('ix_pledge_round_institutions_institution_id'), table_name='pledge_round_institutions')
    op.drop_table('pledge_round_institutions')
    op.drop_table('pledge_rounds')
