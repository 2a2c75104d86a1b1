"""Deadlines corrected from chat and the CLI: a new date re-plans the
reminders and tells the focal points concerned once, in their hours; a
withdrawn deadline and a submitted report are reminded no more; reports
submitted on time are counted in the summaries.

The reminder service and the outbox dispatcher run on a fake clock, ticking
as tests/test_reminders_cycle.py does, so what is checked is what a focal
point receives and when."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_dispatch import OutboxDispatcher
from handlers.deadline_replan import after_change, after_submitted
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage.audit import acting_as
from storage.database import create_engine, session_factory
from storage.deadline_changes import edit_deadline, mark_submitted, withdraw_deadline
from storage.deadlines import DeadlineData, add_deadline, list_deadlines
from storage.enums import DeadlineKind, OutboxKind, OutboxStatus, SecretariatRole
from storage.errors import InvalidValue
from storage.models import AuditEntry, Deadline, OutboxMessage
from storage.report_timeliness import report_timeliness
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from storage.selection import Selector
from tests.chat_harness import unlimited
from tests.cli_harness import Cli
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

POLICY = Policy(steps_days=(14, 7, 1), country="UY")
ANA = "111"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Cycle:
    """The planner and the outbox on a clock the test moves."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], start: datetime) -> None:
        self.sessions = sessions
        self.clock = FakeClock(start)
        self.gateway = FakeGateway()
        self.service = ReminderService(sessions, POLICY, self.clock)
        self.dispatcher = OutboxDispatcher(sessions, self.gateway, self.clock, POLICY.working_time, limits=unlimited())
        # (when it reached the platform, message key, text) for Ana.
        self.received: list[tuple[datetime, str, str]] = []

    async def run_until(self, end: datetime) -> None:
        while self.clock.now < end:
            await self.service.tick()
            await self.dispatcher.drain()
            for address, message in self.gateway.sent:
                if address.user_id == ANA:
                    self.received.append((self.clock.now, message.key, message.text))
            self.gateway.sent.clear()
            # Hourly through Montevideo's day (12:00-21:00 UTC), every three hours at night.
            self.clock.advance(hours=1 if 11 <= self.clock.now.hour <= 20 else 3)

    def kinds(self) -> list[tuple[date, str]]:
        return [(when.date(), key) for when, key, _ in self.received]

    async def change(self, work: Any) -> int:
        """Apply a correction as the CLI does, in one transaction; how many are told."""
        async with self.sessions() as session, session.begin():
            with acting_as("cli:tester"):
                change = await work(session)
                return await after_change(session, POLICY, change, self.clock.now)


async def input_deadline(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], due: date) -> int:
    async with sessions() as session, session.begin():
        made = await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, due, "Inputs for the UPR mid-term"), Selector(ids=tuple(world["mine_all"])))
        return made.id


REMINDER, MOVED, WITHDRAWN = "reminder.digest", "deadline.changed.moved", "deadline.changed.withdrawn"


