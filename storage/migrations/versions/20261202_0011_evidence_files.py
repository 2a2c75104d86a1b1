"""evidence files kept by the bot (issue 13): each file sent as evidence,
with its download's state and, once stored, its place in the store, SHA-256,
size and type (storage/evidence_files.py)

Files sent before this revision are taken in as pending, so the bot fetches
them too while the platform still has them; downgrade drops the table (the
files stay in the store).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.clock import utcnow
from storage.types import UTCDateTime

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

evidence = sa.table(
    'evidence',
    sa.column('id', sa.Integer), sa.column('kind', sa.String), sa.column('platform_file_id', sa.String),
    sa.column('status_update_id', sa.Integer),
)
status_updates = sa.table('status_updates', sa.column('id', sa.Integer), sa.column('channel', sa.String))
evidence_files = sa.table(
    'evidence_files',
    sa.column('evidence_id', sa.Integer), sa.column('platform', sa.String), sa.column('platform_file_id', sa.String),
    sa.column('state', sa.String), sa.column('attempts', sa.Integer), sa.column('next_attempt_at', UTCDateTime),
    sa.column('created_at', UTCDateTime),
)


def upgrade() -> None:
    op.create_table('evidence_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.Enum('telegram', 'slack', name='platform', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('platform_file_id', sa.String(length=300), nullable=False),
    sa.Column('state', sa.Enum('pending', 'stored', 'refused', 'failed', name='evidence_file_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('path', sa.String(length=300), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('mime_type', sa.String(length=200), nullable=True),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('told_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_files_evidence_id_evidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_files')),
    sa.UniqueConstraint('platform', 'platform_file_id', name=op.f('uq_evidence_files_platform_platform_file_id'))
    )
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_files_evidence_id'), ['evidence_id'], unique=False)
        batch_op.create_index('ix_evidence_files_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)
    # The files already sent: the first evidence row of each, to fetch.
    bind = op.get_bind()
    first = bind.execute(
        sa.select(sa.func.min(evidence.c.id), status_updates.c.channel, evidence.c.platform_file_id)
        .join(status_updates, status_updates.c.id == evidence.c.status_update_id)
        .where(evidence.c.kind == 'file', evidence.c.platform_file_id.is_not(None), status_updates.c.channel.in_(('telegram', 'slack')))
        .group_by(status_updates.c.channel, evidence.c.platform_file_id)
    ).all()
    now = utcnow()
    rows = [
        {'evidence_id': e, 'platform': channel, 'platform_file_id': file_id, 'state': 'pending', 'attempts': 0,
         'next_attempt_at': now, 'created_at': now}
        for e, channel, file_id in first
    ]
    for start in range(0, len(rows), 1000):
        bind.execute(evidence_files.insert(), rows[start:start + 1000])


def downgrade() -> None:
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_files_state_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_evidence_files_evidence_id'))
    op.drop_table('evidence_files')
