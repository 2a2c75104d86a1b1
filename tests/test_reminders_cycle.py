"""A whole reporting cycle in seconds: the clock is moved hour by hour, the
real planner, outbox, dispatcher and Telegram adapter run against the stand-in,
and a focal point answers in the middle through the real conversation."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_dispatch import OutboxDispatcher
from bot.standins.telegram import SentMessage, TelegramStandIn
from bot.transports.retry import RetryPolicy
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage.conversations import link_identity
from storage.deadlines import DeadlineData, add_deadline
from storage.enums import DeadlineKind, FocalPointRole, OutboxStatus, Platform
from storage.models import OutboxMessage, SecretariatUser
from storage.network import FocalPointData, add_focal_point
from storage.selection import Selector
from tests.chat_harness import TelegramPerson, live_telegram
from tests.factories import answered_before
from tests.fakes import FakeClock

MONTEVIDEO = ZoneInfo("America/Montevideo")
DUE = date(2027, 1, 29)
ANA, BRUNO, CARLA, MARIA = 111, 112, 113, 900


class Counting:
    """A person whose taps and typed messages are counted, path by path."""

    def __init__(self, person: TelegramPerson) -> None:
        self.person, self.taps, self.typed = person, 0, 0

    async def presses(self, label: str, on: SentMessage | None = None) -> list[SentMessage]:
        self.taps += 1
        return await self.person.presses(label, on=on)

    async def says(self, text: str) -> list[SentMessage]:
        self.typed += 1
        return await self.person.says(text)

    def path(self) -> tuple[int, int]:
        """(taps, typed messages) since the last call."""
        counted, self.taps, self.typed = (self.taps, self.typed), 0, 0
        return counted


@dataclass
class Cycle:
    standin: TelegramStandIn
    clock: FakeClock
    service: ReminderService
    dispatcher: OutboxDispatcher
    sessions: async_sessionmaker[AsyncSession]
    # When each message reached the stand-in, by the test's clock.
    arrived: dict[int, datetime] = field(default_factory=dict)

    async def run_until(self, end: datetime) -> None:
        while self.clock.now < end:
            await self.service.tick()
            await self.dispatcher.drain()
            for message in self.standin.sent:
                self.arrived.setdefault(id(message), self.clock.now)
            # Hourly through Montevideo's day (12:00-21:00 UTC), every three
            # hours at night, when a tick must find nothing to send.
            self.clock.advance(hours=1 if 12 <= self.clock.now.hour <= 20 else 3)

    def to(self, user: int, kind: str | None = None) -> list[tuple[datetime, SentMessage]]:
        return [(self.arrived[id(m)], m) for m in self.standin.messages_to(user) if kind is None or m.text.startswith(kind)]


@pytest.fixture
async def cycle(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[Cycle]:
    async with sessions() as session, session.begin():
        for name, role, user in (("Bruno Silva", FocalPointRole.ALTERNATE, BRUNO), ("Carla Díaz", FocalPointRole.SENIOR, CARLA)):
            fp = await add_focal_point(session, FocalPointData(name, "MOJ", role, "en", "America/Montevideo", date(2025, 1, 1), f"{user}@justicia.example"))
            await link_identity(session, fp.id, Platform.TELEGRAM, "", str(user), str(user))
        maria = SecretariatUser(name="María González", email="maria@cancilleria.example", language="es", timezone="America/Montevideo", active=True)
        session.add(maria)
        await session.flush()
        from storage.models import ChatIdentity

        session.add(ChatIdentity(platform=Platform.TELEGRAM, workspace_id="", platform_user_id=str(MARIA), secretariat_user_id=maria.id))
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, DUE, "Inputs for the UPR mid-term report"), Selector(ids=tuple(world["mine_all"])))
    clock = FakeClock(datetime(2026, 11, 25, 0, tzinfo=timezone.utc))
    async with live_telegram(sessions, clock, (ANA, BRUNO, CARLA, MARIA), retry=RetryPolicy(first_backoff=0.05)) as bot:
        policy = Policy(country="UY")
        service = ReminderService(sessions, policy, clock)
        dispatcher = bot.dispatcher(sessions, clock, policy.working_time, on_unreachable=service.notify_unreachable)
        yield Cycle(bot.standin, clock, service, dispatcher, sessions)


async def test_a_whole_cycle(cycle: Cycle, world: dict[str, int]) -> None:
    one, two, three = world["mine_all"]
    await answered_before(cycle.sessions, "MOJ", one)
    await cycle.run_until(datetime(2027, 1, 16, 0, tzinfo=timezone.utc))
    ana = Counting(TelegramPerson(cycle.standin, ANA))
    # Ana answers from her last reminder's buttons, as anyone would: "no change"
    # on the first item in one tap, a full update of the second in three taps
    # and one typed message.
    reminder = ana.person.inbox[-1]
    answering_from = len(ana.person.inbox)
    assert reminder.text.startswith("Reminder: Ministry of Justice still owes an update")
    labels = [b["text"] for row in reminder.reply_markup["inline_keyboard"] for b in row]
    assert labels[:6] == [f"#{one}", f"#{one}: no change", f"#{two}", f"#{two}: no change", f"#{three}", f"#{three}: no change"]
    assert "No change on all of these" in labels
    (noted,) = await ana.presses(f"#{one}: no change", on=reminder)
    assert noted.text.startswith(f"Noted: no change on #{one}.")
    assert ana.path() == (1, 0)
    (detail,) = await ana.presses(f"#{two}", on=reminder)
    await ana.presses("Give an update", on=detail)
    await ana.presses("in progress")
    (saved,) = await ana.says("Bill drafted and sent to Parliament.\nNext: the vote, 2027-03-15")
    assert saved.text.startswith(f"Saved: #{two} is “in progress”.") and "15 March 2027" in saved.text
    assert ana.path() == (3, 1)
    # The bot's replies, at the moment she wrote: not reminders, so not bound to her hours.
    replies = {id(m) for m in ana.person.inbox[answering_from:]}
    await cycle.run_until(datetime(2027, 2, 6, 0, tzinfo=timezone.utc))

    reminders = cycle.to(ANA, "Reminder:")
    days = [at.astimezone(MONTEVIDEO).date() for at, _ in reminders]
    assert days == [
        date(2026, 11, 30), date(2026, 12, 30), date(2027, 1, 15), date(2027, 1, 22), date(2027, 1, 26), date(2027, 1, 28),
        date(2027, 2, 1), date(2027, 2, 4),
    ]
    # Each at the opening of her working day, 09:00 in Montevideo (12:00 UTC).
    assert {at.astimezone(MONTEVIDEO).hour for at, _ in reminders} == {9}
    # The items she answered are gone from every later digest.
    before = [m.text for at, m in reminders if at.date() <= date(2027, 1, 15)]
    after = [m.text for at, m in reminders if at.date() > date(2027, 1, 16)]
    for answered in (f"#{one} ", f"#{two} "):
        assert all(answered in text for text in before) and not any(answered in text for text in after)
    assert all(f"#{three} " in text for text in after)

    (escalation,) = cycle.to(BRUNO)
    assert escalation[0].astimezone(MONTEVIDEO).date() == date(2027, 1, 15)
    assert escalation[1].text.startswith("For your attention: Ministry of Justice") and "after 2 reminders to Ana Pérez" in escalation[1].text
    (senior,) = cycle.to(CARLA)
    assert senior[0].astimezone(MONTEVIDEO).date() == date(2027, 1, 22)

    overdue = cycle.to(MARIA)
    assert [at.astimezone(MONTEVIDEO).date() for at, _ in overdue] == [date(2027, 2, d) for d in (1, 2, 3, 4, 5)]
    assert overdue[0][1].text.startswith("Contribuciones vencidas hoy:")
    # Never twice, never at night, never at the weekend.
    assert set(Counter((m.chat_id, m.text, at.date()) for at, m in ((cycle.arrived[id(m)], m) for m in cycle.standin.sent)).values()) == {1}
    for message in cycle.standin.sent:
        local = cycle.arrived[id(message)].astimezone(MONTEVIDEO)
        if message.chat_id in (ANA, BRUNO, CARLA, MARIA) and id(message) not in replies:
            assert 9 <= local.hour < 17 and local.weekday() < 5, (local, message.text[:40])
    async with cycle.sessions() as session:
        statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())
    assert set(statuses) == {OutboxStatus.SENT}


async def test_a_blocked_focal_point_is_reported_to_the_secretariat_once(cycle: Cycle) -> None:
    cycle.standin.block(ANA)
    await cycle.run_until(datetime(2026, 12, 31, 0, tzinfo=timezone.utc))
    # One refused attempt, then nothing more is planned for her.
    assert [m for m in cycle.standin.sent if m.chat_id == ANA] == []
    notices = cycle.to(MARIA)
    assert len(notices) == 1 and notices[0][1].text.startswith("Ana Pérez (Ministry of Justice) ya no es localizable en Telegram")
    # With Ana out of reach, the alternate is brought in the same morning.
    (escalation,) = cycle.to(BRUNO)
    assert escalation[0].astimezone(MONTEVIDEO) == datetime(2026, 11, 30, 10, tzinfo=MONTEVIDEO)
    assert cycle.standin.calls.count("sendmessage") == 3  # the refused reminder, the notice, the escalation


async def test_editing_a_deadline_reschedules_without_touching_any_job(cycle: Cycle) -> None:
    from storage.models import Deadline

    await cycle.run_until(datetime(2026, 12, 1, 0, tzinfo=timezone.utc))
    assert [at.astimezone(MONTEVIDEO).date() for at, _ in cycle.to(ANA)] == [date(2026, 11, 30)]  # 60 days before 29 January
    async with cycle.sessions() as session, session.begin():
        deadline = await session.scalar(select(Deadline))
        deadline.due_on = date(2026, 12, 17)  # brought forward by six weeks
    await cycle.run_until(datetime(2026, 12, 18, 0, tzinfo=timezone.utc))
    # The 30-day step of the new date (17 November) had passed unsent: it goes
    # out the next working day; then 14, 7, 3 and 1 days before the new date.
    assert [at.astimezone(MONTEVIDEO).date() for at, _ in cycle.to(ANA)] == [
        date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 3), date(2026, 12, 10), date(2026, 12, 14), date(2026, 12, 16),
    ]



async def test_a_tick_composes_and_records_a_few_messages_at_a_time(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digests are composed and added RECORD_CHUNK at a time (a national
    day's, all at once, were most of the bot's peak memory): one at a time,
    every message planned is kept with its steps, and a second tick adds nothing."""
    import handlers.reminders.service as service_module
    from storage.models import ReminderStep

    monkeypatch.setattr(service_module, "RECORD_CHUNK", 1)
    async with sessions() as session, session.begin():
        for n, institution in ((112, "MOJ"), (113, "MOJ"), (114, "MOW"), (115, "MOW")):
            fp = await add_focal_point(session, FocalPointData(
                f"Person {n}", institution, FocalPointRole.TECHNICAL, "en", "America/Montevideo", date(2025, 1, 1), f"{n}@gov.example"))
            await link_identity(session, fp.id, Platform.TELEGRAM, "", str(n), str(n))
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, DUE, "Inputs for the UPR mid-term report"), Selector(ids=(*world["mine_all"], world["not_mine"])))
    # The deadline's reminders begin 60 days before it; 10:00 in Montevideo.
    clock = FakeClock(datetime(2026, 12, 1, 13, tzinfo=timezone.utc))
    service = ReminderService(sessions, Policy(country="UY"), clock)
    added = await service.tick()
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
        steps = (await session.scalars(select(ReminderStep))).all()
    assert len(rows) == added == 5
    reminded = {row.focal_point_id for row in rows}
    assert len(reminded) == 5 and None not in reminded
    # Each step is taken by its own person's message.
    by_id = {row.id: row for row in rows}
    assert {step.focal_point_id for step in steps} == reminded
    assert all(by_id[step.outbox_id].focal_point_id == step.focal_point_id for step in steps if step.outbox_id is not None)
    assert await service.tick() == 0