async def test_a_later_date_replans_the_reminders_and_tells_ana_once_in_her_hours(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    deadline = await input_deadline(sessions, world, date(2026, 12, 18))
    cycle = Cycle(sessions, utc(2026, 11, 30, 0))
    await cycle.run_until(utc(2026, 12, 5, 13))  # Saturday: after the "14 days" reminder of Friday 4 December
    reminder_key = cycle.received[0][1]
    assert [(d, k) for d, k in cycle.kinds()] == [(date(2026, 12, 4), reminder_key)]
    told = await cycle.change(lambda s: edit_deadline(s, deadline, due_on=date(2027, 1, 15)))
    assert told == 1
    await cycle.run_until(utc(2027, 1, 15, 0))
    moved = [(when, text) for when, key, text in cycle.received if key == MOVED]
    # Monday 7 December, 09:00 in Montevideo: the weekend is not her working time.
    assert moved == [(utc(2026, 12, 7, 12), "The deadline Inputs for the UPR mid-term has moved from 18 December 2026 to 15 January 2027. Your reminders follow the new date.")]
    reminders = [when.date() for when, key, _ in cycle.received if key == reminder_key]
    # 14 days before is New Year's Day (a holiday in Uruguay): Monday 4 January;
    # then 8 and 14 January. Nothing on the old date's 11 and 17 December.
    assert reminders == [date(2026, 12, 4), date(2027, 1, 4), date(2027, 1, 8), date(2027, 1, 14)]


async def test_an_earlier_date_skips_the_steps_already_past_rather_than_send_them_beside_the_notice(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    deadline = await input_deadline(sessions, world, date(2026, 12, 31))
    cycle = Cycle(sessions, utc(2026, 12, 4, 0))
    await cycle.run_until(utc(2026, 12, 5, 13))
    assert cycle.received == []  # the first step, 14 days before, is 17 December
    await cycle.change(lambda s: edit_deadline(s, deadline, due_on=date(2026, 12, 10)))
    await cycle.run_until(utc(2026, 12, 12, 0))
    keys = [(when, key) for when, key, _ in cycle.received]
    # The notice on Monday; the "7 days" step (3 December) is past and not sent
    # late; the "1 day" reminder on Wednesday 9 December; overdue on Friday 11.
    assert [k for _, k in keys][0] == MOVED and keys[0][0] == utc(2026, 12, 7, 12)
    assert [w.date() for w, k in keys if k != MOVED] == [date(2026, 12, 9), date(2026, 12, 11)]


async def test_a_withdrawn_deadline_cancels_the_pending_reminder_and_ana_is_told_once(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    deadline = await input_deadline(sessions, world, date(2026, 12, 18))
    cycle = Cycle(sessions, utc(2026, 12, 4, 11, 55))
    await cycle.service.tick()  # plans Friday's reminder for 12:00 UTC; not sent yet
    async with sessions() as session:
        [pending] = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REMINDER))).all()
        assert pending.status is OutboxStatus.PENDING
    assert await cycle.change(lambda s: withdraw_deadline(s, deadline, cycle.clock.now)) == 1
    await cycle.run_until(utc(2026, 12, 26, 0))
    # Told that Friday (the test's clock sends at its next tick, 12:55), and nothing after.
    assert [(when, key) for when, key, _ in cycle.received] == [(utc(2026, 12, 4, 12, 55), WITHDRAWN)]
    assert cycle.received[0][2] == "The deadline Inputs for the UPR mid-term (due 18 December 2026) was withdrawn: nothing more is asked of you for it."
    async with sessions() as session:
        assert (await session.get(OutboxMessage, pending.id)).status is OutboxStatus.CANCELLED  # type: ignore[union-attr]
        notice = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.DEADLINE_CHANGED))
        assert notice is not None and notice.due_at == utc(2026, 12, 4, 12) and notice.not_after == utc(2026, 12, 4, 20)
        assert await list_deadlines(session) == []
        kept = await session.get(Deadline, deadline)
        assert kept is not None and kept.withdrawn_by == "cli:tester"


