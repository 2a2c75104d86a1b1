"""The chat import's preview and result say how many rows were already
imported from the other source (UHRI or UPR Info), kept with another
State's row, or moved off a paragraph not naming their State."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Recommendation
from tests.dialogue_harness import clock, gateway
from tests.test_chat_imports import bot, colin, fetcher, handled, sends, staging, users
from tests.conftest import FIXTURES
from tests.test_import_dedupe import count, uhri_file

# Fixtures used by name: the chat import's, from its own tests.
__all__ = ["bot", "clock", "fetcher", "gateway", "staging", "users"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPRINFO_GROUPED = FIXTURES / "uprinfo_grouped.csv"
UHRI_GROUPED = FIXTURES / "uhri_grouped.csv"


async def test_the_chat_preview_and_import_say_the_rows_known_from_another_source(
    sessions: async_sessionmaker[AsyncSession], gateway: Any, fetcher: Any, bot: Any, users: dict[str, int], tmp_path: Path,
) -> None:
    """``users`` stands on ``world``, which imported uprinfo_small.csv."""
    data = uhri_file(tmp_path).read_bytes()
    [preview] = await handled(bot, gateway, sends(colin, fetcher, "uhri.xlsx", data, XLSX))
    assert "Recommendations: 2 rows: 0 to create, 0 to change, 0 unchanged" in preview.text
    assert "of which 2 rows are recommendations already imported from the other source (UHRI or UPR Info)" in preview.text
    [done] = await handled(bot, gateway, colin.presses(gateway.action("Import", "901")))
    assert "of which 2 rows are recommendations already imported" in done.text
    assert "changed since the preview" not in done.text
    assert await count(sessions, Recommendation) == 6


async def test_the_chat_says_the_rows_kept_with_another_states_and_the_rows_moved(
    sessions: async_sessionmaker[AsyncSession], gateway: Any, fetcher: Any, bot: Any, users: dict[str, int],
) -> None:
    """UPR Info's one row per recommending State, then UHRI's paragraphs:
    the preview and the result say what became of the rows."""
    before = await count(sessions, Recommendation)
    data = UPRINFO_GROUPED.read_bytes()
    [preview] = await handled(bot, gateway, sends(colin, fetcher, "uprinfo_grouped.csv", data))
    folded = "of which 11 rows are the same recommendation as another State's row (UPR Info gives one row per recommending State)"
    assert folded in preview.text
    [done] = await handled(bot, gateway, colin.presses(gateway.action("Import", "901")))
    assert folded in done.text
    assert await count(sessions, Recommendation) == before + 7
    [preview] = await handled(bot, gateway, sends(colin, fetcher, "uhri_grouped.csv", UHRI_GROUPED.read_bytes()))
    moved = "5 rows already imported from UPR Info move off a paragraph that does not name their recommending State"
    assert moved in preview.text
    [done] = await handled(bot, gateway, colin.presses(gateway.action("Import", "901")))
    assert moved in done.text
    assert await count(sessions, Recommendation) == before + 10
