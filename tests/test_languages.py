"""The seven languages in chat (issue 17), through the engine on the fake
platform: onboarding proposes the language the person's app speaks,
/language lists every language by its own name, an Arabic turn reads right
to left with its left-to-right fragments isolated, a Chinese turn reads
Chinese and a next step typed with a full-width colon is understood.

Until the lead moves ar, zh, ru and pt into SUPPORTED_LANGUAGES, the tests
make the bot speak them (``speaking``); the catalogs may still lack a key,
which t() says in English, so the right-to-left checks look at the replies
whose key the Arabic catalog holds (and require most of them to)."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import messages
from handlers import update_text
from handlers.chat_port import ChatAddress, IncomingMessage, OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.secretariat_users import secretariat_joined
from messages import UPCOMING_LANGUAGES, catalog, language_of_locale, t
from messages.bidi import FSI, LRI, PDI, RLM, strip_controls
from storage.conversations import create_invite
from storage.enums import FocalPointRole, ImplementationStatus as S, Platform, SecretariatRole
from storage.models import Document, FocalPoint, Recommendation, SecretariatUser
from storage.network import FocalPointData, add_focal_point
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from storage.secretariat_invites import create_secretariat_invite
from storage.status import history
from tests.dialogue_harness import bot, chat, clock, gateway
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

ana = Person("111")
Speak = Callable[..., None]


@pytest.fixture
def speaking(monkeypatch: pytest.MonkeyPatch) -> Iterator[Speak]:
    """``speaking("ar")``: the bot speaks Arabic too, in every module that
    reads SUPPORTED_LANGUAGES (t(), /language, the stored language's check,
    the words typed in any language), as it will once the lead adds it."""
    original = messages.SUPPORTED_LANGUAGES

    def speak(*languages: str) -> None:
        everyone = (*original, *(lang for lang in languages if lang not in original))
        for module in list(sys.modules.values()):
            if getattr(module, "__dict__", {}).get("SUPPORTED_LANGUAGES") is original:
                monkeypatch.setattr(module, "SUPPORTED_LANGUAGES", everyone)
        update_text.skip_words.cache_clear()
        update_text._next_line.cache_clear()

    yield speak
    monkeypatch.undo()
    update_text.skip_words.cache_clear()
    update_text._next_line.cache_clear()


def first_strong(line: str) -> str | None:
    """A paragraph's first strong direction, what isolates hold skipped (UAX #9, P2)."""
    depth = 0
    for c in line:
        if c in (LRI, "\u2067", FSI):
            depth += 1
        elif c == PDI:
            depth = max(0, depth - 1)
        elif depth == 0 and unicodedata.bidirectional(c) in ("L", "R", "AL"):
            return unicodedata.bidirectional(c)
    return None


def outside_isolates(text: str) -> str:
    """``text`` with what its isolates hold taken out."""
    out, depth = [], 0
    for c in text:
        if c in (LRI, "\u2067", FSI):
            depth += 1
        elif c == PDI:
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(c)
    return "".join(out)


def right_to_left(message: OutgoingMessage) -> bool:
    """Every line of the message and of its buttons reads right to left."""
    lines = [line for line in message.text.split("\n") if line.strip()]
    labels = [b.label for row in message.buttons for b in row if b.label.strip()]
    return all(line.startswith(RLM) and first_strong(line) == "R" for line in lines) and all(
        first_strong(label) == "R" for label in labels if not label.strip().lstrip("#").isdigit()
    )


def test_a_platforms_locale_names_the_language_it_proposes(speaking: Speak) -> None:
    if "ar" not in messages.SUPPORTED_LANGUAGES:
        assert language_of_locale("ar") is None  # not spoken yet
    speaking(*UPCOMING_LANGUAGES)
    tags = ["ar", "ar-SA", "pt-BR", "pt-PT", "zh-hans", "zh-CN", "zh-TW", "zh-hant", "ru", "ru-RU", "en-US", "fr_FR", "es-419", "de", "", None]
    assert [language_of_locale(tag) for tag in tags] == [
        "ar", "ar", "pt", "pt", "zh", "zh", "zh", "zh", "ru", "ru", "en", "fr", "es", None, None, None,
    ]


