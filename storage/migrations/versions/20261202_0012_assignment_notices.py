"""assignment notices and hand-over (issue 13): which assignments each focal
point was told of (assignment_notices), the outbox may hold an assignment
notice and a successor's hand-over, and assignments are found by when they
were made

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The outbox kinds as 0008 left them, and those this revision adds.
KINDS = ('reminder', 'escalation', 'overdue_digest', 'unreachable_notice', 'information_request', 'access_moved')
ADDED = ('assignment_notice', 'handover')


def _kinds(kinds: Sequence[str]) -> str:
    return 'kind IN (' + ', '.join(f"'{k}'" for k in kinds) + ')'


def upgrade() -> None:
    op.create_table('assignment_notices',
    sa.Column('focal_point_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_assignment_notices_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_assignment_notices_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_assignment_notices_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('focal_point_id', 'assignment_id', name=op.f('pk_assignment_notices'))
    )
    with op.batch_alter_table('assignment_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_notices_outbox_id'), ['outbox_id'], unique=False)
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_assigned_at', ['assigned_at'], unique=False)
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS + ADDED))


def downgrade() -> None:
    op.drop_table('assignment_notices')
    bind = op.get_bind()
    # Messages the older schema cannot hold; one not yet sent is lost.
    bind.execute(sa.text("DELETE FROM outbox WHERE kind IN ('assignment_notice', 'handover')"))
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS))
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_assigned_at')
