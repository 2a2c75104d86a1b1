"""deadline corrections (issue 14): a deadline keeps when its report was
submitted and by whom, and is withdrawn rather than deleted; the outbox may
hold a notice that a deadline moved or was withdrawn

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The outbox kinds as 0012 left them, and the one this revision adds.
KINDS = (
    'reminder', 'escalation', 'overdue_digest', 'unreachable_notice', 'information_request',
    'access_moved', 'assignment_notice', 'handover',
)
ADDED = ('deadline_changed',)


def _kinds(kinds: Sequence[str]) -> str:
    return 'kind IN (' + ', '.join(f"'{k}'" for k in kinds) + ')'


def upgrade() -> None:
    with op.batch_alter_table('deadlines') as batch:
        batch.add_column(sa.Column('submitted_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('submitted_by', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('withdrawn_by', sa.String(length=200), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS + ADDED))


def downgrade() -> None:
    bind = op.get_bind()
    # Notices the older schema cannot hold; one not yet sent is lost.
    bind.execute(sa.text("DELETE FROM outbox WHERE kind IN ('deadline_changed')"))
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS))
    # The older schema has no withdrawn deadline nor submitted report: a
    # withdrawn one is live again there, and reminded of, as it was before.
    with op.batch_alter_table('deadlines') as batch:
        batch.drop_column('withdrawn_by')
        batch.drop_column('withdrawn_at')
        batch.drop_column('submitted_by')
        batch.drop_column('submitted_on')
