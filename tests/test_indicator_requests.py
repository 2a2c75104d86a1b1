"""An indicator's value asked in chat at its due date (issue 16): the
request, reminded and escalated like any deadline, and the focal point's
answer through the fake gateway, number in their locale's format, a value
out of range refused with the reason."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage.clock import running_on
from storage.conversations import link_identity
from storage.enums import Channel, FocalPointRole, OutboxStatus, Platform
from storage.indicator_models import IndicatorFrequency, IndicatorKind, IndicatorReminderStep, IndicatorValue
from storage.indicators import IndicatorData, add_indicator
from storage.models import FocalPoint, OutboxMessage
from storage.network import FocalPointData, add_focal_point
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from tests.dialogue_harness import ANA, bot, chat, clock, gateway
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

BRUNO, CARLA, CLAIRE = Person("112"), Person("113"), Person("222")
# Montevideo keeps no holidays here (the policy's country is unset): plain working days.
POLICY = Policy()
# Quarterly from Monday 23 November 2026 (the clock's today): it asks for July to September 2026.
DUE = date(2026, 11, 23)


@pytest.fixture
async def indicator(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], clock: FakeClock) -> int:
    """I-3, the Ministry of Justice's count of legal-aid cases, plausible from 0 to 5,000."""
    with running_on(clock):
        async with sessions() as session, session.begin():
            made = await add_indicator(session, IndicatorData(
                "I-3", IndicatorKind.PROCESS, "Cases of free legal aid given to women", "cases", IndicatorFrequency.QUARTERLY, "MOJ", DUE,
                baseline_value=Decimal(900), baseline_date=date(2024, 12, 31), target_value=Decimal(2000), target_date=date(2028, 12, 31),
                data_source="Legal aid case register", plausible_min=Decimal(0), plausible_max=Decimal(5000),
            ))
            return made.id


async def _outbox(sessions: async_sessionmaker[AsyncSession], status: OutboxStatus | None = None) -> list[OutboxMessage]:
    async with sessions() as session:
        statement = select(OutboxMessage).where(OutboxMessage.key.like("indicators%")).order_by(OutboxMessage.id)
        if status is not None:
            statement = statement.where(OutboxMessage.status == status)
        return list((await session.scalars(statement)).all())


async def _deliver_all(sessions: async_sessionmaker[AsyncSession]) -> None:
    """As the sender would: every pending message delivered."""
    async with sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING).values(status=OutboxStatus.SENT))


async def _set_language(sessions: async_sessionmaker[AsyncSession], focal_point: int, language: str) -> None:
    async with sessions() as session, session.begin():
        person = await session.get(FocalPoint, focal_point)
        assert person is not None
        person.language = language


