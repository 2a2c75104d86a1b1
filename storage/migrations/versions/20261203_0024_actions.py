"""the implementation plan's actions (issue 16): frameworks (a national
human-rights action plan, a development plan) and their chapters; actions
with their responsible institution, dates, budget and state (proposed by a
focal point, accepted or rejected by the secretariat); what they serve
(recommendations, linked groups, SDG targets, chapters) and who contributes;
their append-only updates (triggers, as status_updates); and the reminder
steps taken for their target dates

New tables only: nothing existing is altered, so no batch rebuild can drop
another table's triggers.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.append_only import create_triggers, drop_triggers
from storage.types import UTCDateTime

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('frameworks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('human_rights_plan', 'development_plan', 'other', name='framework_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frameworks')),
    sa.UniqueConstraint('code', name=op.f('uq_frameworks_code'))
    )
    op.create_table('framework_chapters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id'], name=op.f('fk_framework_chapters_framework_id_frameworks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_framework_chapters')),
    sa.UniqueConstraint('framework_id', 'code', name=op.f('uq_framework_chapters_framework_id_code'))
    )
    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('responsible_institution_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'partially_implemented', 'fully_implemented', 'not_applicable', name='implementation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.Column('budget_amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('budget_currency', sa.String(length=3), nullable=True),
    sa.Column('budget_source', sa.String(length=300), nullable=True),
    sa.Column('budget_internal', sa.Boolean(), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('proposed', 'accepted', 'rejected', name='action_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('budget_amount IS NULL OR budget_amount >= 0', name=op.f('ck_actions_action_budget')),
    sa.CheckConstraint('start_date IS NULL OR target_date IS NULL OR target_date >= start_date', name=op.f('ck_actions_action_dates')),
    sa.ForeignKeyConstraint(['proposed_by'], ['focal_points.id'], name=op.f('fk_actions_proposed_by_focal_points')),
    sa.ForeignKeyConstraint(['responsible_institution_id'], ['institutions.id'], name=op.f('fk_actions_responsible_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions')),
    sa.UniqueConstraint('code', name=op.f('uq_actions_code'))
    )
    op.create_index('ix_actions_responsible_institution_id', 'actions', ['responsible_institution_id'], unique=False)
    op.create_index('ix_actions_state_target_date', 'actions', ['state', 'target_date'], unique=False)
    op.create_table('action_chapters',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_chapters_action_id_actions')),
    sa.ForeignKeyConstraint(['chapter_id'], ['framework_chapters.id'], name=op.f('fk_action_chapters_chapter_id_framework_chapters')),
    sa.PrimaryKeyConstraint('action_id', 'chapter_id', name=op.f('pk_action_chapters'))
    )
    op.create_index(op.f('ix_action_chapters_chapter_id'), 'action_chapters', ['chapter_id'], unique=False)
    op.create_table('action_institutions',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_institutions_action_id_actions')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_action_institutions_institution_id_institutions')),
    sa.PrimaryKeyConstraint('action_id', 'institution_id', name=op.f('pk_action_institutions'))
    )
    op.create_index(op.f('ix_action_institutions_institution_id'), 'action_institutions', ['institution_id'], unique=False)
    op.create_table('action_link_groups',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('link_group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_link_groups_action_id_actions')),
    sa.ForeignKeyConstraint(['link_group_id'], ['link_groups.id'], name=op.f('fk_action_link_groups_link_group_id_link_groups')),
    sa.PrimaryKeyConstraint('action_id', 'link_group_id', name=op.f('pk_action_link_groups'))
    )
    op.create_index(op.f('ix_action_link_groups_link_group_id'), 'action_link_groups', ['link_group_id'], unique=False)
    op.create_table('action_recommendations',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_recommendations_action_id_actions')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_action_recommendations_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('action_id', 'recommendation_id', name=op.f('pk_action_recommendations'))
    )
    op.create_index(op.f('ix_action_recommendations_recommendation_id'), 'action_recommendations', ['recommendation_id'], unique=False)
    op.create_table('action_sdg_targets',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_sdg_targets_action_id_actions')),
    sa.PrimaryKeyConstraint('action_id', 'target', name=op.f('pk_action_sdg_targets'))
    )
    op.create_index(op.f('ix_action_sdg_targets_target'), 'action_sdg_targets', ['target'], unique=False)
    op.create_table('action_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'partially_implemented', 'fully_implemented', 'not_applicable', name='implementation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=True),
    sa.Column('next_step', sa.Text(), nullable=True),
    sa.Column('next_step_due_on', sa.Date(), nullable=True),
    sa.Column('author_focal_point_id', sa.Integer(), nullable=True),
    sa.Column('author_secretariat_user_id', sa.Integer(), nullable=True),
    sa.Column('author_label', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.Enum('telegram', 'slack', 'cli', 'import', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('NOT (author_focal_point_id IS NOT NULL AND author_secretariat_user_id IS NOT NULL)', name=op.f('ck_action_updates_one_author')),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_updates_action_id_actions')),
    sa.ForeignKeyConstraint(['author_focal_point_id'], ['focal_points.id'], name=op.f('fk_action_updates_author_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['author_secretariat_user_id'], ['secretariat_users.id'], name=op.f('fk_action_updates_author_secretariat_user_id_secretariat_users')),
    sa.ForeignKeyConstraint(['corrects_id'], ['action_updates.id'], name=op.f('fk_action_updates_corrects_id_action_updates')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_action_updates_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_updates')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_action_updates_idempotency_key'))
    )
    op.create_index('ix_action_updates_action_id_id', 'action_updates', ['action_id', 'id'], unique=False)
    op.create_table('action_reminder_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('focal_point_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_reminder_steps_action_id_actions')),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_action_reminder_steps_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_action_reminder_steps_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_reminder_steps')),
    sa.UniqueConstraint('focal_point_id', 'action_id', 'step', name=op.f('uq_action_reminder_steps_focal_point_id_action_id_step'))
    )
    op.create_index(op.f('ix_action_reminder_steps_action_id'), 'action_reminder_steps', ['action_id'], unique=False)
    op.create_index(op.f('ix_action_reminder_steps_outbox_id'), 'action_reminder_steps', ['outbox_id'], unique=False)
    create_triggers('action_updates')


def downgrade() -> None:
    drop_triggers('action_updates')
    op.drop_index(op.f('ix_action_reminder_steps_outbox_id'), table_name='action_reminder_steps')
    op.drop_index(op.f('ix_action_reminder_steps_action_id'), table_name='action_reminder_steps')
    op.drop_table('action_reminder_steps')
    op.drop_index('ix_action_updates_action_id_id', table_name='action_updates')
    op.drop_table('action_updates')
    op.drop_index(op.f('ix_action_sdg_targets_target'), table_name='action_sdg_targets')
    op.drop_table('action_sdg_targets')
    op.drop_index(op.f('ix_action_recommendations_recommendation_id'), table_name='action_recommendations')
    op.drop_table('action_recommendations')
    op.drop_index(op.f('ix_action_link_groups_link_group_id'), table_name='action_link_groups')
    op.drop_table('action_link_groups')
    op.drop_index(op.f('ix_action_institutions_institution_id'), table_name='action_institutions')
    op.drop_table('action_institutions')
    op.drop_index(op.f('ix_action_chapters_chapter_id'), table_name='action_chapters')
    op.drop_table('action_chapters')
    op.drop_index('ix_actions_state_target_date', table_name='actions')
    op.drop_index('ix_actions_responsible_institution_id', table_name='actions')
    op.drop_table('actions')
    op.drop_table('framework_chapters')
    op.drop_table('frameworks')

