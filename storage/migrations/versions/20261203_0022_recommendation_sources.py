"""one recommendation from several sources (issue 15): recommendation_sources
keeps each source's id of a recommendation (backfilled with every
recommendation's own source and id), and recommendations.match_key, the
hash that a UHRI row and a UPR Info row of one UPR recommendation share
(storage.recommendation_match), backfilled for the UPR recommendations of
those two sources. Recommendations already stored twice stay two: the
backfill gives them their keys, and the next import of either file finds
its own rows by their ids as before.

recommendations gains its column by a plain ALTER TABLE ADD COLUMN, never by
batch_alter_table: on SQLite a batch rebuild would drop the full-text search
triggers of 0014. The backfill computes the keys with the importer's own
storage.recommendation_match.match_key, so that stored keys are the ones the
next import looks for.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    op.create_table('recommendation_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('uhri', 'uprinfo', 'template', name='import_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('added_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_recommendation_sources_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation_sources')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_recommendation_sources_source_external_id'))
    )
    op.create_index(op.f('ix_recommendation_sources_recommendation_id'), 'recommendation_sources', ['recommendation_id'], unique=False)
    op.execute(
        "INSERT INTO recommendation_sources (recommendation_id, source, external_id, content_hash, added_at) "
        "SELECT id, source, external_id, content_hash, created_at FROM recommendations ORDER BY id"
    )
    # A plain ADD COLUMN on both backends (see the docstring).
    op.add_column('recommendations', sa.Column('match_key', sa.String(length=64), nullable=True))
    op.create_index('ix_recommendations_match_key', 'recommendations', ['match_key'], unique=False)
    _backfill_match_keys()


def _backfill_match_keys() -> None:
    from storage.enums import ImportSource
    from storage.recommendation_match import match_key

    bind = op.get_bind()
    # The session is the review's: UHRI and UPR Info rows keep it there. A
    # page at a time by id, so that a full registry's texts are not all held.
    page = sa.text(
        "SELECT r.id, r.source, r.country, r.text, v.session FROM recommendations r "
        "JOIN mechanisms m ON m.id = r.mechanism_id JOIN reviews v ON v.id = r.review_id "
        "WHERE m.code = 'UPR' AND r.source IN ('uhri', 'uprinfo') AND v.session IS NOT NULL AND r.id > :after "
        "ORDER BY r.id LIMIT :size"
    )
    statement = sa.text("UPDATE recommendations SET match_key = :key WHERE id = :rec_id")
    after = 0
    while rows := bind.execute(page, {"after": after, "size": _BATCH}).all():
        after = rows[-1][0]
        keys = [
            {"rec_id": rec_id, "key": key}
            for rec_id, source, country, text, session in rows
            if (key := match_key(ImportSource(source), "UPR", country, session, text)) is not None
        ]
        if keys:
            bind.execute(statement, keys)


def downgrade() -> None:
    op.drop_index('ix_recommendations_match_key', table_name='recommendations')
    # SQLite 3.35+ drops a column in place, keeping the table's triggers (the
    # index on it went first: SQLite refuses to drop an indexed column).
    op.drop_column('recommendations', 'match_key')
    op.drop_index(op.f('ix_recommendation_sources_recommendation_id'), table_name='recommendation_sources')
    op.drop_table('recommendation_sources')
