"""the secretariat's word on each data-derived priority criterion (issue 15):
priority_inputs gains urgency, recurrence and marginalised (NULL: follow the
data), and a priority the template import wrote before becomes an override
with reason "set in the template" (as the template import now
writes it), so the first refresh by the criteria keeps it

Plain ADD COLUMN on both backends (priority_inputs has no triggers, but the
house rule is one way of adding columns).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CRITERIA = ('urgency', 'recurrence', 'marginalised')


def upgrade() -> None:
    for name in _CRITERIA:
        op.add_column('priority_inputs', sa.Column(name, sa.Boolean(), nullable=True))
    # Until now only the template import wrote recommendations.priority; from
    # here the column is the criteria's result, so what the template said is
    # kept as the override it was meant to be (its time: the row's last change).
    op.execute(
        "INSERT INTO priority_inputs (recommendation_id, override, override_reason, updated_at, updated_by) "
        "SELECT r.id, r.priority, 'set in the template', r.updated_at, 'migration 0021' FROM recommendations r "
        "WHERE r.priority IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM priority_inputs p WHERE p.recommendation_id = r.id)"
    )
    op.execute(
        "UPDATE priority_inputs SET override = (SELECT r.priority FROM recommendations r "
        "WHERE r.id = priority_inputs.recommendation_id), override_reason = 'set in the template' "
        "WHERE override IS NULL AND EXISTS (SELECT 1 FROM recommendations r "
        "WHERE r.id = priority_inputs.recommendation_id AND r.priority IS NOT NULL)"
    )


def downgrade() -> None:
    for name in reversed(_CRITERIA):
        # SQLite 3.35+ drops a plain column in place.
        op.drop_column('priority_inputs', name)