async def test_the_request_asks_in_french_refuses_a_wrong_figure_with_the_reason_and_keeps_the_value(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], indicator: int, clock: FakeClock, bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    await _set_language(sessions, world["ana"], "fr")
    assert await ReminderService(sessions, POLICY, clock).tick() == 1
    [row] = await _outbox(sessions)
    request = OutgoingMessage.from_dict(row.message)
    assert row.focal_point_id == world["ana"] and row.kind.value == "reminder"
    assert request.text.startswith("Valeurs d'indicateurs attendues de Ministry of Justice :")
    assert "I-3 Cases of free legal aid given to women (cases), pour 1 juil.\u2009–\u200930 sept. 2026 : attendue le 23 novembre 2026" in request.text
    give = next(b for row_ in request.buttons for b in row_ if b.label == "Donner I-3")

    assert await chat(bot, gateway, ANA.presses(give.action)) == ["indicator.ask_value"]
    # Not a number, then an English number in a French chat: each refused, saying why.
    await bot.handle(ANA.says("beaucoup"))
    [refused] = gateway.take()
    assert refused.key == "indicator.not_a_number" and "« beaucoup » n'est pas un nombre" in refused.text and "1\u202f234,5" in refused.text
    await bot.handle(ANA.says("1,234.5"))
    assert [m.key for m in gateway.take()] == ["indicator.not_a_number"]
    # Out of the plausible range: the range is given.
    await bot.handle(ANA.says("12 000"))
    [refused] = gateway.take()
    assert refused.key == "indicator.out_of_range"
    assert refused.text.startswith("12\u202f000 cases sort de la fourchette que le secrétariat a jugée plausible pour I-3 : de 0 à 5\u202f000.")
    # "1 234,5" typed with an ordinary space: read as French writes it.
    assert await chat(bot, gateway, ANA.says("1 234,5")) == ["indicator.ask_period"]
    assert await chat(bot, gateway, lambda g: ANA.presses(g.action("Pour 1 juil.\u2009–\u200930 sept. 2026"))) == ["indicator.ask_source_default"]
    assert await chat(bot, gateway, lambda g: ANA.presses(g.action("Source : Legal aid case register"))) == ["indicator.ask_note"]
    await bot.handle(ANA.says("Décompte provisoire : deux tribunaux manquent"))
    [saved] = gateway.take()
    assert saved.key == "indicator.saved"
    assert saved.text.splitlines() == [
        "Enregistré : I-3 = 1\u202f234,5 cases pour 1 juil.\u2009–\u200930 sept. 2026 (source : Legal aid case register).",
        "Évolution depuis la valeur de référence (900, 31 décembre 2024) : +334,5 cases.",
        "Cible : 2\u202f000 cases d'ici au 31 décembre 2028.",
    ]
    async with sessions() as session:
        [value] = (await session.scalars(select(IndicatorValue))).all()
    assert (value.value, value.period_start, value.period_end, value.due_on) == (Decimal("1234.5"), date(2026, 7, 1), date(2026, 9, 30), DUE)
    assert (value.source, value.note, value.focal_point_id, value.channel) == (
        "Legal aid case register", "Décompte provisoire : deux tribunaux manquent", world["ana"], Channel.TELEGRAM,
    )
    assert value.created_at == clock()

    # Answered: no reminder follows, and the old button says so.
    await _deliver_all(sessions)
    clock.advance(days=3)
    assert await ReminderService(sessions, POLICY, clock).tick() == 0
    assert await chat(bot, gateway, ANA.presses(give.action)) == ["indicator.already_given"]


async def test_a_spanish_number_and_a_typed_period_source_and_skipped_note(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], indicator: int, clock: FakeClock, bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    await _set_language(sessions, world["ana"], "es")
    await ReminderService(sessions, POLICY, clock).tick()
    [row] = await _outbox(sessions)
    give = next(b for r in OutgoingMessage.from_dict(row.message).buttons for b in r if b.label == "Dar I-3")
    await chat(bot, gateway, ANA.presses(give.action))
    assert await chat(bot, gateway, ANA.says("1.234,5")) == ["indicator.ask_period"]
    assert await chat(bot, gateway, ANA.says("2026-09-30 2026-07-01")) == ["indicator.period_reversed"]
    assert await chat(bot, gateway, ANA.says("2027-01-01 2027-03-31")) == ["indicator.period_future"]
    assert await chat(bot, gateway, ANA.says("del 2026-08-01 al 2026-09-30")) == ["indicator.ask_source_default"]
    assert await chat(bot, gateway, ANA.says("Informe del Poder Judicial")) == ["indicator.ask_note"]
    assert await chat(bot, gateway, ANA.says("omitir")) == ["indicator.saved"]
    async with sessions() as session:
        [value] = (await session.scalars(select(IndicatorValue))).all()
    assert (value.value, value.period_start, value.source, value.note) == (Decimal("1234.5"), date(2026, 8, 1), "Informe del Poder Judicial", None)