async def test_two_changes_before_the_notice_goes_make_one_notice_from_the_date_ana_knew(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    deadline = await input_deadline(sessions, world, date(2027, 2, 26))
    cycle = Cycle(sessions, utc(2026, 12, 5, 13))  # Saturday: nothing goes before Monday
    await cycle.change(lambda s: edit_deadline(s, deadline, due_on=date(2027, 3, 5)))
    await cycle.change(lambda s: edit_deadline(s, deadline, due_on=date(2027, 3, 12)))
    await cycle.run_until(utc(2026, 12, 8, 0))
    assert [text for _, key, text in cycle.received if key == MOVED] == [
        "The deadline Inputs for the UPR mid-term has moved from 26 February 2027 to 12 March 2027. Your reminders follow the new date."
    ]
    # Moved there and back before the notice goes: nothing to tell.
    await cycle.run_until(utc(2026, 12, 12, 13))
    cycle.received.clear()
    await cycle.change(lambda s: edit_deadline(s, deadline, due_on=date(2027, 3, 19)))
    await cycle.change(lambda s: edit_deadline(s, deadline, due_on=date(2027, 3, 12)))
    await cycle.run_until(utc(2026, 12, 15, 0))
    assert cycle.received == []


async def test_a_submitted_report_stops_its_input_deadlines_reminders(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        report = await add_deadline(session, DeadlineData(DeadlineKind.UPR_MIDTERM, date(2026, 12, 31), mechanism_code="UPR"))
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 12, 18), "Inputs", parent_id=report.id), Selector(ids=tuple(world["mine_all"])))
    cycle = Cycle(sessions, utc(2026, 12, 4, 11, 55))
    await cycle.service.tick()
    async with sessions() as session, session.begin():
        with pytest.raises(InvalidValue, match="not a report"):
            await mark_submitted(session, report.id + 1, date(2026, 12, 4), date(2026, 12, 4))
        await mark_submitted(session, report.id, date(2026, 12, 4), date(2026, 12, 4))
        assert await after_submitted(session, report.id) == 1  # the reminder planned for 12:00
    await cycle.run_until(utc(2027, 1, 10, 0))
    assert cycle.received == []


async def test_reports_submitted_on_time_are_counted(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        made = [
            await add_deadline(session, DeadlineData(DeadlineKind.TREATY_REPORT, due, f"Report {n}"))
            for n, due in enumerate([date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2027, 6, 1)])
        ]
        await mark_submitted(session, made[0].id, date(2026, 5, 20), date(2026, 11, 23))
        await mark_submitted(session, made[1].id, date(2026, 7, 1), date(2026, 11, 23))
        await mark_submitted(session, made[2].id, date(2026, 8, 10), date(2026, 11, 23))
        # Not due yet, but already sent: on time.
        await mark_submitted(session, made[5].id, date(2026, 11, 20), date(2026, 11, 23))
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 5, 1), "Inputs are not reports"))
        gone = await add_deadline(session, DeadlineData(DeadlineKind.TREATY_REPORT, date(2026, 5, 1), "Withdrawn"))
        await withdraw_deadline(session, gone.id, utc(2026, 11, 23, 13))
        figures = await report_timeliness(session, date(2026, 11, 23))
        assert (figures.on_time, figures.late, figures.not_submitted) == (3, 1, 2)
        # As of 1 September: report 3 was not yet due and report 5 not submitted yet.
        before = await report_timeliness(session, date(2026, 9, 1))
        assert (before.on_time, before.late, before.not_submitted) == (2, 1, 0)
        with pytest.raises(InvalidValue, match="already marked submitted"):
            await mark_submitted(session, made[0].id, date(2026, 5, 21), date(2026, 11, 23))
        with pytest.raises(InvalidValue, match="in the future"):
            await mark_submitted(session, made[3].id, date(2026, 11, 24), date(2026, 11, 23))


async def test_dates_that_break_the_report_and_its_inputs_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        report = await add_deadline(session, DeadlineData(DeadlineKind.TREATY_REPORT, date(2027, 3, 1), "Report"))
        inputs = await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2027, 1, 15), "Inputs", parent_id=report.id))
        with pytest.raises(InvalidValue, match="after the deadline it serves"):
            await edit_deadline(session, inputs.id, due_on=date(2027, 3, 2))
        with pytest.raises(InvalidValue, match=f"the input deadline {inputs.id} is due 2027-01-15, after 2027-01-01"):
            await edit_deadline(session, report.id, due_on=date(2027, 1, 1))
        with pytest.raises(InvalidValue, match="served by the input deadlines"):
            await withdraw_deadline(session, report.id, utc(2026, 11, 23, 13))
        with pytest.raises(InvalidValue, match="nothing to change"):
            await edit_deadline(session, report.id)
        assert (report.due_on, inputs.due_on) == (date(2027, 3, 1), date(2027, 1, 15))


# --- the CLI ---------------------------------------------------------------