async def test_onboarding_proposes_the_language_the_app_speaks(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock,
    world: dict[str, int], speaking: Speak,
) -> None:
    speaking("ar", "pt")
    async with sessions() as session, session.begin():
        joana = await add_focal_point(session, FocalPointData("Joana Lima", "MOJ", FocalPointRole.TECHNICAL, "en", "UTC", date(2025, 1, 1), "joana@justica.example"))
        amal = await add_focal_point(session, FocalPointData("Amal Haddad", "MOJ", FocalPointRole.SENIOR, "ar", "UTC", date(2025, 1, 1), "amal@adl.example"))
        codes = [await create_invite(session, fp.id, clock()) for fp in (joana, amal)]
    joana_on = Person("701")
    await bot.handle(IncomingMessage(joana_on.address, "d1", text=f"/start {codes[0]}", locale="pt-BR"))
    welcome, proposal = gateway.take()
    assert (welcome.key, proposal.key) == ("onboarding.welcome", "language.propose")
    # Offered in the app's language, answered by either language's own name.
    assert proposal.language == "pt" and [b.label for row in proposal.buttons for b in row] == ["Português", "English"]
    assert proposal.text == t("language.propose", "pt", name="Português", language="/language")
    assert await chat(bot, gateway, joana_on.presses(gateway.action("Português", "701"))) == ["language.set"]
    async with sessions() as session:
        assert (await session.get(FocalPoint, joana.id)).language == "pt"  # type: ignore[union-attr]
    # Invited in the app's language, or an app in a language the bot does not speak: nothing to propose.
    amal_on = Person("702")
    await bot.handle(IncomingMessage(amal_on.address, "d2", text=f"/start {codes[1]}", locale="ar-EG"))
    assert [m.key for m in gateway.take()] == ["onboarding.welcome"]
    async with sessions() as session, session.begin():
        other = await add_focal_point(session, FocalPointData("Dieter Roth", "MOJ", FocalPointRole.ALTERNATE, "en", "UTC", date(2025, 1, 1), "dieter@justiz.example"))
        code = await create_invite(session, other.id, clock())
    await bot.handle(IncomingMessage(Person("703").address, "d3", text=f"/start {code}", locale="de"))
    assert [m.key for m in gateway.take()] == ["onboarding.welcome"]


async def test_a_slack_member_matched_by_email_is_proposed_their_locale(
    bot: ConversationEngine, gateway: FakeGateway, world: dict[str, int], speaking: Speak,
) -> None:
    speaking("zh")
    address = ChatAddress(Platform.SLACK, "U0ANA", "D0ANA", "T0GOV")
    await bot.handle(IncomingMessage(address, "Ev1", text="hello", email="ana@justicia.example", locale="zh-CN"))
    welcome, proposal = gateway.take()
    assert (welcome.key, proposal.key, proposal.language) == ("onboarding.welcome", "language.propose", "zh")
    assert [b.action for row in proposal.buttons for b in row] == ["lang:zh", "lang:en"]


async def _secretariat_invite(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, name: str, email: str, language: str) -> str:
    """A secretariat user added by an admin, and the one-time code they link their account with."""
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC")])
        user = await add_secretariat_user(session, SecretariatUserData(name, email, language, "UTC", role=SecretariatRole.COORDINATOR))
        return await create_secretariat_invite(session, user, clock())


async def _secretariat_language(sessions: async_sessionmaker[AsyncSession], email: str) -> str:
    async with sessions() as session:
        user = await session.scalar(select(SecretariatUser).where(SecretariatUser.email == email))
        assert user is not None
        return user.language


