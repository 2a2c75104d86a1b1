"""One full update in Arabic and one in Chinese on each stand-in (issue 17):
the real python-telegram-bot and slack-bolt adapters, the engine and the
database behind them. What the person reads comes back from the platform as
it would show it: an Arabic message right to left line by line, its #N and
its URL isolated; a Chinese one as the catalog writes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messages import t
from messages.bidi import LRI, PDI, RLM, strip_controls
from storage.conversations import create_invite
from storage.enums import ImplementationStatus as S
from storage.models import FocalPoint
from storage.status import history
from tests.chat_harness import ASSIGNED, SlackPerson, TelegramPerson, live_telegram
from tests.fakes import FakeClock
from tests.slack_harness import ANA, SlackBot, running_slack_bot
from tests.test_languages import Speak, first_strong, outside_isolates, speaking

__all__ = ["speaking"]

LINK = "https://www.impo.com.uy/bases/leyes/19580-2017"
# What a focal point writes, in their language: what was done, a link, the next step and its date.
TYPED = {
    "ar": f"صدر القانون 19.580 وتدرب 1200 موظف. {LINK}\nالخطوة التالية: المرسوم التنظيمي، ٢٠٢٧-٠٣-٣١",
    "zh": f"已通过第19.580号法律，培训了1200名警官。{LINK}\n下一步：起草实施条例，2027-03-31",
}


def reads_right_to_left(text: str) -> bool:
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and all(line.startswith(RLM) and first_strong(line) == "R" for line in lines)


async def _reads(sessions: async_sessionmaker[AsyncSession], language: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(FocalPoint).where(FocalPoint.email == "ana@justicia.example").values(language=language))


async def _check_saved(sessions: async_sessionmaker[AsyncSession], rec: int, language: str, status: S) -> None:
    async with sessions() as session:
        (stored,) = await history(session, rec)
    narrative, _, _ = TYPED[language].partition("\n")
    assert (stored.status, stored.narrative, stored.next_step_due_on) == (status, narrative, date(2027, 3, 31))
    assert [e.url for e in stored.evidence] == [LINK]


@pytest.mark.parametrize("language", ["ar", "zh"])
async def test_a_full_update_on_telegram(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], speaking: Speak, language: str) -> None:
    speaking(language)
    await _reads(sessions, language)
    async with live_telegram(sessions, FakeClock(), users=(111,)) as live:
        ana = TelegramPerson(live.standin, 111)
        header, *items = await ana.says("/mine", expect=1 + ASSIGNED)
        assert strip_controls(header.text).startswith(strip_controls(t("mine.header", language, institution="Ministry of Justice", count=ASSIGNED, page=1, pages=1)))
        await ana.presses(t("button.update", language), on=items[0])
        (asked,) = await ana.presses(t("status.partially_implemented", language))
        assert asked.text == t("update.ask_done", language, example="2027-03-31")
        (saved,) = await ana.says(TYPED[language])
    rec = world["mine"]
    if language == "ar":
        for message in (header, *items, asked, saved):
            assert reads_right_to_left(message.text), message.text
            assert f"#{rec}" not in outside_isolates(message.text) and LINK not in outside_isolates(message.text)
        assert f"{LRI}#{rec}{PDI}" in saved.text and "٣١ مارس ٢٠٢٧" in saved.text
    else:
        assert RLM not in saved.text and "2027年3月31日" in saved.text
    assert strip_controls(saved.text).startswith(strip_controls(t("update.saved", language, id=rec, status=t("status.partially_implemented", language))))
    await _check_saved(sessions, rec, language, S.PARTIALLY_IMPLEMENTED)


async def test_telegrams_language_code_proposes_arabic_at_onboarding(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], speaking: Speak) -> None:
    speaking("ar")
    clock = FakeClock()
    async with sessions() as session, session.begin():
        code = await create_invite(session, world["ana"], clock())
    async with live_telegram(sessions, clock) as live:
        live.standin.add_user(222, "Ana", language_code="ar")
        welcome, proposal = await TelegramPerson(live.standin, 222).says(f"/start {code}", expect=2)
        assert welcome.text.startswith("Welcome, Ana Pérez.")
        assert proposal.text == t("language.propose", "ar", name="العربية", language="/language")
        assert [b["text"] for row in proposal.reply_markup["inline_keyboard"] for b in row] == ["العربية", "English"]
        (done,) = await TelegramPerson(live.standin, 222).presses("العربية", on=proposal)
        assert done.text == t("language.set", "ar") and reads_right_to_left(done.text)


@pytest.fixture
async def slack(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    async with running_slack_bot(sessions, "socket") as bot:
        yield bot


@pytest.mark.parametrize("language", ["ar", "zh"])
async def test_a_full_update_on_slack(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], speaking: Speak, language: str, slack: SlackBot) -> None:
    speaking(language)
    await _reads(sessions, language)
    ana = SlackPerson(slack.standin, ANA)
    header, *items = await ana.says("mine", expect=1 + ASSIGNED)
    done, _, next_line = TYPED[language].partition("\n")
    # Slack's form: the status by its label in the reader's language, the next step's date picked.
    (saved,) = await ana.fills_form(t("button.update", language), {
        "status": t("status.in_progress", language), "done": done.replace(LINK, "").strip(), "links": LINK,
        "next_step": next_line.split(":", 1)[-1].split("：", 1)[-1].strip(), "next_date": "2027-03-31",
    }, on=items[0])
    rec = world["mine"]
    if language == "ar":
        for message in (header, *items, saved):
            assert reads_right_to_left(message.shown), message.shown
            assert f"#{rec}" not in outside_isolates(message.shown)
        assert f"{LRI}#{rec}{PDI}" in saved.shown and "٣١ مارس ٢٠٢٧" in saved.shown
    else:
        assert RLM not in saved.shown and "2027年3月31日" in saved.shown
    assert strip_controls(saved.shown).startswith(strip_controls(t("update.saved", language, id=rec, status=t("status.in_progress", language))))
    async with sessions() as session:
        (stored,) = await history(session, rec)
    assert (stored.status, stored.narrative, stored.next_step_due_on) == (S.IN_PROGRESS, done.replace(LINK, "").strip(), date(2027, 3, 31))
    assert [e.url for e in stored.evidence] == [LINK]


async def test_telegrams_menu_is_described_in_each_language(sessions: async_sessionmaker[AsyncSession], speaking: Speak) -> None:
    """An app set to French shows the French menu; one set to a language the
    bot does not speak, the default (English) one."""
    from bot.transports.telegram import COMMANDS, menu

    assert [(c.command, c.description) for c in menu("en")] == [(c.command, c.description) for c in COMMANDS]
    speaking("ar")
    async with live_telegram(sessions, FakeClock()) as live:
        menus, descriptions = live.standin.command_menus, live.standin.command_descriptions
    names = [c.command for c in COMMANDS]
    assert menus["default"] == menus["default:fr"] == menus["default:es"] == menus["default:ar"] == names
    assert descriptions["default:fr"][0] == "Vos recommandations" and descriptions["default:es"][-1] == "Lo que puedo hacer"
    assert descriptions["default:ar"] == [t(f"command.{name}", "ar") for name in names]
    assert "default:en" not in menus and "default:de" not in menus


async def test_the_secretariats_menu_is_described_in_each_users_language(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], speaking: Speak) -> None:
    from bot.transports.telegram import COMMANDS, SECRETARIAT_COMMANDS, secretariat_menu
    from storage.secretariat import SecretariatUserData, seed_secretariat_users, telegram_chat_languages

    speaking("ar")
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [
            SecretariatUserData("María González", "maria@cancilleria.example", "es", "America/Montevideo", telegram_user_id=900),
            SecretariatUserData("Mariam Saleh", "mariam@mofa.example", "ar", "Asia/Amman", telegram_user_id=902),
        ])

    async def languages() -> dict[int, str]:
        async with sessions() as session:
            return await telegram_chat_languages(session)

    # The English menu is the one the constants describe.
    assert [(c.command, c.description) for c in secretariat_menu(SECRETARIAT_COMMANDS, "en")] == [
        (c.command, c.description) for c in secretariat_menu(SECRETARIAT_COMMANDS)
    ]
    async with live_telegram(sessions, FakeClock(), (900, 902), secretariat_chat_ids=(900, 902), secretariat_languages=languages) as live:
        descriptions = live.standin.command_descriptions
    theirs = [c.command for c in SECRETARIAT_COMMANDS]
    for chat, language in ((900, "es"), (902, "ar")):
        expected = [t(f"command.{c.command}", language) for c in COMMANDS if c.command not in theirs]
        expected += [t(f"command.secretariat.{name}", language) for name in theirs]
        assert descriptions[f"chat:{chat}"] == expected, chat
    assert descriptions["chat:900"][-1] == "Los compromisos del año: quién se comprometió, quién confirmó, el informe"