async def test_an_english_reader_types_grouped_thousands_and_sees_the_change_from_the_value_before(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], indicator: int, clock: FakeClock, bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    async def give(number: str) -> list[str]:
        await ReminderService(sessions, POLICY, clock).tick()
        row = (await _outbox(sessions))[-1]
        action = next(b.action for r in OutgoingMessage.from_dict(row.message).buttons for b in r if b.label == "Give I-3")
        await chat(bot, gateway, ANA.presses(action), ANA.says(number), lambda g: ANA.presses(g.action(next(
            b.label for _, m in reversed(g.history) for r in m.buttons for b in r if b.label.startswith("For ")
        ))), lambda g: ANA.presses(g.action("Source: Legal aid case register")))
        await bot.handle(ANA.presses(gateway.action("Skip")))
        return gateway.take()[-1].text.splitlines()

    first = await give("1,100")
    assert first[0] == "Saved: I-3 = 1,100 cases for 1 Jul\u2009–\u200930 Sept 2026 (source: Legal aid case register)."
    await _deliver_all(sessions)
    # The next quarter's due date, 23 February 2027: October to December asked.
    clock.now = clock.now.replace(year=2027, month=2, day=23)
    second = await give("1,050.25")
    assert second[:3] == [
        "Saved: I-3 = 1,050.25 cases for 1 Oct\u2009–\u200931 Dec 2026 (source: Legal aid case register).",
        "Change from the value before: −49.75 cases.",
        "Change from the baseline (900, 31 December 2024): +150.25 cases.",
    ]


async def test_unanswered_it_is_reminded_every_third_working_day_then_escalated_and_the_secretariat_told(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], indicator: int, clock: FakeClock,
) -> None:
    async with sessions() as session, session.begin():
        for name, role, user in (("Bruno Díaz", FocalPointRole.ALTERNATE, "112"), ("Carla Ruiz", FocalPointRole.SENIOR, "113")):
            person = await add_focal_point(session, FocalPointData(name, "MOJ", role, "en", "America/Montevideo", date(2025, 1, 1), f"{user}@justicia.example"))
            await link_identity(session, person.id, Platform.TELEGRAM, "", user, user)
        await seed_secretariat_users(session, [SecretariatUserData("María González", "maria@cancilleria.example", "en", "America/Montevideo", telegram_user_id=900)])
    service = ReminderService(sessions, POLICY, clock)
    sent: list[tuple[date, str, str, str]] = []
    day = clock.now
    for offset in range(0, 15):
        clock.now = day + timedelta(days=offset)
        await service.tick()
        for row in await _outbox(sessions, OutboxStatus.PENDING):
            sent.append((clock.now.date(), row.platform_user_id, row.kind.value, OutgoingMessage.from_dict(row.message).key))
        await _deliver_all(sessions)
    focal = [(d, who, kind) for d, who, kind, _ in sent if who != "900"]
    assert focal == [
        (date(2026, 11, 23), "111", "reminder"),
        # Three working days on: Thursday 26, then Tuesday 1 December, with the alternate told.
        (date(2026, 11, 26), "111", "reminder"),
        (date(2026, 12, 1), "111", "reminder"),
        (date(2026, 12, 1), "112", "escalation"),
        # The step after that, a later day: the senior.
        (date(2026, 12, 4), "111", "reminder"),
        (date(2026, 12, 4), "113", "escalation"),
    ]
    digests = [d for d, who, kind, key in sent if who == "900"]
    assert all(key == "indicator.late_digest" for _, who, _, key in sent if who == "900")
    # From the first reminder on, one each working day (never a weekend), until 7 December.
    assert digests == [date(2026, 11, 26), date(2026, 11, 27), *(date(2026, 11, 30) + timedelta(days=n) for n in range(5)), date(2026, 12, 7)]


