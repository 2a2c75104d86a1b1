"""secretariat invites (issue 14): a one-time code links a chat account to a
secretariat user added in chat or on the command line

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('secretariat_invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('secretariat_user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('used_at', UTCDateTime(), nullable=True),
    sa.Column('used_platform', sa.String(length=32), nullable=True),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("used_platform IN ('telegram', 'slack')", name=op.f('ck_secretariat_invites_platform')),
    sa.ForeignKeyConstraint(['secretariat_user_id'], ['secretariat_users.id'], name=op.f('fk_secretariat_invites_secretariat_user_id_secretariat_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_secretariat_invites')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_secretariat_invites_code_hash'))
    )
    with op.batch_alter_table('secretariat_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_secretariat_invites_secretariat_user_id'), ['secretariat_user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('secretariat_invites')
