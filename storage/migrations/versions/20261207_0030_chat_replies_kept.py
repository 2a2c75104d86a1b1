"""the outbox may hold a chat reply the platform would not take when the
turn was answered (an outage outlasting the transport's retries): it is
sent from there, once, when the platform takes messages again

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The outbox kinds as 0018 left them, and the one this revision adds.
KINDS = (
    'reminder', 'escalation', 'overdue_digest', 'unreachable_notice', 'information_request', 'access_moved',
    'assignment_notice', 'handover', 'deadline_changed', 'validation_returned',
)
ADDED = ('chat_reply',)


def _kinds(kinds: Sequence[str]) -> str:
    return 'kind IN (' + ', '.join(f"'{k}'" for k in kinds) + ')'


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS + ADDED))


def downgrade() -> None:
    bind = op.get_bind()
    # Replies the older schema cannot hold; one not yet sent is lost.
    bind.execute(sa.text("DELETE FROM outbox WHERE kind IN ('chat_reply')"))
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS))