async def test_a_withdrawn_request_is_asked_again_and_a_stranger_or_a_busy_dialogue_refuses_the_button(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], indicator: int, clock: FakeClock, bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    service = ReminderService(sessions, POLICY, clock)
    await service.tick()
    # Ana snoozes the same morning: the request is withdrawn.
    assert await chat(bot, gateway, ANA.says("/snooze 2026-11-24")) == ["snooze.set"]
    assert [r.status for r in await _outbox(sessions)] == [OutboxStatus.CANCELLED]
    clock.advance(days=2)
    await service.tick()
    rows = await _outbox(sessions)
    assert [(r.status, r.key.rsplit(":", 1)[1]) for r in rows] == [(OutboxStatus.CANCELLED, "2026-11-23"), (OutboxStatus.PENDING, "2026-11-25")]
    give = next(b.action for r in OutgoingMessage.from_dict(rows[-1].message).buttons for b in r if b.label == "Give I-3")

    # Claire answers for the Ministry of Women: not hers to give.
    async with sessions() as session, session.begin():
        claire = await add_focal_point(session, FocalPointData("Claire Martin", "MOW", FocalPointRole.TECHNICAL, "fr", "Europe/Paris", date(2025, 1, 1), "claire@femmes.example"))
        await link_identity(session, claire.id, Platform.TELEGRAM, "", "222", "222")
    assert await chat(bot, gateway, CLAIRE.presses(give)) == ["indicator.not_yours"]
    # While Ana updates a recommendation, the button waits.
    await chat(bot, gateway, ANA.presses(f"upd:{world['mine']}"))
    assert await chat(bot, gateway, ANA.presses(give)) == ["stale.other"]
    assert await chat(bot, gateway, ANA.says("/cancel"), ANA.presses(give)) == ["update.cancelled", "indicator.ask_value"]
    # Once it is open, another request's button waits as well.
    assert await chat(bot, gateway, ANA.presses(f"ind:{indicator}:2026-11-24")) == ["stale.other"]


async def test_a_request_withdrawn_by_a_closure_day_is_asked_again_once_and_counts_towards_escalation(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], indicator: int, clock: FakeClock,
) -> None:
    async with sessions() as session, session.begin():
        bruno = await add_focal_point(session, FocalPointData("Bruno Díaz", "MOJ", FocalPointRole.ALTERNATE, "en", "America/Montevideo", date(2025, 1, 1), "112@justicia.example"))
        await link_identity(session, bruno.id, Platform.TELEGRAM, "", "112", "112")
    service = ReminderService(sessions, POLICY, clock)
    await service.tick()
    [first] = await _outbox(sessions)
    # Withdrawn after it was planned, as a closure day declared that morning would.
    async with sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == first.id).values(status=OutboxStatus.CANCELLED))
    sent: list[tuple[date, str]] = []
    day = clock.now
    for offset in range(1, 12):
        clock.now = day + timedelta(days=offset)
        await service.tick()
        sent += [(clock.now.date(), row.platform_user_id) for row in await _outbox(sessions, OutboxStatus.PENDING)]
        await _deliver_all(sessions)
    assert sent == [
        # The request again the next working day, and only then.
        (date(2026, 11, 24), "111"),
        # The first reminder keeps to the due date's rhythm: three working days after the 23rd.
        (date(2026, 11, 26), "111"),
        # Two requests delivered (the one asked again among them): the alternate is told with the next.
        (date(2026, 12, 1), "111"),
        (date(2026, 12, 1), "112"),
        (date(2026, 12, 4), "111"),
    ]
    async with sessions() as session:
        steps = (await session.execute(
            select(IndicatorReminderStep.step, OutboxMessage.status).outerjoin(OutboxMessage, OutboxMessage.id == IndicatorReminderStep.outbox_id)
            .where(IndicatorReminderStep.focal_point_id == world["ana"]).order_by(IndicatorReminderStep.id)
        )).all()
    # The withdrawn step's row gave way to the one that asked again.
    assert [(s, st) for s, st in steps if s == "due"] == [("due", OutboxStatus.SENT)]
