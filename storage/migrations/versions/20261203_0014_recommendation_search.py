"""full-text search over recommendation texts (issue 14, /find).

SQLite: an external-content FTS5 table (the text is not stored twice) kept in
step with ``recommendations`` by triggers; ``unicode61 remove_diacritics 2``
folds accents, so "ninos" finds "niños".
PostgreSQL: a GIN index on ``to_tsvector('simple', <accent-folded lower text>)``.
'simple' rather than 'english' or 'spanish': the registry holds texts in
several languages, and a language's stemmer and stop words would serve one of
them and mangle the others. Accents are folded by translate(), which is
immutable and needs no extension (unaccent is not always installable, and is
not immutable). storage/search.py builds the same expression; keep
FOLD_FROM/FOLD_TO equal to its own, or the index is not used.

A later migration that rebuilds ``recommendations`` on SQLite (a
batch_alter_table copies the table) drops these triggers with the old table:
it must create them again (from SQLITE_UP below), or the search stops following.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLD_FROM = "áàâäãåāéèêëēíìîïīóòôöõøōúùûüūñçýÿœæ"
FOLD_TO = "aaaaaaaeeeeeiiiiiooooooouuuuuncyyoa"

SQLITE_UP = (
    "CREATE VIRTUAL TABLE recommendations_fts USING fts5("
    "text, content='recommendations', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER recommendations_fts_insert AFTER INSERT ON recommendations BEGIN "
    "INSERT INTO recommendations_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER recommendations_fts_delete AFTER DELETE ON recommendations BEGIN "
    "INSERT INTO recommendations_fts(recommendations_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER recommendations_fts_update AFTER UPDATE OF text ON recommendations BEGIN "
    "INSERT INTO recommendations_fts(recommendations_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO recommendations_fts(rowid, text) VALUES (new.id, new.text); END",
    # The backfill: every recommendation already there.
    "INSERT INTO recommendations_fts(recommendations_fts) VALUES ('rebuild')",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS recommendations_fts_update",
    "DROP TRIGGER IF EXISTS recommendations_fts_delete",
    "DROP TRIGGER IF EXISTS recommendations_fts_insert",
    "DROP TABLE IF EXISTS recommendations_fts",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
    else:
        # An expression index: PostgreSQL computes it for existing and new rows alike.
        op.execute(
            "CREATE INDEX ix_recommendations_text_search ON recommendations USING gin "
            f"(to_tsvector('simple'::regconfig, translate(lower(text), '{FOLD_FROM}', '{FOLD_TO}')))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_recommendations_text_search")
