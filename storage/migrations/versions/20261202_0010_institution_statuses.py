"""per-institution status (issue 13)

Each institution answers for itself: an institution's status on a
recommendation is its own latest update (storage/status.py). An update a
focal point gave without its institution recorded (institution_id NULL)
would otherwise count as the secretariat's own record; it is given its
author's institution here; and an index serves each institution's latest
update. Nothing else changes and nothing is removed: each
row set is written to the audit log (actor "migration 0010", the old and the
new value), and downgrade puts back exactly those rows' NULL from there.

status_updates is append-only by triggers (storage/migrations/append_only.py):
they are dropped for this one UPDATE and made again as they were, in the
migration's transaction.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.clock import utcnow
from storage.migrations.append_only import create_triggers, drop_triggers
from storage.types import UTCDateTime

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = 'migration 0010'
ACTOR_DOWN = 'migration 0010 (downgrade)'

status_updates = sa.table(
    'status_updates',
    sa.column('id', sa.Integer), sa.column('institution_id', sa.Integer), sa.column('author_focal_point_id', sa.Integer),
)
focal_points = sa.table('focal_points', sa.column('id', sa.Integer), sa.column('institution_id', sa.Integer))
audit_log = sa.table(
    'audit_log',
    sa.column('at', UTCDateTime), sa.column('actor', sa.String), sa.column('action', sa.String),
    sa.column('entity', sa.String), sa.column('entity_id', sa.String), sa.column('changes', sa.JSON),
)


def _audit(bind: sa.Connection, actor: str, changed: list[tuple[int, int | None, int | None]]) -> None:
    at = utcnow()
    for start in range(0, len(changed), 1000):
        bind.execute(audit_log.insert(), [
            {'at': at, 'actor': actor, 'action': 'update', 'entity': 'status_updates', 'entity_id': str(id_),
             'changes': {'institution_id': [old, new]}}
            for id_, old, new in changed[start:start + 1000]
        ])


def _set(bind: sa.Connection, changed: list[tuple[int, int | None, int | None]]) -> None:
    drop_triggers('status_updates')
    for id_, _, new in changed:
        bind.execute(status_updates.update().where(status_updates.c.id == id_).values(institution_id=new))
    create_triggers('status_updates')


def upgrade() -> None:
    # Each institution's latest update of each recommendation, read from the index alone.
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.create_index('ix_status_updates_recommendation_institution_id', ['recommendation_id', 'institution_id', 'id'], unique=False)
    bind = op.get_bind()
    found = bind.execute(
        sa.select(status_updates.c.id, focal_points.c.institution_id)
        .join(focal_points, focal_points.c.id == status_updates.c.author_focal_point_id)
        .where(status_updates.c.institution_id.is_(None))
        .order_by(status_updates.c.id)
    ).all()
    changed = [(id_, None, institution) for id_, institution in found]
    if changed:
        _set(bind, changed)
        _audit(bind, ACTOR, changed)


def downgrade() -> None:
    bind = op.get_bind()
    entries = bind.execute(
        sa.select(audit_log.c.entity_id, audit_log.c.changes)
        .where(audit_log.c.actor == ACTOR, audit_log.c.entity == 'status_updates')
    ).all()
    todo: dict[int, int] = {}
    for entity_id, changes in entries:
        todo[int(entity_id)] = changes['institution_id'][1]
    current = {
        id_: institution for id_, institution in bind.execute(
            sa.select(status_updates.c.id, status_updates.c.institution_id).where(status_updates.c.id.in_(list(todo)))
        )
    } if todo else {}
    # Only the rows still as this migration left them: one already put back is not touched again.
    changed = [(id_, new, None) for id_, new in sorted(todo.items()) if new is not None and current.get(id_) == new]
    if changed:
        _set(bind, changed)
        _audit(bind, ACTOR_DOWN, changed)
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_status_updates_recommendation_institution_id')
