"""one recommendation whatever the import order (issue 15 review):
recommendation_sources.row_tags keeps a UPR Info row's own tags (its
recommending State, region, organisations, issues and action), so that a
UPR Info paragraph folded from several States' rows can give a UHRI
paragraph exactly the rows of the States it names, and the others their
own tags (storage.importers.writer). NULL for UHRI and template rows, which
need none, and for UPR Info rows imported before this revision: nothing
can be backfilled, the row's tags having been merged into its
recommendation's.

A plain ALTER TABLE ADD COLUMN on both backends, as 0022 did: no batch
rebuild, so no table's triggers are touched.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('recommendation_sources', sa.Column('row_tags', sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place.
    op.drop_column('recommendation_sources', 'row_tags')
