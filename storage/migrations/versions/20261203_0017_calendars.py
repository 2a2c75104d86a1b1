"""calendars (issue 14): each focal point keeps the public holidays of their
own country and subdivision (focal_points.country, .subdivision; unset, the
configured [schedule] country), and the secretariat's own closure days
(closure_days), each for everyone, a country or one of its subdivisions

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0017'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('focal_points') as batch:
        batch.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch.add_column(sa.Column('subdivision', sa.String(length=32), nullable=True))
    op.create_table('closure_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('subdivision', sa.String(length=32), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_closure_days_closure_range')),
    sa.CheckConstraint('subdivision IS NULL OR country IS NOT NULL', name=op.f('ck_closure_days_closure_scope')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closure_days'))
    )
    with op.batch_alter_table('closure_days') as batch:
        batch.create_index(batch.f('ix_closure_days_starts_on'), ['starts_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('closure_days') as batch:
        batch.drop_index(batch.f('ix_closure_days_starts_on'))
    op.drop_table('closure_days')
    with op.batch_alter_table('focal_points') as batch:
        batch.drop_column('subdivision')
        batch.drop_column('country')
