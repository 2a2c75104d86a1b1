"""Full-text search over recommendation texts, ranked and paged, on either backend.

SQLite answers from the FTS5 table ``recommendations_fts`` and PostgreSQL from
the expression GIN index, both made by migration 0014 (which says why the
'simple' configuration and why accents are folded). Whatever a person types,
only its words reach the database, each as a plain term: quotes, ``*``, ``-``,
``OR``, ``NEAR`` or unbalanced parentheses are never read as query syntax, so
a query can find nothing but never fails. Every word must appear (AND); the
best match comes first (bm25 on SQLite, ts_rank on PostgreSQL), then by id.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, column, func, literal_column, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValue
from storage.models import Assignment, Recommendation
from storage.recommendations import RecommendationFilter, list_statement

# The same pairs as migration 0014's: the index is used only for the same expression.
FOLD_FROM = "áàâäãåāéèêëēíìîïīóòôöõøōúùûüūñçýÿœæ"
FOLD_TO = "aaaaaaaeeeeeiiiiiooooooouuuuuncyyoa"
# A query longer than this is a paste, not a search; its first words are kept.
MAX_WORDS = 16


@dataclass(frozen=True)
class SearchPage:
    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def search_words(query: str) -> list[str]:
    """The words of ``query``, lower-case and without accents; nothing else survives."""
    decomposed = unicodedata.normalize("NFKD", query.casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = [w for w in re.findall(r"[^\W_]+", folded)]
    return words[:MAX_WORDS]


def _matches(dialect: str, words: list[str]) -> Any:
    """A subquery of (id, score): the matching recommendations, lower score better."""
    if dialect == "sqlite":
        # Each word quoted: FTS5 reads it as a string, never as an operator.
        fts = table("recommendations_fts", column("rowid"))
        match = " ".join(f'"{w}"' for w in words)
        return (
            select(fts.c.rowid.label("id"), literal_column("bm25(recommendations_fts)").label("score"))
            .select_from(fts)
            .where(text("recommendations_fts MATCH :match").bindparams(match=match))
            .subquery("matches")
        )
    vector = func.to_tsvector(
        literal_column("'simple'::regconfig"),
        # Literals, not bound parameters: PostgreSQL matches an expression
        # index only against constants it can see when planning.
        func.translate(func.lower(Recommendation.text), literal_column(f"'{FOLD_FROM}'"), literal_column(f"'{FOLD_TO}'")),
    )
    # plainto_tsquery ignores all punctuation: the words are ANDed.
    query = func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(words))
    return (
        select(Recommendation.id.label("id"), (-func.ts_rank(vector, query)).label("score"))
        .where(vector.op("@@")(query))
        .subquery("matches")
    )


def search_statement(dialect: str, words: list[str], filters: RecommendationFilter, unassigned: bool) -> Select[Any]:
    matches = _matches(dialect, words)
    statement = list_statement(filters).join(matches, matches.c.id == Recommendation.id)
    if unassigned:
        statement = statement.where(~Recommendation.id.in_(select(Assignment.recommendation_id)))
    return statement.add_columns(matches.c.score).order_by(None).order_by(matches.c.score, Recommendation.id)


async def search_recommendations(
    session: AsyncSession,
    query: str,
    filters: RecommendationFilter | None = None,
    *,
    unassigned: bool = False,
    offset: int = 0,
    limit: int = 10,
) -> SearchPage:
    """One page of the recommendations whose text has every word of ``query``, best first.

    Raises InvalidValue when ``query`` has no word at all (only punctuation)."""
    words = search_words(query)
    if not words:
        raise InvalidValue("search: give at least one word to look for")
    if offset < 0 or limit < 1:
        raise InvalidValue("search: the page starts at 0 and holds at least one row")
    statement = search_statement(session.bind.dialect.name, words, filters or RecommendationFilter(), unassigned)
    total = (await session.execute(select(func.count()).select_from(statement.order_by(None).subquery()))).scalar_one()
    rows = [dict(r._mapping) for r in await session.execute(statement.offset(offset).limit(limit))]
    for row in rows:
        row.pop("score", None)
    return SearchPage(rows=rows, total=total, offset=offset, limit=limit)