@pytest.mark.parametrize(("platform", "locale", "proposed", "words"), [
    (Platform.TELEGRAM, "pt-BR", "pt", {"language": "/language"}),
    (Platform.SLACK, "ar-SA", "ar", {"language": "language"}),
])
async def test_a_secretariat_user_linking_their_account_is_proposed_their_apps_language(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock,
    world: dict[str, int], speaking: Speak, platform: Platform, locale: str, proposed: str, words: dict[str, str],
) -> None:
    """Telegram's language_code, Slack's user locale: the same offer a focal point gets (handlers.onboarding.propose_language)."""
    speaking(proposed)
    code = await _secretariat_invite(sessions, clock, "Joana Lima", "joana@mfa.example", "en")
    joana = ChatAddress(platform, "U0JOANA", "D0JOANA", "T0GOV") if platform is Platform.SLACK else Person("801").address
    await bot.handle(IncomingMessage(joana, "s1", text=f"/start {code}", locale=locale))
    welcome, proposal = gateway.take()
    assert (welcome.key, welcome.language, proposal.key, proposal.language) == ("secretariat_users.welcome", "en", "language.propose", proposed)
    assert proposal.text == t("language.propose", proposed, name=messages.LANGUAGE_NAMES[proposed], **words)
    assert [b.action for row in proposal.buttons for b in row] == [f"lang:{proposed}", "lang:en"]
    await bot.handle(IncomingMessage(joana, "s2", action=gateway.action(messages.LANGUAGE_NAMES[proposed], joana.user_id)))
    (done,) = gateway.take()
    assert (done.key, done.language, done.text) == ("language.set", proposed, t("language.set", proposed))
    assert await _secretariat_language(sessions, "joana@mfa.example") == proposed


async def test_a_secretariat_user_invited_in_their_apps_language_is_only_welcomed(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock,
    world: dict[str, int], speaking: Speak,
) -> None:
    speaking("ru")
    code = await _secretariat_invite(sessions, clock, "Irina Petrova", "irina@mfa.example", "ru")
    await bot.handle(IncomingMessage(Person("802").address, "s3", text=f"/start {code}", locale="ru-RU"))
    assert [m.key for m in gateway.take()] == ["secretariat_users.welcome"]
    async with sessions() as session, session.begin():
        other = await add_secretariat_user(session, SecretariatUserData("Dieter Roth", "dieter@mfa.example", "en", "UTC"))
        code = await create_secretariat_invite(session, other, clock())
    # An app in a language the bot does not speak: nothing to propose.
    await bot.handle(IncomingMessage(Person("803").address, "s4", text=f"/start {code}", locale="de"))
    assert [m.key for m in gateway.take()] == ["secretariat_users.welcome"]


def test_a_secretariat_user_is_welcomed_then_proposed_their_apps_language() -> None:
    """What the engine sends when an invite links a secretariat user (handlers.secretariat_users.secretariat_joined)."""
    user = SecretariatUser(name="Joana Lima", email="joana@mfa.example", language="en", timezone="UTC", role=SecretariatRole.VIEWER)
    joined = secretariat_joined(user, Platform.SLACK, "zh-CN")
    assert [(m.key, m.language) for m in joined] == [("secretariat_users.welcome", "en"), ("language.propose", "zh")]
    assert joined[1].text == t("language.propose", "zh", name="中文", language="language")
    assert [m.key for m in secretariat_joined(user, Platform.TELEGRAM, "en-US")] == ["secretariat_users.welcome"]
    assert [m.key for m in secretariat_joined(user, Platform.TELEGRAM, None)] == ["secretariat_users.welcome"]