def query(db_url: str, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Rows read in a loop of their own (the CLI runs its own)."""

    async def read() -> list[tuple[Any, ...]]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                return [tuple(row) for row in await session.execute(statement)]
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "{db_url}"\n[schedule]\ncountry = "UY"\n')
    return Cli(capsys)


def test_deadlines_edit_delete_and_submitted_through_the_cli(cli: Cli, db_url: str) -> None:
    cli("deadlines", "add", "--kind", "treaty_report", "--due", "2026-11-20", "--title", "CEDAW report")
    cli("deadlines", "add", "--kind", "follow_up_information", "--due", "2027-05-01", "--title", "CAT follow-up")
    out, _ = cli("deadlines", "edit", "2", "--due", "2027-06-01")
    assert out.strip() == "deadline 2: CAT follow-up, moved from 2027-05-01 to 2027-06-01; 0 focal point(s) will be told"
    out, _ = cli("deadlines", "edit", "2", "--title", "CAT follow-up information")
    assert out.strip() == "deadline 2: CAT follow-up information, due 2027-06-01 (title changed)"
    out, _ = cli("deadlines", "submitted", "1", "--on", "2026-11-22")
    assert out.strip() == "deadline 1: CEDAW report, submitted on 2026-11-22 (2 day(s) late; due 2026-11-20)"
    out, _ = cli("report", "summary", "progress")
    assert out.strip().splitlines()[-1] == "0 of 1 report submitted on time; 1 late; 0 not submitted."
    out, _ = cli("deadlines", "delete", "2")
    assert out.strip() == "withdrew deadline 2: CAT follow-up information, due 2027-06-01; 0 focal point(s) will be told"
    out, _ = cli("deadlines", "list", "--format", "csv")
    assert [(row[0], row[-1]) for row in csv.reader(io.StringIO(out))] == [("id", "submitted_on"), ("1", "2026-11-22")]
    for args, error in [
        (("edit", "2", "--due", "2027-07-01"), "error: deadline 2 was withdrawn on 2026-11-23"),
        (("delete", "9"), "error: no deadline with id 9"),
        (("edit", "1"), "error: nothing to change"),
        (("submitted", "1"), "error: deadline 1 was already marked submitted on 2026-11-22"),
    ]:
        _, err = cli("deadlines", *args, expect=1)
        assert err.startswith(error), err
    audited = query(db_url, select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.entity == "deadlines", AuditEntry.action == "update"))
    assert len(audited) == 4 and all(actor.startswith("cli:") for actor, _ in audited), audited
    submitted = query(db_url, select(Deadline.submitted_on, Deadline.submitted_by).where(Deadline.id == 1))
    assert submitted[0][0] == date(2026, 11, 22) and submitted[0][1].startswith("cli:")


# --- in chat: a coordinator ------------------------------------------------

coordinator, viewer = Person("901"), Person("902")


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        colin = await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "America/Montevideo", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "en", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))
    return {"colin": colin.id}


async def test_a_coordinator_adds_moves_submits_and_withdraws_deadlines_in_chat(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], world: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second, _ = world["mine_all"]
    await bot.handle(coordinator.says(f"/deadlines add internal_input 2027-01-15 UPR {first},{second} Inputs for the mid-term"))
    [summary] = gateway.take()
    assert (summary.key, summary.text) == ("deadlines.confirm", "Add the deadline Inputs for the mid-term, due 15 January 2027, for 2 recommendations?")
    async with sessions() as session:
        assert await list_deadlines(session) == []  # nothing before Confirm
    assert await chat(bot, gateway, coordinator.says("yes"), tap("Confirm", coordinator)) == ["deadlines.press", "deadlines.added"]
    assert await chat(bot, gateway, coordinator.says("/deadlines add treaty_report 2026-11-20 CEDAW"), tap("Confirm", coordinator)) == [
        "deadlines.confirm", "deadlines.added"]
    await bot.handle(coordinator.says("/deadlines"))
    [listed] = gateway.take()
    # Upcoming first, then the past ones.
    assert listed.text.splitlines() == [
        "2 deadlines (page 1 of 1):",
        "• #1 Inputs for the mid-term: due 15 January 2027 (2 recommendations)",
        "• #2 CEDAW periodic report: due 20 November 2026 (0 recommendations)",
    ], listed.text
    assert await chat(bot, gateway, coordinator.says("/deadlines date 1 2027-02-12")) == ["deadlines.confirm"]
    old = gateway.action("Confirm", coordinator.user_id)
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["deadlines.moved", "deadlines.told"]
    await bot.handle(coordinator.presses(old))
    assert [m.key for m in gateway.take()] == ["stale.closed"]
    assert await chat(bot, gateway, coordinator.says("/submitted 2 2026-11-19"), tap("Confirm", coordinator)) == ["deadlines.confirm", "deadlines.submitted"]
    await bot.handle(coordinator.says("/progress"))
    [progress] = gateway.take()
    assert progress.text.splitlines()[-1] == "1 of 1 report submitted on time; 0 late; 0 not submitted."
    assert await chat(bot, gateway, coordinator.says("/deadlines delete 1"), tap("Confirm", coordinator)) == ["deadlines.confirm", "deadlines.withdrawn", "deadlines.told"]
    async with sessions() as session:
        rows = {d.id: d for d in (await session.scalars(select(Deadline))).all()}
        assert rows[1].due_on == date(2027, 2, 12) and rows[1].withdrawn_by == f"secretariat:{secretariat['colin']}"
        assert rows[2].submitted_on == date(2026, 11, 19)
        notices = (await session.execute(
            select(OutboxMessage.message, OutboxMessage.status).where(OutboxMessage.kind == OutboxKind.DEADLINE_CHANGED).order_by(OutboxMessage.id)
        )).all()
        actors = {a for a, in (await session.execute(select(AuditEntry.actor).where(AuditEntry.entity == "deadlines"))).all()}
    # Ana was told of the move; the withdrawal before it went replaced it.
    assert [(n["key"], status) for n, status in notices] == [(MOVED, OutboxStatus.CANCELLED), (WITHDRAWN, OutboxStatus.PENDING)]
    assert actors == {f"secretariat:{secretariat['colin']}"}


@pytest.mark.parametrize(("typed", "key", "shown"), [
    ("/deadlines add weekly 2027-01-15", "deadlines.bad_kind", "“weekly” is not a kind of deadline"),
    ("/deadlines add treaty_report 15/01/2027", "deadlines.bad_date", "“15/01/2027” is not a date"),
    ("/deadlines add treaty_report 2027-01-15 12-x", "deadlines.failed", "recommendation numbers are written like 3,5,9 or 10-20, not “12-x”"),
    ("/deadlines date 9 2027-01-15", "deadlines.unknown", "There is no deadline number 9."),
    ("/deadlines delete x", "deadlines.unknown", "There is no deadline number x."),
    ("/deadlines move 1", "deadlines.usage", "/deadlines date number YYYY-MM-DD"),
    ("/submitted 9", "deadlines.unknown", "There is no deadline number 9."),
    ("/deadlines", "deadlines.none", "No deadlines yet."),
])
async def test_a_bad_deadline_command_is_told_specifically_and_nothing_is_proposed(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], typed: str, key: str, shown: str,
) -> None:
    await bot.handle(coordinator.says(typed))
    [reply] = gateway.take()
    assert (reply.key, reply.buttons) == (key, ())
    assert shown in reply.text, reply.text


async def test_an_add_whose_recommendations_are_not_found_writes_nothing(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await chat(bot, gateway, coordinator.says("/deadlines add treaty_report 2027-01-15 999"), tap("Confirm", coordinator)) == [
        "deadlines.confirm", "deadlines.failed"]
    async with sessions() as session:
        assert (await session.scalars(select(Deadline))).all() == []


async def test_a_viewer_is_refused_naming_the_coordinator_role(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int],
) -> None:
    for typed in ("/deadlines", "/submitted 1"):
        await bot.handle(viewer.says(typed))
        [reply] = gateway.take()
        assert "coordinator" in reply.text, reply.text


async def test_the_list_is_paged_upcoming_first(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        for n in range(12):
            await add_deadline(session, DeadlineData(DeadlineKind.TREATY_REPORT, date(2027, 1, 1) + timedelta(days=n), f"Report {n}"))
        await add_deadline(session, DeadlineData(DeadlineKind.TREATY_REPORT, date(2026, 1, 1), "Old report"))
    await bot.handle(coordinator.says("/deadlines"))
    [first] = gateway.take()
    assert first.text.splitlines()[0] == "13 deadlines (page 1 of 2):" and "Report 0:" in first.text.splitlines()[1]
    await bot.handle(coordinator.presses(gateway.action("Next ›", coordinator.user_id)))
    [second] = gateway.take()
    assert [line.split(":")[0] for line in second.text.splitlines()[1:]] == ["• #11 Report 10", "• #12 Report 11", "• #13 Old report"]


async def test_a_withdrawn_deadline_and_a_submitted_report_leave_the_home_and_the_assignment_notices(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    from handlers.home import focal_point_home
    from storage.assignment_notices import item_deadlines
    from storage.models import FocalPoint
    from tests.fakes import Person as Someone

    now = utc(2026, 12, 10, 13)
    async with sessions() as session, session.begin():
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 12, 18), "Kept"), Selector(ids=tuple(world["mine_all"])))
        gone = await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 12, 15), "Gone"), Selector(ids=tuple(world["mine_all"])))
        sent = await add_deadline(session, DeadlineData(DeadlineKind.TREATY_REPORT, date(2026, 12, 14), "Sent"), Selector(ids=tuple(world["mine_all"])))
        await withdraw_deadline(session, gone.id, now)
        await mark_submitted(session, sent.id, date(2026, 12, 9), date(2026, 12, 10))
        person = await session.get(FocalPoint, world["ana"])
        assert person is not None
        await session.refresh(person, ["institution"])
        home = await focal_point_home(session, person, Someone(ANA).address, now, POLICY)
        deadlines = [line.text for line in home.sections[1].lines]
        assert len(deadlines) == 1 and "Kept" in deadlines[0], deadlines
        shown = await item_deadlines(session, world["mine_all"], date(2026, 12, 10))
        assert {d.name.title for d in shown.values()} <= {"Kept", "Sent"} and "Gone" not in {d.name.title for d in shown.values()}


async def test_on_slack_the_bare_words_work_in_the_readers_language(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    from storage.enums import Platform

    async with sessions() as session, session.begin():
        await add_secretariat_user(session, SecretariatUserData(
            "Sam Okafor", "sam@mfa.example", "fr", "Europe/Paris", slack_user_id="USAM", role=SecretariatRole.COORDINATOR))
        await add_deadline(session, DeadlineData(DeadlineKind.TREATY_REPORT, date(2026, 11, 20), "Rapport CEDAW"))
    sam = Person("USAM", Platform.SLACK)
    assert await chat(bot, gateway, sam.says("submitted 1 2026-11-20"), tap("Confirmer", sam)) == ["deadlines.confirm", "deadlines.submitted"]
    summary, done = [m for _, m in gateway.history if m.key in ("deadlines.confirm", "deadlines.submitted")]
    assert summary.text == "Marquer Rapport CEDAW comme soumis le 20 novembre 2026 (échéance le 20 novembre 2026 : dans les délais) ? Ses rappels s’arrêtent."
    assert done.text == "Rapport CEDAW : soumis le 20 novembre 2026. Ses rappels se sont arrêtés."
    await bot.handle(sam.says("deadlines move"))
    [usage] = gateway.take()
    # Slack spells the commands as bare words.
    assert usage.key == "deadlines.usage" and "deadlines date numéro" in usage.text and "/deadlines" not in usage.text
