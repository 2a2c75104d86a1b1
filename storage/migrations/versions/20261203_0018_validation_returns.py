"""validation returns (issue 14): the outbox may hold a returned input's
notice to its author, and validation_answers records the update that
answers each returned input (append-only)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.append_only import create_triggers, drop_triggers

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The outbox kinds as 0015 left them, and those this revision adds.
KINDS = (
    'reminder', 'escalation', 'overdue_digest', 'unreachable_notice', 'information_request', 'access_moved',
    'assignment_notice', 'handover', 'deadline_changed',
)
ADDED = ('validation_returned',)


def _kinds(kinds: Sequence[str]) -> str:
    return 'kind IN (' + ', '.join(f"'{k}'" for k in kinds) + ')'


def upgrade() -> None:
    op.create_table('validation_answers',
    sa.Column('validation_id', sa.Integer(), nullable=False),
    sa.Column('status_update_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['status_update_id'], ['status_updates.id'], name=op.f('fk_validation_answers_status_update_id_status_updates')),
    sa.ForeignKeyConstraint(['validation_id'], ['validations.id'], name=op.f('fk_validation_answers_validation_id_validations')),
    sa.PrimaryKeyConstraint('validation_id', name=op.f('pk_validation_answers')),
    sa.UniqueConstraint('status_update_id', name=op.f('uq_validation_answers_status_update_id'))
    )
    create_triggers('validation_answers')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS + ADDED))


def downgrade() -> None:
    drop_triggers('validation_answers')
    op.drop_table('validation_answers')
    bind = op.get_bind()
    # Messages the older schema cannot hold; one not yet sent is lost.
    bind.execute(sa.text("DELETE FROM outbox WHERE kind IN ('validation_returned')"))
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS))
