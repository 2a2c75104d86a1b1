"""Conversations through the engine, on a fake platform: they read like the chat."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from storage.assignments import assign
from storage.conversations import create_invite, link_identity
from storage.enums import Channel, EvidenceKind, FocalPointRole, ImplementationStatus as S, ImportSource, InstitutionKind, Platform
from storage.importers.run import import_file
from storage.models import ChatIdentity, ConversationState, FocalPoint, Recommendation, StatusUpdate
from storage.network import FocalPointData, InstitutionData, add_focal_point, add_institution
from storage.selection import Selector
from storage.status import history
from tests.conftest import FIXTURES
from tests.fakes import FakeClock, FakeGateway, Person


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Six UPR recommendations; the Ministry of Justice answers for three."""
    await import_file(sessions, ImportSource.UPRINFO, FIXTURES / "uprinfo_small.csv")
    async with sessions() as session, session.begin():
        await add_institution(session, InstitutionData("MOJ", "Ministry of Justice", InstitutionKind.MINISTRY))
        await add_institution(session, InstitutionData("MOW", "Ministry of Women", InstitutionKind.MINISTRY))
        ana = await add_focal_point(session, FocalPointData("Ana Pérez", "MOJ", FocalPointRole.TECHNICAL, "en", "America/Montevideo", date(2025, 1, 1), "ana@justicia.example"))
        ids = list((await session.scalars(select(Recommendation.id).order_by(Recommendation.id))).all())
        await assign(session, "MOJ", Selector(ids=tuple(ids[:3])))
        await assign(session, "MOW", Selector(ids=tuple(ids[3:])))
        await link_identity(session, ana.id, Platform.TELEGRAM, "", "111", "111")
    return {"ana": ana.id, "mine": ids[0], "not_mine": ids[4]}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def bot(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock) -> ConversationEngine:
    return ConversationEngine(sessions, gateway, clock)


ana = Person("111")


async def chat(engine: ConversationEngine, gateway: FakeGateway, *messages: object) -> list[str]:
    for message in messages:
        await engine.handle(message)  # type: ignore[arg-type]
    return [m.key for m in gateway.take()]


async def test_a_full_update(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    rec = world["mine"]
    assert await chat(bot, gateway, ana.says("/mine")) == ["mine.header"] + ["recommendation.summary"] * 3
    assert await chat(bot, gateway, ana.presses(f"upd:{rec}")) == ["update.ask_status"]
    assert await chat(bot, gateway, ana.presses("st:partially_implemented")) == ["update.ask_done"]
    assert await chat(bot, gateway, ana.says("Law 19.580 on gender-based violence adopted in December 2017.")) == ["update.ask_evidence"]
    assert await chat(bot, gateway, ana.says("see https://www.impo.com.uy/bases/leyes/19580-2017")) == ["update.evidence_received"]
    assert await chat(bot, gateway, ana.sends_file("informe-2026.pdf", "application/pdf", 48213)) == ["update.evidence_received"]
    assert await chat(bot, gateway, ana.presses("done")) == ["update.ask_next_step"]
    assert await chat(bot, gateway, ana.says("Regulatory decree")) == ["update.ask_next_date"]
    assert await chat(bot, gateway, ana.says("next March")) == ["update.bad_date"]
    await bot.handle(ana.says("2027-03-31"))
    (confirm,) = gateway.take()
    assert confirm.key == "update.confirm" and "31 March 2027" in confirm.text and "informe-2026.pdf" in confirm.text
    assert await chat(bot, gateway, ana.presses("save")) == ["update.saved"]

    async with sessions() as session:
        (update,) = await history(session, rec)
    assert update.status is S.PARTIALLY_IMPLEMENTED
    assert update.narrative == "Law 19.580 on gender-based violence adopted in December 2017."
    assert (update.next_step, update.next_step_due_on) == ("Regulatory decree", date(2027, 3, 31))
    assert (update.author_focal_point_id, update.channel, update.author_label) == (world["ana"], Channel.TELEGRAM, "Ana Pérez")
    assert [(e.kind, e.url or e.file_name, e.size_bytes) for e in update.evidence] == [
        (EvidenceKind.LINK, "https://www.impo.com.uy/bases/leyes/19580-2017", None),
        (EvidenceKind.FILE, "informe-2026.pdf", 48213),
    ]


async def test_skip_everything_but_the_status(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    rec = world["mine"]
    keys = await chat(bot, gateway, ana.presses(f"upd:{rec}"), ana.presses("st:in_progress"), ana.presses("skip"), ana.presses("skip"), ana.presses("skip"), ana.presses("save"))
    assert keys == ["update.ask_status", "update.ask_done", "update.ask_evidence", "update.ask_next_step", "update.confirm", "update.saved"]
    async with sessions() as session:
        (update,) = await history(session, rec)
    assert (update.status, update.narrative, update.evidence) == (S.IN_PROGRESS, None, [])


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5])
async def test_cancel_at_any_step_saves_nothing(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], steps: int) -> None:
    flow = [ana.presses(f"upd:{world['mine']}"), ana.presses("st:in_progress"), ana.says("Something"), ana.presses("done"), ana.says("Next")][:steps]
    await chat(bot, gateway, *flow)
    cancel = ana.says("/cancel") if steps % 2 else ana.presses("cancel")
    assert await chat(bot, gateway, cancel) == ["update.cancelled"]
    assert await chat(bot, gateway, ana.presses("save")) == ["unknown.command"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 0


async def test_no_change_is_one_tap(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    assert await chat(bot, gateway, ana.presses(f"rec:{world['mine']}")) == ["recommendation.detail"]
    assert await chat(bot, gateway, ana.presses(f"same:{world['mine']}")) == ["update.no_change_saved"]
    async with sessions() as session:
        (update,) = await history(session, world["mine"])
    assert update.status is S.NOT_STARTED


async def test_only_ones_own_institutions_recommendations(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    for action in (f"upd:{world['not_mine']}", f"same:{world['not_mine']}", f"rec:{world['not_mine']}", "upd:999999"):
        assert await chat(bot, gateway, ana.presses(action)) == ["recommendation.not_yours"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 0


async def test_a_restart_mid_conversation_resumes(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, world: dict[str, int]) -> None:
    first = ConversationEngine(sessions, gateway, clock)
    await chat(first, gateway, ana.presses(f"upd:{world['mine']}"), ana.presses("st:fully_implemented"))
    restarted = ConversationEngine(sessions, gateway, clock)
    assert await chat(restarted, gateway, ana.says("Done in 2026."), ana.presses("skip"), ana.presses("skip"), ana.presses("save")) == [
        "update.ask_evidence", "update.ask_next_step", "update.confirm", "update.saved",
    ]


async def test_a_redelivered_message_is_handled_once(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), ana.presses("st:in_progress"), ana.presses("skip"), ana.presses("skip"), ana.presses("skip"))
    save = ana.presses("save", delivery_id="update-77")
    assert await chat(bot, gateway, save) == ["update.saved"]
    assert await chat(bot, gateway, save) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 1


async def test_an_abandoned_conversation_times_out(bot: ConversationEngine, gateway: FakeGateway, clock: FakeClock, world: dict[str, int]) -> None:
    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), ana.presses("st:in_progress"))
    clock.advance(hours=2)
    assert await chat(bot, gateway, ana.says("What was done, two hours later")) == ["unknown.command"]


async def test_strangers_are_refused_and_nothing_is_kept(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    stranger = Person("999")
    assert await chat(bot, gateway, stranger.says("/mine"), stranger.says("hello"), stranger.presses(f"upd:{world['mine']}")) == ["refuse.unknown_user"] * 3
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationState).where(ConversationState.platform_user_id == "999")) == 0
        assert await session.scalar(select(func.count()).select_from(ChatIdentity).where(ChatIdentity.platform_user_id == "999")) == 0