async def test_a_secretariat_user_changes_language_with_language_and_a_focal_point_still_can(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], speaking: Speak,
) -> None:
    speaking(*UPCOMING_LANGUAGES)
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "en", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))
    vera = Person("902")
    await bot.handle(vera.says("/help"))
    (help_,) = gateway.take()
    assert t("secretariat.help_language", "en", language="/language") in help_.text.splitlines()
    await bot.handle(vera.says("/language"))
    (choose,) = gateway.take()
    assert choose.key == "language.choose" and [b.label for row in choose.buttons for b in row] == [messages.LANGUAGE_NAMES[lang] for lang in messages.SUPPORTED_LANGUAGES]
    assert await chat(bot, gateway, vera.presses(gateway.action("العربية", "902"))) == ["language.set"]
    assert await _secretariat_language(sessions, "vera@mfa.example") == "ar"
    await bot.handle(vera.says("/language"))
    (again,) = gateway.take()
    assert again.language == "ar" and again.text == t("language.choose", "ar")
    # A language the bot does not speak is not taken from a forged press.
    await bot.handle(vera.presses("lang:de"))
    assert [m.key for m in gateway.take()] == ["secretariat.help"]
    assert await _secretariat_language(sessions, "vera@mfa.example") == "ar"
    # Focal points' /language is theirs, not refused as the secretariat's.
    assert await chat(bot, gateway, ana.says("/language")) == ["language.choose"]


async def test_language_lists_every_language_by_its_own_name(bot: ConversationEngine, gateway: FakeGateway, world: dict[str, int], speaking: Speak) -> None:
    speaking(*UPCOMING_LANGUAGES)
    await bot.handle(ana.says("/language"))
    (choose,) = gateway.take()
    assert [b.label for row in choose.buttons for b in row] == [
        "English", "Français", "Español", "العربية", "中文", "Русский", "Português",
    ]
    assert await chat(bot, gateway, ana.presses(gateway.action("العربية"))) == ["language.set"]
    await bot.handle(ana.says("/language"))
    (again,) = gateway.take()
    assert again.language == "ar" and again.text == t("language.choose", "ar") and again.text.startswith(RLM)


async def _speaks(sessions: async_sessionmaker[AsyncSession], focal_point: int, language: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(FocalPoint).where(FocalPoint.id == focal_point).values(language=language))


async def test_an_arabic_turn_reads_right_to_left_with_its_fragments_isolated(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], speaking: Speak,
) -> None:
    speaking("ar")
    await _speaks(sessions, world["ana"], "ar")
    rec = world["mine"]
    symbol = "A/HRC/26/7"
    # The UPR's report of the Working Group: the detail names it beside the paragraph.
    async with sessions() as session, session.begin():
        document = Document(symbol=symbol)
        session.add(document)
        await session.flush()
        await session.execute(update(Recommendation).where(Recommendation.id == rec).values(document_id=document.id, paragraph="121.4"))
    said: list[OutgoingMessage] = []

    async def turn(message: IncomingMessage) -> list[OutgoingMessage]:
        await bot.handle(message)
        replies = gateway.take()
        said.extend(replies)
        return replies

    await turn(ana.says("/mine"))
    (detail,) = await turn(ana.presses(f"rec:{rec}"))
    await turn(ana.presses(f"upd:{rec}"))
    (asked,) = await turn(ana.presses(gateway.action(t("status.partially_implemented", "ar"))))
    assert asked.key == "update.ask_done"
    # Amal writes in Arabic, a link and a next step dated in Arabic-Indic digits.
    (saved,) = await turn(ana.says(
        "صدر القانون 19.580 بشأن العنف القائم على النوع الاجتماعي، انظر https://www.impo.com.uy/bases/leyes/19580-2017\n"
        "الخطوة التالية: المرسوم التنظيمي، ٢٠٢٧-٠٣-٣١"
    ))
    assert saved.key == "update.saved"
    async with sessions() as session:
        (stored,) = await history(session, rec)
    assert stored.status is S.PARTIALLY_IMPLEMENTED and stored.next_step_due_on == date(2027, 3, 31)
    assert stored.narrative is not None and stored.narrative.startswith("صدر القانون")

    arabic = [m for m in said if m.key in catalog("ar")]
    assert len(arabic) >= 0.8 * len(said) and len(arabic) >= 5, [m.key for m in said if m not in arabic]
    assert [m.key for m in arabic if not right_to_left(m)] == []
    # "#N", the document's symbol, a URL, a date typed as ISO: never bare in the Arabic line.
    for message in arabic:
        bare = outside_isolates(message.text)
        assert f"#{rec}" not in bare and "https://" not in bare and symbol not in bare, (message.key, message.text)
    assert f"{LRI}#{rec}{PDI}" in saved.text and f"{LRI}#{rec}{PDI}" in detail.text
    assert f"{LRI}{symbol} 121.4{PDI}" in detail.text
    assert strip_controls(saved.text).startswith(strip_controls(t("update.saved", "ar", id=rec, status=t("status.partially_implemented", "ar"))))
    # The next step's date in the reader's Arabic-Indic digits.
    assert "٣١ مارس ٢٠٢٧" in saved.text


