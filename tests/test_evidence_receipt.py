"""A file over [evidence] max_file_mb, sent in the status dialogue, is
refused at once with a message, and nothing of it is kept (issue 13):
handlers.status_update calls handlers.evidence.refuse_too_large."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.chat_harness import ASSIGNED, LiveTelegram, TelegramPerson
from tests.fakes import FakeClock
from tests.test_evidence_files import MB, kept
from tests.test_evidence_files import telegram as telegram  # noqa: F401 - the fixture


async def test_a_file_over_the_limit_sent_in_the_dialogue_is_refused_at_once_and_not_kept(
    telegram: tuple[LiveTelegram, FakeClock],  # noqa: F811 - the fixture
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    live, _ = telegram
    ana = TelegramPerson(live.standin, 111)
    await ana.starts_update(0, "partially implemented", ASSIGNED)
    before = len(ana.inbox)
    live.standin.user_sends_document(111, "video.mp4", "video/mp4", 25 * MB, "Training filmed")
    replies = (await live.standin.wait_for_messages(111, before + 1))[before:]
    assert any("video.mp4" in m.text and "over 20 MB" in m.text for m in replies), [m.text for m in replies]
    assert await kept(sessions) == []
