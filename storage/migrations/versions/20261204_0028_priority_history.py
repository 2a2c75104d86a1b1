"""priority_changes (issue 15): every change of a recommendation's
effective priority, or of what it rests on, with who, when and why,
append-only (triggers as status_updates), so reports as of a past day and
`priorities show --as-of` tell the priority as it was.

Each recommendation that has a priority gets one row, cause "migration",
at the last time its inputs or the row itself changed: the level history
begins with what was found.

A new table only: nothing existing is altered.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.append_only import create_triggers, drop_triggers
from storage.types import UTCDateTime

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _level(name: str) -> sa.Enum:
    return sa.Enum('high', 'medium', 'low', name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table('priority_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('cause', sa.String(length=32), nullable=False),
    sa.Column('priority', _level('priority_change_level'), nullable=True),
    sa.Column('computed', _level('priority_change_computed'), nullable=True),
    sa.Column('overridden', sa.Boolean(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('criteria', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_priority_changes_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_priority_changes'))
    )
    op.create_index('ix_priority_changes_recommendation', 'priority_changes', ['recommendation_id', 'id'], unique=False)
    op.execute(
        "INSERT INTO priority_changes (recommendation_id, at, actor, cause, priority, overridden, override_reason) "
        "SELECT r.id, COALESCE(p.updated_at, r.updated_at), 'migration 0028', 'migration', r.priority, "
        "CASE WHEN p.override IS NOT NULL AND p.override = r.priority THEN TRUE ELSE FALSE END, "
        "CASE WHEN p.override = r.priority THEN p.override_reason END "
        "FROM recommendations r LEFT JOIN priority_inputs p ON p.recommendation_id = r.id "
        "WHERE r.priority IS NOT NULL ORDER BY r.id"
    )
    create_triggers('priority_changes')


def downgrade() -> None:
    drop_triggers('priority_changes')
    op.drop_index('ix_priority_changes_recommendation', table_name='priority_changes')
    op.drop_table('priority_changes')
