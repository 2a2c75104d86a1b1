"""Told at once, and handed over (issue 13): assignments made by import or by
the command line reach each focal point of the institution in one message a
working day, through the outbox and in their hours; a successor is welcomed
with the open items and each one's last update."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_dispatch import OutboxDispatcher
from handlers.assignment_notices import NoticeService
from handlers.chat_port import OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from storage.assignment_notices import untold_since
from storage.clock import running_on
from storage.conversations import link_identity
from storage.enums import Channel, ImplementationStatus, OutboxKind, OutboxStatus, Platform
from storage.models import FocalPoint, OutboxMessage, Recommendation
from storage.status import UpdateData, record_update
from tests.cli_harness import Cli
from tests.factories import network_sheets, write_workbook
from tests.fakes import FakeClock, FakeGateway, Person

POLICY = Policy()
# Montevideo (UTC-3): 09:00-17:00 is 12:00-20:00 UTC; the notice at 16:00, 19:00 UTC.
# Paris in November (UTC+1): 08:00-16:00 UTC; the notice at 15:00 UTC.
ANA, JORGE, CLAIRE = "ana.perez@justicia.example", "jorge.silva@justicia.example", "claire.martin@femmes.example"
USERS = {ANA: "201", JORGE: "202", CLAIRE: "203"}


def at(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class Bench:
    """The command line, the notice planner and an outbox sender on one clock."""

    def __init__(self, cli: Cli, sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
        self._cli, self.sessions, self.tmp_path = cli, sessions, tmp_path
        self.clock: FakeClock = cli.clock
        self.gateway = FakeGateway()
        self.service = NoticeService(sessions, POLICY, self.clock)
        self.dispatcher = OutboxDispatcher(sessions, self.gateway, self.clock, POLICY.working_time)

    async def cli(self, *args: str) -> str:
        """A command, in its own thread as in its own process (it runs its own event loop)."""
        out, _ = await asyncio.to_thread(self._cli, *args)
        return out

    async def import_sheets(self, sheets: dict[str, list[list[object]]], name: str) -> None:
        path = write_workbook(self.tmp_path / name, sheets)  # type: ignore[arg-type]
        await self.cli("import", "template", str(path), "--no-progress")

    async def link(self, email: str) -> None:
        async with self.sessions() as session, session.begin():
            person = await session.scalar(select(FocalPoint).where(FocalPoint.email == email))
            assert person is not None
            with running_on(self.clock):
                await link_identity(session, person.id, Platform.TELEGRAM, "", USERS[email], USERS[email])

    async def run(self, until: datetime, minutes: int = 30) -> None:
        """Tick and send every ``minutes`` up to ``until``, as the bot would."""
        while self.clock.now < until:
            self.clock.advance(minutes=minutes)
            await self.service.tick()
            await self.dispatcher.drain()

    def to(self, email: str) -> list[OutgoingMessage]:
        return [m for a, m in self.gateway.history if a.user_id == USERS[email]]

    async def ids(self, *external: str) -> list[int]:
        async with self.sessions() as session:
            found = dict((await session.execute(select(Recommendation.external_id, Recommendation.id))).all())
        return [found[e] for e in external]

    async def rows(self) -> list[OutboxMessage]:
        async with self.sessions() as session:
            return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


@pytest.fixture
def bench(db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Bench:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Bench(Cli(capsys), sessions, tmp_path)


async def _network(bench: Bench) -> None:
    """The network and the recommendations, nothing assigned; the three
    focal points have joined the bot."""
    sheets = network_sheets()
    del sheets["assignments"]
    await bench.import_sheets(sheets, "network.xlsx")
    for email in USERS:
        await bench.link(email)
    bench.clock.advance(minutes=1)


def _buttons(message: OutgoingMessage) -> list[str]:
    return [b.action for row in message.buttons for b in row]


async def test_an_import_gives_one_notice_per_focal_point_with_every_item_and_its_deadline(bench: Bench) -> None:
    await _network(bench)
    r1, r2, c1 = await bench.ids("R-1", "R-2", "C-1")
    await bench.cli("deadlines", "add", "--kind", "internal_input", "--due", "2027-01-29", "--title", "Inputs for the mid-term report", "--ids", f"{r1},{r2}")
    sheets = network_sheets()
    await bench.import_sheets({"recommendations": sheets["recommendations"], "assignments": sheets["assignments"]}, "assignments.xlsx")
    bench.clock.now = at(23, 14)

    await bench.run(at(23, 14, 30))
    assert bench.gateway.history == []  # nothing at once: the day's notice waits for its last hour
    await bench.run(at(23, 19))
    # Claire (Paris) at 16:00 her time; Ana and Jorge (Montevideo) at 16:00 theirs.
    for email, items in ((ANA, [r1]), (JORGE, [r1]), (CLAIRE, [r2, c1])):
        (notice,) = bench.to(email)
        assert notice.key == "notice.assigned"
        assert [a for a in _buttons(notice)] == [f"rec:{r}" for r in items]
        for r in items:
            assert f"#{r} " in notice.text
    (claire,) = bench.to(CLAIRE)
    assert "Nouveau pour Ministry of Women and Social Development" in claire.text
    assert f"#{r2} UPR 119.30 (chef de file) : Inputs for the mid-term report, échéance le 29 janvier 2027" in claire.text
    assert f"#{c1} CEDAW 49 (chef de file) : pas encore d'échéance" in claire.text
    (ana,) = bench.to(ANA)
    assert f"#{r1} UPR 119.4 (responsable principal): Inputs for the mid-term report, vence el 29 de enero de 2027" in ana.text
    # Each button opens its item, in the conversation.
    engine = ConversationEngine(bench.sessions, bench.gateway, bench.clock)
    for action in _buttons(claire):
        await engine.handle(Person(USERS[CLAIRE]).presses(action))
    assert [m.key for m in bench.gateway.take()[-2:]] == ["recommendation.detail"] * 2
    rows = await bench.rows()
    assert [(r.kind, r.status) for r in rows] == [(OutboxKind.ASSIGNMENT_NOTICE, OutboxStatus.SENT)] * 3
    assert sorted(r.sent_at for r in rows) == [at(23, 15), at(23, 19), at(23, 19)]


async def test_assignments_of_one_day_make_one_notice_and_one_after_its_hour_the_next_days(bench: Bench) -> None:
    await _network(bench)
    r1, r2, c1 = await bench.ids("R-1", "R-2", "C-1")
    # Five commands over Ana's morning and afternoon (Montevideo), before 16:00 there:
    # two new, one again, one changing a role, one again.
    commands = ((r1, "lead"), (r2, "contributing"), (r1, "lead"), (r2, "lead"), (r1, "lead"))
    for hour, (rec, role) in zip((13, 14, 15, 17, 18), commands, strict=True):
        bench.clock.now = at(23, hour, 10)
        await bench.cli("assign", "--institution", "MOJ", "--ids", str(rec), "--role", role)
        await bench.service.tick()
        await bench.dispatcher.drain()
    assert bench.to(ANA) == []
    await bench.run(at(23, 19, 30), minutes=10)
    (notice,) = bench.to(ANA)
    assert _buttons(notice) == [f"rec:{r1}", f"rec:{r2}"]
    assert f"#{r2} UPR 119.30 (responsable principal): aún sin plazo" in notice.text
    # After the day's notice hour (16:40 in Montevideo): tomorrow's notice.
    bench.clock.now = at(23, 19, 40)
    await bench.cli("assign", "--institution", "MOJ", "--ids", str(c1), "--role", "contributing")
    await bench.run(at(24, 18, 40), minutes=30)
    assert len(bench.to(ANA)) == 1
    await bench.run(at(24, 19, 30), minutes=30)
    assert [_buttons(m) for m in bench.to(ANA)] == [[f"rec:{r1}", f"rec:{r2}"], [f"rec:{c1}"]]
    assert [_buttons(m) for m in bench.to(JORGE)] == [[f"rec:{r1}", f"rec:{r2}"], [f"rec:{c1}"]]
    assert bench.to(CLAIRE) == []


async def test_an_assignment_after_the_notice_hour_goes_in_the_next_working_days_notice_across_dst(bench: Bench) -> None:
    await _network(bench)
    r2, c1 = await bench.ids("R-2", "C-1")
    # Friday 26 March 2027, 16:30 in Paris (CET, 15:30 UTC): after that day's notice hour.
    bench.clock.now = datetime(2027, 3, 26, 15, 30, tzinfo=UTC)
    await bench.cli("assign", "--institution", "MOW", "--ids", str(r2))
    # Sunday 28 March the clocks go forward: Monday's 16:00 in Paris is 14:00 UTC.
    await bench.run(datetime(2027, 3, 29, 13, 30, tzinfo=UTC), minutes=60)
    assert bench.to(CLAIRE) == [] and await bench.rows() == []
    await bench.run(datetime(2027, 3, 29, 14, tzinfo=UTC), minutes=10)
    (notice,) = bench.to(CLAIRE)
    assert _buttons(notice) == [f"rec:{r2}"]
    (row,) = await bench.rows()
    assert (row.kind, row.due_at, row.not_after, row.sent_at) == (
        OutboxKind.ASSIGNMENT_NOTICE, datetime(2027, 3, 29, 14, tzinfo=UTC), datetime(2027, 3, 29, 15, tzinfo=UTC), datetime(2027, 3, 29, 14, tzinfo=UTC),
    )
    # Tuesday 10:00 in Paris (08:00 UTC): another one; the bot is down from
    # 13:00 to 20:00 UTC, past her hours: it goes out in Wednesday's window, not at night.
    bench.clock.now = datetime(2027, 3, 30, 8, tzinfo=UTC)
    await bench.cli("assign", "--institution", "MOW", "--ids", str(c1))
    bench.clock.now = datetime(2027, 3, 30, 20, tzinfo=UTC)
    await bench.service.tick()
    await bench.dispatcher.drain()
    await bench.run(datetime(2027, 3, 31, 6, tzinfo=UTC), minutes=60)
    assert len(bench.to(CLAIRE)) == 1
    await bench.run(datetime(2027, 3, 31, 7, tzinfo=UTC), minutes=30)
    assert [_buttons(m) for m in bench.to(CLAIRE)] == [[f"rec:{r2}"], [f"rec:{c1}"]]
    assert (await bench.rows())[-1].sent_at == datetime(2027, 3, 31, 7, tzinfo=UTC)


async def test_a_restart_or_a_second_process_does_not_send_it_twice(bench: Bench) -> None:
    await _network(bench)
    (r1,) = await bench.ids("R-1")
    await bench.cli("assign", "--institution", "MOJ", "--ids", str(r1))
    bench.clock.now = at(23, 19, 1)
    # Two bot processes plan at the same moment: one row a person.
    other = NoticeService(bench.sessions, POLICY, bench.clock)
    await asyncio.gather(bench.service.tick(), other.tick())
    assert len(await bench.rows()) == 2
    await bench.dispatcher.drain()
    # Restarted: a new planner and sender find nothing more to do.
    restarted = NoticeService(bench.sessions, POLICY, bench.clock)
    assert await restarted.tick() == 0
    await OutboxDispatcher(bench.sessions, bench.gateway, bench.clock, POLICY.working_time).drain()
    await bench.run(at(25, 20))
    assert len(bench.to(ANA)) == len(bench.to(JORGE)) == 1
    assert [r.key for r in await bench.rows()] == [f"assigned:{p}:2026-11-23" for p in await _ids_of(bench, ANA, JORGE)]
    # Told: the planner's query finds nothing more for anyone, however large the import was.
    async with bench.sessions() as session:
        assert await untold_since(session, await _ids_of(bench, ANA, JORGE, CLAIRE), at(1, 0)) == {}


async def test_an_item_is_told_once_even_when_its_readers_days_move(bench: Bench) -> None:
    await _network(bench)
    (r1,) = await bench.ids("R-1")
    await bench.cli("assign", "--institution", "MOJ", "--ids", str(r1))
    await bench.run(at(23, 19, 30))
    assert len(bench.to(ANA)) == 1
    # Ana snoozes until Wednesday and changes her hours: Monday is no longer
    # one of her working days, yet what Monday's notice told stays told.
    async with bench.sessions() as session, session.begin():
        ana = await session.scalar(select(FocalPoint).where(FocalPoint.email == ANA))
        assert ana is not None
        ana.snoozed_until, ana.working_hours = date(2026, 11, 25), "08:00-12:00"
    await bench.run(at(28, 0), minutes=60)
    assert len(bench.to(ANA)) == 1 and len(bench.to(JORGE)) == 1


async def _ids_of(bench: Bench, *emails: str) -> list[int]:
    async with bench.sessions() as session:
        found = dict((await session.execute(select(FocalPoint.email, FocalPoint.id))).all())
    return sorted(found[e] for e in emails)


async def test_what_was_assigned_before_someone_joined_is_not_news_to_them(bench: Bench) -> None:
    sheets = network_sheets()
    await bench.import_sheets(sheets, "network.xlsx")
    bench.clock.advance(minutes=5)
    await bench.link(ANA)
    await bench.run(at(24, 20))
    assert bench.gateway.history == []


async def test_a_successor_is_welcomed_with_the_open_items_and_each_ones_last_update(bench: Bench) -> None:
    sheets = network_sheets()
    sheets["recommendations"].append(["R-3", "Guarantee access to justice", "UPR", "Uruguay", "119.7", "A/HRC/43/15", 35, "supported", "Detention", None, None])
    sheets["assignments"] += [["R-2", "MOJ", "contributing"], ["R-3", "MOJ", "lead"]]
    await bench.import_sheets(sheets, "network.xlsx")
    await bench.link(ANA)
    await bench.link(JORGE)
    r1, r2, r3 = await bench.ids("R-1", "R-2", "R-3")
    async with bench.sessions() as session, session.begin():
        ana = await session.scalar(select(FocalPoint).where(FocalPoint.email == ANA))
        assert ana is not None
        for rec, status, narrative, day in (
            (r1, ImplementationStatus.NOT_STARTED, None, 2),
            (r1, ImplementationStatus.IN_PROGRESS, "Bill sent to Parliament in October; the committee hears it in February " * 2, 10),
            (r2, ImplementationStatus.FULLY_IMPLEMENTED, "Law 19.580 in force", 12),
        ):
            await record_update(session, UpdateData(
                rec, status, ana.name, Channel.TELEGRAM, institution_id=ana.institution_id, narrative=narrative, author_focal_point_id=ana.id,
            ), at=at(day, 15))
    # Ana's term ends on Friday (entered on Wednesday); Diego takes over and joins on Monday.
    bench.clock.now = at(25, 14)
    await bench.cli("focal-points", "end", ANA, "--on", "2026-11-27")
    await bench.cli("focal-points", "add", "--name", "Diego Núñez", "--institution", "MOJ", "--role", "technical", "--email", "diego@justicia.example",
              "--language", "en", "--timezone", "America/Montevideo", "--active-from", "2026-11-30")
    await bench.run(at(30, 11))
    USERS["diego@justicia.example"] = "204"
    try:
        await bench.link("diego@justicia.example")
        await bench.run(at(30, 12, 30), minutes=15)
        (welcome,) = bench.to("diego@justicia.example")
        assert welcome.key == "handover.welcome"
        lines = welcome.text.splitlines()
        assert lines[0] == "Welcome, Diego Núñez. You take over from Ana Pérez for Ministry of Justice. These recommendations are still open, each with its last update:"
        assert lines[2].startswith(f"• #{r1} UPR 119.4: in progress, 10 November 2026, Ana Pérez: “Bill sent to Parliament in October;")
        assert lines[2].endswith("…”") and len(lines[2]) < 160
        assert lines[3] == f"• #{r3} UPR 119.7: no update yet"
        assert f"#{r2}" not in welcome.text  # fully implemented: not open
        assert _buttons(welcome) == [f"rec:{r1}", f"rec:{r3}"]
        await bench.run(at(2, 20, month=12))
        assert len(bench.to("diego@justicia.example")) == 1
        assert bench.to(JORGE) == []  # in office before Ana left: no hand-over
    finally:
        del USERS["diego@justicia.example"]


async def test_a_long_list_is_cut_with_and_n_more_and_my_list(bench: Bench) -> None:
    sheets = network_sheets()
    del sheets["assignments"]
    sheets["recommendations"] += [
        [f"X-{n}", f"Recommendation {n}", "UPR", "Uruguay", f"120.{n}", "A/HRC/43/15", 35, "supported", "Detention", None, None] for n in range(1, 18)
    ]
    await bench.import_sheets(sheets, "network.xlsx")
    await bench.link(ANA)
    bench.clock.advance(minutes=1)
    await bench.cli("assign", "--institution", "MOJ", "--theme", "Detention")
    await bench.run(at(23, 19, 30))
    (notice,) = bench.to(ANA)
    actions = _buttons(notice)
    assert len(actions) == 13 and actions[-1] == "mine:1"
    assert "… y 6 más: Mi lista" in notice.text
    assert notice.text.count("• #") == 12
    bench.gateway.take()
    await ConversationEngine(bench.sessions, bench.gateway, bench.clock).handle(Person(USERS[ANA]).presses("mine:1"))
    assert bench.gateway.take()[0].key == "mine.header"


def test_the_day_of_an_assignment_is_the_readers_working_day() -> None:
    from handlers.assignment_notices import cut, notice_window

    paris = POLICY.working_time("Europe/Paris")
    window = notice_window(paris, datetime(2027, 3, 26, 14, 59, tzinfo=UTC), set())
    assert (window.day, cut(window)) == (date(2027, 3, 26), datetime(2027, 3, 26, 15, tzinfo=UTC))
    window = notice_window(paris, datetime(2027, 3, 26, 15, 0, tzinfo=UTC), set())
    assert (window.day, cut(window)) == (date(2027, 3, 29), datetime(2027, 3, 29, 14, tzinfo=UTC))
    window = notice_window(paris, datetime(2027, 3, 26, 10, 0, tzinfo=UTC), {date(2027, 3, 26)})
    assert window.day == date(2027, 3, 29)