async def test_a_chinese_turn(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], speaking: Speak,
) -> None:
    speaking("zh")
    await _speaks(sessions, world["ana"], "zh")
    rec = world["mine"]
    replies = await chat(bot, gateway, ana.says("/mine"))
    assert replies[0] == "mine.header"
    assert await chat(bot, gateway, ana.presses(f"upd:{rec}")) == ["update.ask_status"]
    assert await chat(bot, gateway, ana.presses(gateway.action(t("status.in_progress", "zh")))) == ["update.ask_done"]
    # A full-width colon after 下一步, as a Chinese keyboard types it; the date in full-width digits.
    await bot.handle(ana.says("已通过第19.580号法律。\n下一步：起草实施条例，２０２７-０３-３１"))
    (saved,) = gateway.take()
    assert saved.key == "update.saved" and saved.language == "zh" and RLM not in saved.text
    assert saved.text.startswith(t("update.saved", "zh", id=rec, status=t("status.in_progress", "zh"))) and "2027年3月31日" in saved.text
    async with sessions() as session:
        (stored,) = await history(session, rec)
    assert (stored.narrative, stored.next_step, stored.next_step_due_on) == ("已通过第19.580号法律。", "起草实施条例，２０２７-０３-３１", date(2027, 3, 31))



async def test_a_secretariat_user_types_a_due_date_in_arabic_digits(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], speaking: Speak,
) -> None:
    from storage.secretariat import SecretariatUserData, seed_secretariat_users

    speaking("ar")
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mariam Saleh", "mariam@mofa.example", "ar", "Asia/Amman", telegram_user_id=900)])
    mariam = Person("900")
    assert await chat(bot, gateway, mariam.says("/request"), mariam.says("ما الميزانية التي خصصتها مؤسستكم في عام 2026؟")) == ["compose.ask_text", "compose.ask_due"]
    await bot.handle(mariam.says("٢٠٢٧-٠٣-٣١"))
    (target,) = gateway.take()
    assert target.key == "compose.ask_target" and right_to_left(target)


def test_skip_is_typed_in_every_language(speaking: Speak) -> None:
    """Each catalog's words.skip, as a reader types it: with or without
    Arabic's short vowels, in any case, a full stop or question mark after."""
    speaking(*UPCOMING_LANGUAGES)
    from handlers.update_text import is_skip

    for language in messages.SUPPORTED_LANGUAGES:
        first = strip_controls(t("words.skip", language)).split("|")[0]
        assert is_skip(first) and is_skip(first.upper() + ".") and is_skip(RLM + first), (language, first)
    # The catalog's تخطٍّ typed without its tanwin and shadda.
    assert is_skip("تخطي") and is_skip("تخطٍّ") and is_skip("تخط")
    assert not is_skip("تخطي هذه") and not is_skip("skip this one")
