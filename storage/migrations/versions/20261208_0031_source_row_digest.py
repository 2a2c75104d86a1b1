"""recommendation_sources.row_digest: a digest of a UHRI row's cells as
read, so that a re-import recognises an unchanged row without parsing it
again (storage.importers.unchanged)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for every row imported before: its next import parses it, finds
    # it unchanged by its content hash as before, and records its digest.
    op.add_column('recommendation_sources', sa.Column('row_digest', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('recommendation_sources') as batch:
        batch.drop_column('row_digest')
