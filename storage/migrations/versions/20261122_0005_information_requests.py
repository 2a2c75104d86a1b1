"""information requests: broadcasts, recipients, answers (append-only)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 18:29:37.066365
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.append_only import create_triggers, drop_triggers


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('information_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('target', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('secretariat_user_id', sa.Integer(), nullable=True),
    sa.Column('deadline_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadlines.id'], name=op.f('fk_information_requests_deadline_id_deadlines')),
    sa.ForeignKeyConstraint(['secretariat_user_id'], ['secretariat_users.id'], name=op.f('fk_information_requests_secretariat_user_id_secretariat_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_information_requests'))
    )
    op.create_table('request_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('focal_point_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('status_update_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_request_answers_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_request_answers_institution_id_institutions')),
    sa.ForeignKeyConstraint(['request_id'], ['information_requests.id'], name=op.f('fk_request_answers_request_id_information_requests')),
    sa.ForeignKeyConstraint(['status_update_id'], ['status_updates.id'], name=op.f('fk_request_answers_status_update_id_status_updates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_answers')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_request_answers_idempotency_key'))
    )
    with op.batch_alter_table('request_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_answers_request_id'), ['request_id'], unique=False)

    op.create_table('request_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('focal_point_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_request_recipients_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_request_recipients_institution_id_institutions')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_request_recipients_outbox_id_outbox')),
    sa.ForeignKeyConstraint(['request_id'], ['information_requests.id'], name=op.f('fk_request_recipients_request_id_information_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_recipients')),
    sa.UniqueConstraint('request_id', 'focal_point_id', name=op.f('uq_request_recipients_request_id_focal_point_id'))
    )
    with op.batch_alter_table('request_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_recipients_request_id'), ['request_id'], unique=False)

    op.create_table('request_recommendations',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_request_recommendations_recommendation_id_recommendations')),
    sa.ForeignKeyConstraint(['request_id'], ['information_requests.id'], name=op.f('fk_request_recommendations_request_id_information_requests')),
    sa.PrimaryKeyConstraint('request_id', 'recommendation_id', name=op.f('pk_request_recommendations'))
    )
    create_triggers("request_answers")


def downgrade() -> None:
    drop_triggers("request_answers")
    op.drop_table('request_recommendations')
    with op.batch_alter_table('request_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_recipients_request_id'))

    op.drop_table('request_recipients')
    with op.batch_alter_table('request_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_answers_request_id'))

    op.drop_table('request_answers')
    op.drop_table('information_requests')
