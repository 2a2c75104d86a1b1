"""storage.recommendation_list (`recommendations list` in SQLAlchemy Core,
without the ORM) builds the SQL of storage.recommendations.list_statement,
which the chat's lists and /find build on: for every filter, alone and
together, on SQLite and PostgreSQL. A change to either (the overall status
rule included) that the other does not follow fails here."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from storage import recommendation_list as core
from storage import recommendations as orm
from storage.enums import ImplementationStatus, Priority, RecommendationKind, UprPosition
from storage.recommendation_list import RecommendationFilter

ROOT = Path(__file__).resolve().parents[1]

ONE_BY_ONE: list[dict[str, Any]] = [
    {},
    {"country": "Uruguay"},
    {"mechanism": "upr"},
    {"theme": "Detention_100%"},
    {"institution": " moj "},
    *({"status": status} for status in ImplementationStatus),
    *({"position": position} for position in UprPosition),
    *({"kind": kind} for kind in RecommendationKind),
    {"cluster": "Art. 12_13"},
    {"cycle": 3},
    {"deadline_id": 4},
    {"answering": 7},
    *({"priority": priority} for priority in Priority),
    {"by_priority": True},
]
EVERY_ONE = {
    "country": "Uruguay", "mechanism": "UPR", "theme": "detention", "institution": "MOJ", "status": ImplementationStatus.NOT_STARTED,
    "position": UprPosition.SUPPORTED, "kind": RecommendationKind.RECOMMENDATION, "cluster": "c", "cycle": 3, "deadline_id": 4,
    "answering": 7, "priority": Priority.HIGH, "by_priority": True,
}
FILTERS = [*ONE_BY_ONE, EVERY_ONE, {**EVERY_ONE, "status": ImplementationStatus.IN_PROGRESS}]
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect(), "postgresql+asyncpg": postgresql.asyncpg.dialect()}


def _sql(statement: Any, dialect: Dialect, **kwargs: Any) -> Any:
    return statement.compile(dialect=dialect, compile_kwargs=kwargs)


@pytest.mark.parametrize("limit", [None, 2])
@pytest.mark.parametrize("dialect", DIALECTS, ids=str)
@pytest.mark.parametrize("given", FILTERS, ids=lambda given: ",".join(given) or "none")
def test_the_listing_is_the_sql_of_the_chats_lists(given: dict[str, Any], dialect: str, limit: int | None) -> None:
    filters = RecommendationFilter(**given)
    ours, theirs = core.list_statement(filters, limit), orm.list_statement(filters, limit)
    assert str(_sql(ours, DIALECTS[dialect], literal_binds=True)) == str(_sql(theirs, DIALECTS[dialect], literal_binds=True))
    if dialect == "sqlite":
        # With its parameters: the ORM's are the enums, bound as their values.
        # (PostgreSQL's drivers cast a text parameter compared with a column of
        # no type, ::VARCHAR, which is what these columns are: the SQL above.)
        mine, orms = _sql(ours, DIALECTS[dialect]), _sql(theirs, DIALECTS[dialect])
        assert str(mine) == str(orms)
        assert mine.params == {k: v.value if isinstance(v, Enum) else v for k, v in orms.params.items()}


def test_the_listing_loads_neither_the_orm_nor_the_models() -> None:
    # The point of it (storage.recommendation_list says why), in a fresh interpreter.
    code = (
        "import sys\nimport storage.recommendation_list, storage.migrate, storage.database, bot.config, bot.output\n"
        "print(sorted(m for m in ('sqlalchemy.orm', 'sqlalchemy.ext.asyncio', 'storage.models', 'aiosqlite') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
