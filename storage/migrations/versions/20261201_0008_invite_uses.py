"""invites: spent per platform (invite_uses) rather than once for all; the
outbox may tell an account that its access was moved

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ('reminder', 'escalation', 'overdue_digest', 'unreachable_notice', 'information_request')
PLATFORMS = ('telegram', 'slack')

invites = sa.table('invites', sa.column('id', sa.Integer), sa.column('used_at', sa.DateTime(timezone=True)))
invite_uses = sa.table(
    'invite_uses', sa.column('invite_id', sa.Integer), sa.column('platform', sa.String), sa.column('used_at', sa.DateTime(timezone=True)),
)


def _kinds(kinds: Sequence[str]) -> str:
    return 'kind IN (' + ', '.join(f"'{k}'" for k in kinds) + ')'


def upgrade() -> None:
    op.create_table('invite_uses',
    sa.Column('invite_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.Enum(*PLATFORMS, name='platform', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invite_id'], ['invites.id'], name=op.f('fk_invite_uses_invite_id_invites')),
    sa.PrimaryKeyConstraint('invite_id', 'platform', name=op.f('pk_invite_uses'))
    )
    bind = op.get_bind()
    # Which platform spent an invite was not recorded: a used one is spent on all.
    used = list(bind.execute(sa.select(invites.c.id, invites.c.used_at).where(invites.c.used_at.is_not(None))))
    if used:
        bind.execute(invite_uses.insert(), [{'invite_id': i, 'platform': p, 'used_at': at} for i, at in used for p in PLATFORMS])
    with op.batch_alter_table('invites') as batch:
        batch.drop_column('used_at')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS + ('access_moved',)))


def downgrade() -> None:
    bind = op.get_bind()
    # Notices the older schema cannot hold; one not yet sent is lost.
    bind.execute(sa.text("DELETE FROM outbox WHERE kind = 'access_moved'"))
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('ck_outbox_outbox_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbox_outbox_kind'), _kinds(KINDS))
    with op.batch_alter_table('invites') as batch:
        batch.add_column(sa.Column('used_at', sa.DateTime(timezone=True), nullable=True))
    # Spent on any platform was spent, for a schema that knew only one use.
    first_use = sa.select(sa.func.min(invite_uses.c.used_at)).where(invite_uses.c.invite_id == invites.c.id).scalar_subquery()
    bind.execute(invites.update().values(used_at=first_use))
    op.drop_table('invite_uses')