async def test_onboarding_by_invite_code_once_and_in_the_persons_language(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        claire = await add_focal_point(session, FocalPointData("Claire Martin", "MOW", FocalPointRole.SENIOR, "fr", "Europe/Paris", date(2025, 1, 1), "claire@femmes.example"))
        code = await create_invite(session, claire.id, clock())
        late = await create_invite(session, claire.id, clock() - timedelta(days=15))
    newcomer, thief = Person("222"), Person("333")
    await bot.handle(newcomer.says(f"/start {code}"))
    (welcome,) = gateway.take()
    assert welcome.key == "onboarding.welcome"
    assert welcome.text == "Bienvenue, Claire Martin. Vous êtes point focal principal pour Ministry of Women. Envoyez /mine pour voir vos recommandations."
    assert await chat(bot, gateway, thief.says(f"/start {code}"), thief.says(f"/start {late}")) == ["onboarding.bad_code"] * 2
    assert await chat(bot, gateway, newcomer.says("/mine")) == ["mine.header"] + ["recommendation.summary"] * 3


async def test_language_is_chosen_per_person(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    await bot.handle(ana.says("/language"))
    (picker,) = gateway.take()
    assert [b.action for row in picker.buttons for b in row] == ["lang:en", "lang:fr", "lang:es"]
    await bot.handle(ana.presses("lang:es"))
    assert gateway.take()[0].text == "A partir de ahora le escribiré en español."
    await bot.handle(ana.presses(f"upd:{world['mine']}"))
    (question,) = gateway.take()
    assert question.text == f"¿Cuál es ahora el estado de la recomendación n.º {world['mine']}?"
    assert [b.label for row in question.buttons for b in row][:2] == ["no iniciada", "en curso"]
    async with sessions() as session:
        assert (await session.get(FocalPoint, world["ana"])).language == "es"  # type: ignore[union-attr]


async def test_long_answers_and_markup_are_kept_verbatim(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    long_answer = ("The ministry trained 1,200 police officers. " * 120)[:5000]
    tricky = "<b>bold</b> *bold* `code` &amp; =HYPERLINK(\"http://evil.example\",\"x\")"
    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), ana.presses("st:in_progress"), ana.says(long_answer), ana.presses("skip"), ana.says(tricky), ana.presses("skip"), ana.presses("save"))
    async with sessions() as session:
        (update,) = await history(session, world["mine"])
    assert update.narrative == long_answer.strip() and len(long_answer) == 5000
    assert update.next_step == tricky


async def test_a_replaced_focal_point_is_refused(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    from storage.network import end_focal_point

    async with sessions() as session, session.begin():
        await end_focal_point(session, "ana@justicia.example", clock().date() - timedelta(days=1))
    assert await chat(bot, gateway, ana.says("/mine")) == ["refuse.unknown_user"]
