"""A linked group, on the focal point's side (issue 15): one item in /mine,
one answer stored on each member the institution answers for, "no change"
on the group, reminders and notices naming it once, /mine by priority."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import item_lists
from handlers.assignment_notices import notice_message
from handlers.chat_port import IncomingMessage
from handlers.engine import ConversationEngine
from handlers.reminders.compose import compose
from handlers.reminders.plan import Policy, plan_day
from handlers.reminders.snapshot import load_snapshot
from storage.assignment_notices import Assigned, ItemDeadline
from storage.assignments import assign
from storage.deadlines import DeadlineData, DeadlineName, add_deadline
from storage.enums import AssignmentRole, Channel, DeadlineKind, ImplementationStatus as S, MechanismKind, Platform, Priority
from storage.linked_items import institution_items, record_group_update, repeat_group
from storage.models import Institution, LinkGroup, LinkGroupMember, Mechanism, Recommendation, StatusUpdate
from storage.selection import Selector
from storage.status import UpdateData, history, record_update
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.factories import answered_before
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

ana = Person("111")


@dataclass(frozen=True)
class Linked:
    group: int
    # The group's members the Ministry of Justice is assigned to: UPR, UPR, CEDAW.
    members: tuple[int, int, int]
    # A member of the group assigned only to the Ministry of Women.
    outside: int
    # The ministry's one recommendation outside the group.
    single: int


@pytest.fixture
async def linked(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> Linked:
    async with sessions() as session, session.begin():
        ids = list((await session.scalars(select(Recommendation.id).order_by(Recommendation.id))).all())
        cedaw = await session.scalar(select(Mechanism).where(Mechanism.code == "CEDAW"))
        if cedaw is None:
            cedaw = Mechanism(code="CEDAW", name="Committee on the Elimination of Discrimination against Women", kind=MechanismKind.TREATY_BODY, treaty="CEDAW")
            session.add(cedaw)
            await session.flush()
        committee = await session.get(Recommendation, ids[3])
        assert committee is not None
        committee.mechanism_id, committee.paragraph = cedaw.id, "25"
        await assign(session, "MOJ", Selector(ids=(ids[3],)), role=AssignmentRole.CONTRIBUTING)
        group = LinkGroup(title=None, created_by="test")
        session.add(group)
        await session.flush()
        for rec in (ids[0], ids[1], ids[3], ids[4]):
            session.add(LinkGroupMember(recommendation_id=rec, group_id=group.id, added_by="test"))
    return Linked(group.id, (ids[0], ids[1], ids[3]), ids[4], ids[2])


def _ids(*recs: int) -> str:
    return ", ".join(f"#{r}" for r in recs)


def _actions(message: object) -> list[str]:
    return [b.action for row in message.buttons for b in row]  # type: ignore[attr-defined]


async def _rows(sessions: async_sessionmaker[AsyncSession], *recs: int) -> list[StatusUpdate]:
    async with sessions() as session:
        found: list[StatusUpdate] = []
        for rec in recs:
            found += await history(session, rec)
        return found


async def test_mine_shows_the_group_once_with_only_the_institutions_members(
    bot: ConversationEngine, gateway: FakeGateway, linked: Linked,
) -> None:
    one, two, committee = linked.members
    await bot.handle(ana.says("/mine"))
    header, *items = gateway.take()
    assert header.key == "mine.header" and "4 recommendations" in header.text
    assert [m.key for m in items] == ["group.summary", "recommendation.summary"]
    group = items[0]
    assert group.text.startswith("Linked: Continue its efforts to combat domestic violence")
    assert "— 3 recommendations: UPR ×2, CEDAW ×1" in group.text
    assert _ids(one, two, committee) in group.text and f"#{linked.outside}" not in group.text
    assert _actions(group) == [f"grp:{linked.group}", f"gupd:{linked.group}"]
    assert _actions(items[1]) == [f"rec:{linked.single}", f"upd:{linked.single}"]
    # Opened: each member briefly, with the buttons that answer them all.
    await bot.handle(ana.presses(f"grp:{linked.group}"))
    (detail,) = gateway.take()
    assert detail.key == "group.detail"
    assert f"#{committee} CEDAW" in detail.text and "25" in detail.text and f"#{linked.outside}" not in detail.text
    assert detail.text.count("Your institution: no answer yet") == 3
    assert _actions(detail) == [f"gupd:{linked.group}", f"gsame:{linked.group}"]


async def test_one_update_is_stored_on_each_member_in_three_taps_and_one_message(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], linked: Linked,
) -> None:
    one, two, committee = linked.members
    await answered_before(sessions, "MOJ", one, status=S.NOT_STARTED)
    replies = await chat(
        bot, gateway, ana.presses(f"grp:{linked.group}"), tap("Give an update"), tap("in progress"),
        ana.says("Bill drafted: https://parlamento.example/bill-12\nNext: the vote, 2027-03-15"),
    )
    assert replies == ["group.detail", "group.ask_status", "update.ask_done", "group.saved"]
    rows = [u for u in await _rows(sessions, one, two, committee, linked.outside) if u.link_group_id is not None]
    assert sorted(u.recommendation_id for u in rows) == sorted(linked.members)
    content = {(u.status, u.narrative, u.next_step, u.next_step_due_on, u.institution_id, u.link_group_id, tuple(e.url for e in u.evidence)) for u in rows}
    assert len(content) == 1
    (status, narrative, step, due, _, group, evidence) = content.pop()
    assert (status, step, due, group) == (S.IN_PROGRESS, "the vote, 2027-03-15", date(2027, 3, 15), linked.group)
    assert narrative == "Bill drafted: https://parlamento.example/bill-12" and evidence == ("https://parlamento.example/bill-12",)
    # History kept: the earlier answer on the first member is still there, before the group's.
    first = await _rows(sessions, one)
    assert [(u.status, u.link_group_id) for u in first] == [(S.NOT_STARTED, None), (S.IN_PROGRESS, linked.group)]
    assert await _rows(sessions, linked.outside) == []


async def test_the_dialogues_buttons_are_bound_to_the_group(
    bot: ConversationEngine, gateway: FakeGateway, linked: Linked,
) -> None:
    await bot.handle(ana.presses(f"gupd:{linked.group}"))
    (ask,) = gateway.take()
    assert all(f"|g{linked.group}.s." in action for action in _actions(ask))
    # Another item opened meanwhile is refused, naming the group being updated.
    await bot.handle(ana.presses(f"upd:{linked.single}"))
    (refused,) = gateway.take()
    assert refused.key == "stale.other" and f"linked group {linked.group}" in refused.text


async def test_a_redelivered_answer_stores_nothing_twice(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], linked: Linked,
) -> None:
    await chat(bot, gateway, ana.presses(f"gupd:{linked.group}"), tap("fully implemented"))
    message = IncomingMessage(ana.address, "redelivered-1", text="Law 19.580 in force.")
    await bot.handle(message)
    await bot.handle(message)
    assert len(await _rows(sessions, *linked.members)) == 3
    # The storage function alone, given the same delivery twice.
    async with sessions() as session, session.begin():
        moj = await session.scalar(select(Institution.id).where(Institution.code == "MOJ"))
        assert moj is not None
        answer = UpdateData(0, S.IN_PROGRESS, "Ana Pérez", Channel.TELEGRAM, idempotency_key="telegram:again")
        first = await record_group_update(session, linked.group, moj, answer, datetime(2026, 11, 23, 14, tzinfo=timezone.utc))
        again = await record_group_update(session, linked.group, moj, replace(answer, narrative="other"), datetime(2026, 11, 23, 15, tzinfo=timezone.utc))
        assert [u.id for u in first] == [u.id for u in again] and len({u.idempotency_key for u in first}) == 3
    assert len(await _rows(sessions, *linked.members)) == 6


async def test_no_change_on_the_group_repeats_each_members_answer_and_asks_the_unanswered(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], linked: Linked,
) -> None:
    one, two, committee = linked.members
    await answered_before(sessions, "MOJ", one, status=S.PARTIALLY_IMPLEMENTED)
    await answered_before(sessions, "MOJ", two, status=S.IN_PROGRESS)
    # Another institution's answer is never the ministry's to repeat.
    await answered_before(sessions, "MOW", committee, status=S.FULLY_IMPLEMENTED)
    await bot.handle(ana.presses(f"gsame:{linked.group}"))
    noted, ask = gateway.take()
    assert noted.key == "group.no_change_saved" and _ids(one, two) in noted.text
    assert ask.key == "group.ask_first_status" and f"#{committee}" in ask.text and f"#{one}" not in ask.text
    assert await chat(bot, gateway, tap("not started")) == ["group.saved"]
    rows = {u.recommendation_id: u for u in await _rows(sessions, *linked.members) if u.link_group_id == linked.group}
    assert {r: u.status for r, u in rows.items()} == {one: S.PARTIALLY_IMPLEMENTED, two: S.IN_PROGRESS, committee: S.NOT_STARTED}
    # Now each has an answer: one tap repeats all three, nothing asked.
    assert await chat(bot, gateway, ana.presses(f"gsame:{linked.group}")) == ["group.no_change_saved"]
    async with sessions() as session:
        counted = await session.scalar(select(func.count()).select_from(StatusUpdate).where(StatusUpdate.link_group_id == linked.group))
    assert counted == 6


async def test_a_correction_and_a_next_step_are_added_to_every_row(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], linked: Linked,
) -> None:
    await chat(bot, gateway, ana.presses(f"gupd:{linked.group}"), tap("in progress"), ana.says("Bill drafted."))
    first = {u.recommendation_id: u.id for u in await _rows(sessions, *linked.members)}
    assert await chat(bot, gateway, tap("Correct")) == ["group.ask_correction"]
    assert await chat(bot, gateway, tap("partially implemented"), tap("Skip")) == ["update.ask_done", "group.saved"]
    corrected = [u for u in await _rows(sessions, *linked.members) if u.corrects_id is not None]
    assert {u.recommendation_id: u.corrects_id for u in corrected} == first
    assert {(u.status, u.narrative, u.link_group_id) for u in corrected} == {(S.PARTIALLY_IMPLEMENTED, "Bill drafted.", linked.group)}
    assert await chat(bot, gateway, tap("Add a next step"), ana.says("Send it to Parliament"), tap("Skip")) == [
        "group.ask_next_step", "update.ask_next_date", "group.saved",
    ]
    latest = {u.recommendation_id: u for u in await _rows(sessions, *linked.members)}
    assert {(u.next_step, u.status, u.link_group_id) for u in latest.values()} == {("Send it to Parliament", S.PARTIALLY_IMPLEMENTED, linked.group)}
    assert {u.corrects_id for u in latest.values()} == {u.id for u in corrected}


async def test_no_change_on_all_of_these_answers_a_group_as_the_group(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], linked: Linked,
) -> None:
    await answered_before(sessions, "MOJ", *linked.members, linked.single)
    payload = "nca:" + item_lists.encode([*linked.members, linked.single])
    await bot.handle(ana.presses(payload))
    (noted,) = gateway.take()
    assert noted.key == "update.no_change_all_saved"
    assert [b.label for row in noted.buttons for b in row] == [f"Correct #{linked.single}", f"Correct #{linked.members[0]} and linked"]
    rows = [u for u in await _rows(sessions, *linked.members, linked.single) if u.author_label == "Ana Pérez"]
    assert sorted((u.recommendation_id, u.link_group_id) for u in rows) == sorted(
        [(r, linked.group) for r in linked.members] + [(linked.single, None)]
    )


async def test_mine_sorts_by_priority_a_group_by_its_highest_member_and_filters_on_it(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], linked: Linked,
) -> None:
    async with sessions() as session, session.begin():
        for rec, priority in ((linked.members[0], Priority.LOW), (linked.members[2], Priority.MEDIUM), (linked.single, Priority.HIGH)):
            found = await session.get(Recommendation, rec)
            assert found is not None
            found.priority = priority
    await bot.handle(ana.says("/mine"))
    _, *items = gateway.take()
    assert [m.key for m in items] == ["recommendation.summary", "group.summary"]
    assert f"#{linked.single} " in items[0].text
    await bot.handle(ana.presses("filter"))
    (menu,) = gateway.take()
    assert [b.action for row in menu.buttons for b in row if b.action.startswith("f:p:")] == ["f:p:high", "f:p:medium", "f:p:low"]
    # The group is medium (its highest member), not low.
    await bot.handle(ana.presses("f:p:medium"))
    header, *items = gateway.take()
    assert header.key == "mine.header_filtered" and "Medium priority" in header.text
    assert [m.key for m in items] == ["group.summary"]
    await bot.handle(ana.presses("f:p:low"))
    assert [m.key for m in gateway.take()] == ["mine.none_match"]
    # The filter is kept in the conversation: another filter adds to it.
    await bot.handle(ana.presses("f:p:high"))
    await bot.handle(ana.presses("mine:1"))
    _, *items = gateway.take()[-2:]
    assert [m.key for m in items] == ["recommendation.summary"]


async def test_storage_folds_what_the_institution_is_assigned(sessions: async_sessionmaker[AsyncSession], linked: Linked) -> None:
    async with sessions() as session:
        moj = await session.scalar(select(Institution.id).where(Institution.code == "MOJ"))
        mow = await session.scalar(select(Institution.id).where(Institution.code == "MOW"))
        assert moj is not None and mow is not None
        theirs = await institution_items(session, moj)
        assert [(i.group_id, i.ids) for i in theirs] == [(linked.group, linked.members), (None, (linked.single,))]
        # A filter matching one member brings the whole group.
        assert [i.ids for i in await institution_items(session, moj, matching=[linked.members[1]])] == [linked.members]
        # The Ministry of Women sees its own members of the group, the CEDAW one and the other.
        women = [i for i in await institution_items(session, mow) if i.group_id == linked.group]
        assert [i.ids for i in women] == [(linked.members[2], linked.outside)]
        with pytest.raises(Exception, match="assigned no recommendation"):
            await repeat_group(session, linked.group + 99, moj, UpdateData(0, S.IN_PROGRESS, "x", Channel.CLI), datetime(2026, 11, 23, tzinfo=timezone.utc))


async def test_reminders_and_notices_name_the_group_once(sessions: async_sessionmaker[AsyncSession], linked: Linked, world: dict[str, int]) -> None:
    one, two, committee = linked.members
    async with sessions() as session, session.begin():
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 11, 30), "Inputs for the mid-term report"), Selector(ids=(*linked.members, linked.single)))
        high = await session.get(Recommendation, committee)
        assert high is not None
        high.priority = Priority.HIGH
    now = datetime(2026, 11, 23, 13, tzinfo=timezone.utc)
    async with sessions() as session:
        snapshot = await load_snapshot(session, Policy(), now)
    (planned,) = [p for p in plan_day(date(2026, 11, 23), snapshot, Policy()) if p.recipient.id == world["ana"]]
    message = compose(planned, snapshot)
    lines = [line for line in message.text.splitlines() if line.startswith("•")]
    # High priority first: the group, by its CEDAW member; then the single one.
    assert lines == [f"• Linked: Continue its efforts to combat domestic violence, in partic… — #{one} UPR, #{two} UPR, #{committee} CEDAW 25", f"• #{linked.single} UPR"]
    actions = [b.action for row in message.buttons for b in row]
    assert f"grp:{linked.group}" in actions and f"gsame:{linked.group}" in actions
    assert not any(a in (f"rec:{one}", f"same:{two}", f"rec:{committee}") for a in actions)
    (every,) = [a for a in actions if a.startswith("nca:")]
    assert item_lists.decode(every[4:]) == sorted([*linked.members, linked.single])
    # The day's assignment notice: the group in one line, opened as the group.
    told = [Assigned(n, rec, 1, AssignmentRole.LEAD, now) for n, rec in enumerate((one, two, committee, linked.single))]
    names = {one: "UPR", two: "UPR", committee: "CEDAW 25", linked.single: "UPR"}
    due = ItemDeadline(DeadlineName(DeadlineKind.INTERNAL_INPUT, "Inputs"), date(2026, 11, 30))
    notice = notice_message(told, "Ministry of Justice", "en", Platform.TELEGRAM, names, {one: due}, {r: linked.group for r in linked.members}, {linked.group: "Marital rape"})
    listed = [line for line in notice.text.splitlines() if line.startswith("•")]
    assert listed[0].startswith(f"• Linked: Marital rape — #{one} UPR, #{two} UPR, #{committee} CEDAW 25 (lead): Inputs") and len(listed) == 2
    assert [b.action for row in notice.buttons for b in row] == [f"grp:{linked.group}", f"rec:{linked.single}"]


async def test_through_the_telegram_adapter(sessions: async_sessionmaker[AsyncSession], linked: Linked) -> None:
    from tests.chat_harness import TelegramPerson, live_telegram

    async with live_telegram(sessions, FakeClock(), (111,)) as live:
        person = TelegramPerson(live.standin, 111)
        _, group, _single = await person.says("/mine", expect=3)
        assert group.text.startswith("Linked:")
        (detail,) = await person.presses("Open", on=group)
        await person.presses("Give an update", on=detail)
        await person.presses("in progress")
        (saved,) = await person.says("Police trained.")
        assert saved.text.startswith(f"Saved on each of the 3 linked recommendations {_ids(*linked.members)}: “in progress”.")
    rows = await _rows(sessions, *linked.members)
    assert [(u.channel, u.link_group_id, u.narrative) for u in rows] == [(Channel.TELEGRAM, linked.group, "Police trained.")] * 3


async def test_a_member_opened_by_its_number_leads_to_its_group(bot: ConversationEngine, gateway: FakeGateway, linked: Linked) -> None:
    await bot.handle(ana.presses(f"rec:{linked.members[1]}"))
    (detail,) = gateway.take()
    assert detail.key == "recommendation.detail" and f"grp:{linked.group}" in _actions(detail)
    await bot.handle(ana.presses(f"rec:{linked.single}"))
    (alone,) = gateway.take()
    assert not any(a.startswith("grp:") for a in _actions(alone))


async def test_a_group_dissolved_while_answering_stores_nothing(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], linked: Linked,
) -> None:
    await chat(bot, gateway, ana.presses(f"gupd:{linked.group}"), tap("in progress"))
    async with sessions() as session, session.begin():
        for member in (await session.scalars(select(LinkGroupMember).where(LinkGroupMember.group_id == linked.group))).all():
            await session.delete(member)
    assert await chat(bot, gateway, ana.says("Done.")) == ["group.not_yours"]
    assert await _rows(sessions, *linked.members) == []
    # And a group's button of another institution's group is refused the same way.
    assert await chat(bot, gateway, ana.presses(f"gsame:{linked.group}")) == ["group.not_yours"]


async def test_no_change_on_a_whole_reminder_read_back_from_the_outbox_answers_the_group_as_one(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, linked: Linked,
) -> None:
    from handlers.reminders.service import ReminderService
    from storage.models import OutboxMessage

    await answered_before(sessions, "MOJ", *linked.members, linked.single)
    async with sessions() as session, session.begin():
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 11, 30), "Inputs"), Selector(ids=(*linked.members, linked.single)))
    assert await ReminderService(sessions, Policy(), clock).tick() == 1
    async with sessions() as session:
        key = await session.scalar(select(OutboxMessage.key).where(OutboxMessage.key.like("digest:focal_point:%")))
    assert key is not None
    await bot.handle(ana.presses(f"nco:{key}"))
    (noted,) = gateway.take()
    assert noted.key == "update.no_change_all_saved"
    rows = [u for u in await _rows(sessions, *linked.members, linked.single) if u.author_label == "Ana Pérez"]
    assert sorted((u.recommendation_id, u.link_group_id) for u in rows) == sorted(
        [(r, linked.group) for r in linked.members] + [(linked.single, None)]
    )


# --- one item everywhere: Slack's form and Home, the hand-over (issue 15 review) -------


def _shown(view: dict[str, object]) -> str:
    parts = []
    for block in view["blocks"]:  # type: ignore[attr-defined]
        if block["type"] in ("section", "header"):
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts.extend(e["text"] for e in block["elements"])
    return "\n".join(parts)


async def _titled(sessions: async_sessionmaker[AsyncSession], group: int, title: str) -> None:
    async with sessions() as session, session.begin():
        found = await session.get(LinkGroup, group)
        assert found is not None
        found.title = title


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_on_slack_the_groups_form_is_titled_with_the_group_and_its_numbers(
    sessions: async_sessionmaker[AsyncSession], linked: Linked, mode: str,
) -> None:
    from tests.chat_harness import SlackPerson
    from tests.slack_harness import ANA, running_slack_bot

    one, two, committee = linked.members
    await _titled(sessions, linked.group, "Marital rape")
    async with running_slack_bot(sessions, mode) as slack:
        ana = SlackPerson(slack.standin, ANA)
        _, group, _single = await ana.says("mine", expect=3)
        assert group.shown.startswith("Linked: Marital rape")
        (saved,) = await ana.fills_form("Give an update", {"status": "in progress", "done": "Bill drafted."}, on=group)
        form = slack.standin.views[-1]
        # What the person knows the group by, not its internal number.
        assert form["title"]["text"] == "Marital rape" and f"#{linked.group}" not in form["title"]["text"]
        heading = form["blocks"][0]
        assert heading["type"] == "section" and heading["text"]["text"] == (
            f"Marital rape\n3 linked recommendations, {_ids(one, two, committee)}: one answer is saved on each."
        )
        assert [b["block_id"] for b in form["blocks"][1:]] == ["status", "done", "links", "next_step", "next_date"]
        assert saved.shown.startswith(f"Saved on each of the 3 linked recommendations {_ids(one, two, committee)}")
        # A recommendation alone keeps its own form, "Update #N", with no heading.
        await ana.fills_form("Give an update", {"status": "not started"}, on=_single)
        alone = slack.standin.views[-1]
        assert alone["title"]["text"] == f"Update #{linked.single}" and alone["blocks"][0]["block_id"] == "status"
    rows = [u for u in await _rows(sessions, *linked.members) if u.link_group_id == linked.group]
    assert sorted(u.recommendation_id for u in rows) == sorted(linked.members)


async def test_a_long_group_title_is_cut_in_the_form_title_and_shown_whole_above_it(
    sessions: async_sessionmaker[AsyncSession], linked: Linked,
) -> None:
    from tests.chat_harness import SlackPerson
    from tests.slack_harness import ANA, running_slack_bot

    async with running_slack_bot(sessions, "socket") as slack:
        ana = SlackPerson(slack.standin, ANA)
        _, group, _ = await ana.says("mine", expect=3)
        (detail,) = await ana.clicks("Open", on=group)
        await ana.fills_form("Give an update", {"status": "in progress"}, on=detail)
        form = slack.standin.views[-1]
    # Untitled: its first member's first words, cut to Slack's 24 characters.
    assert form["title"]["text"] == "Continue its efforts to…" and len(form["title"]["text"]) == 24
    assert form["blocks"][0]["text"]["text"].startswith("Continue its efforts to combat domestic violence, in partic…\n3 linked recommendations, #")


async def test_the_slack_home_lists_the_group_once_and_its_update_is_the_groups_form(
    sessions: async_sessionmaker[AsyncSession], linked: Linked,
) -> None:
    from tests.slack_harness import ANA, running_slack_bot

    one, two, committee = linked.members
    await _titled(sessions, linked.group, "Marital rape")
    async with running_slack_bot(sessions, "socket") as slack:
        slack.transport.home_interval = 0
        slack.standin.user_opens_home(ANA)
        home = await slack.standin.wait_for_home(ANA, 1)
        text = _shown(home)
        lines = [line for line in text.splitlines() if line.startswith(("Linked:", "#"))]
        assert lines[0] == f"Linked: Marital rape — 3 recommendations (UPR ×2, CEDAW ×1): {_ids(one, two, committee)} (no answer yet ×3)"
        assert len(lines) == 2 and lines[1].startswith(f"#{linked.single} UPR")
        values = [e["value"] for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert f"grp:{linked.group}" in values and not any(v in (f"rec:{one}", f"rec:{two}", f"rec:{committee}") for v in values)
        views = len(slack.standin.views)
        slack.standin.user_clicks_home(ANA, "Give an update")
        while len(slack.standin.views) == views:
            await slack.standin.settle()
        assert slack.standin.views[-1]["title"]["text"] == "Marital rape"
        slack.standin.user_fills(ANA, slack.standin.views[-1], {"status": "in progress"})
        # Answered: the group leaves the Home whole.
        deadline = asyncio.get_running_loop().time() + 10
        while "Marital rape" in _shown(slack.standin.home_of(ANA)):
            assert asyncio.get_running_loop().time() < deadline, _shown(slack.standin.home_of(ANA))
            await asyncio.sleep(0.02)
    assert len([u for u in await _rows(sessions, *linked.members) if u.link_group_id == linked.group]) == 3


async def test_the_hand_over_lists_the_group_once_with_its_last_update(
    sessions: async_sessionmaker[AsyncSession], linked: Linked, world: dict[str, int], clock: FakeClock,
) -> None:
    from handlers.assignment_notices import NoticeService
    from handlers.chat_port import OutgoingMessage
    from storage.conversations import link_identity
    from storage.enums import FocalPointRole
    from storage.models import FocalPoint, OutboxMessage
    from storage.network import FocalPointData, add_focal_point

    one, two, committee = linked.members
    await _titled(sessions, linked.group, "Marital rape")
    async with sessions() as session, session.begin():
        moj = await session.scalar(select(Institution.id).where(Institution.code == "MOJ"))
        await record_update(session, UpdateData(two, S.IN_PROGRESS, "Ana Pérez", Channel.TELEGRAM, institution_id=moj, narrative="Bill drafted."), at=datetime(2026, 11, 10, 15, tzinfo=timezone.utc))
        ana = await session.get(FocalPoint, world["ana"])
        assert ana is not None
        ana.active_to = date(2026, 11, 20)
        diego = await add_focal_point(session, FocalPointData("Diego Núñez", "MOJ", FocalPointRole.TECHNICAL, "en", "America/Montevideo", date(2026, 11, 23), "diego@justicia.example"))
        await link_identity(session, diego.id, Platform.TELEGRAM, "", "222", "222")
    await NoticeService(sessions, Policy(), clock).tick()
    async with sessions() as session:
        kept = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"handover:{diego.id}"))
    assert kept is not None
    welcome = OutgoingMessage.from_dict(kept.message)
    listed = [line for line in welcome.text.splitlines() if line.startswith("•")]
    assert listed[0].startswith(f"• Linked: Marital rape — #{one} UPR, #{two} UPR, #{committee} CEDAW 25: in progress, 10 November 2026, Ana Pérez: “Bill drafted.”")
    assert listed[1].startswith(f"• #{linked.single} UPR") and listed[1].endswith("no update yet") and len(listed) == 2
    assert _actions(welcome) == [f"grp:{linked.group}", f"rec:{linked.single}"]


async def test_a_request_lists_the_group_once_and_its_form_answers_the_request_on_each_member(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], linked: Linked, world: dict[str, int], clock: FakeClock,
) -> None:
    from handlers import requests as request_messages
    from handlers.chat_port import OutgoingMessage
    from storage.models import OutboxMessage, RequestAnswer
    from storage.requests import Target, create_request

    one, two, committee = linked.members
    async with sessions() as session, session.begin():
        request, recipients = await create_request(
            session, "What was done on domestic violence in 2026?", date(2026, 12, 18), Target("recommendations", (str(one), str(two), str(linked.single))),
            created_by="test", today=clock().date(),
        )
        other, _ = await create_request(
            session, "And on this one?", date(2026, 12, 18), Target("recommendations", (str(linked.single),)), created_by="test", today=clock().date(),
        )
        await request_messages.send(session, request, recipients, Policy(), clock())
    async with sessions() as session:
        kept = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"request:{request.id}:{world['ana']}"))
    assert kept is not None
    sent = OutgoingMessage.from_dict(kept.message)
    rows = [[(b.action, b.form_title) for b in row] for row in sent.buttons]
    group, asked = linked.group, request.id
    assert rows[0] == [(f"req:{asked}", None)]
    # The group once, its form titled with it (kept through the outbox); the single one as before.
    assert [a for a, _ in rows[1]] == [f"gupd:{group}:{asked}", f"gsame:{group}:{asked}"]
    assert (rows[1][0][1] or "").startswith("Continue its efforts") and f"{_ids(one, two)}: one answer" in (rows[1][0][1] or "")
    assert [a for a, _ in rows[2]] == [f"upd:{linked.single}:{asked}", f"same:{linked.single}:{asked}"]
    (every,) = [a for row in rows[3:] for a, _ in row]
    assert item_lists.decode(every.removeprefix(f"ncr:{asked}:")) == sorted([one, two, linked.single])
    # The Answer button lists the same items.
    await bot.handle(ana.presses(f"req:{asked}"))
    (pick,) = gateway.take()
    assert pick.key == "request.pick"
    assert _actions(pick) == [f"gupd:{group}:{asked}", f"gsame:{group}:{asked}", f"upd:{linked.single}:{asked}", f"same:{linked.single}:{asked}"]
    # Slack's form for the group, submitted: saved on each member, and the request answered.
    await bot.handle(IncomingMessage(ana.address, "slack-form-1", action=f"gupd:{group}:{asked}", form={"status": S.IN_PROGRESS.value, "done": "Bill drafted."}))
    (saved,) = gateway.take()
    assert saved.key == "group.saved"
    stored = [u for u in await _rows(sessions, *linked.members) if u.link_group_id == group]
    assert sorted(u.recommendation_id for u in stored) == sorted(linked.members)
    async with sessions() as session:
        answers = list((await session.scalars(select(RequestAnswer).where(RequestAnswer.request_id == asked))).all())
    assert len(answers) == 1 and answers[0].status_update_id in {u.id for u in stored}
    # A request that names none of the group's members is refused, nothing stored.
    await bot.handle(IncomingMessage(ana.address, "slack-form-2", action=f"gupd:{group}:{other.id}", form={"status": S.IN_PROGRESS.value}))
    assert [m.key for m in gateway.take()] == ["request.not_for_you"]
    assert len(await _rows(sessions, *linked.members)) == 3


def test_a_form_buttons_value_carries_its_title_and_an_older_one_still_opens() -> None:
    from bot.transports.slack_blocks import MAX_VALUE, form_value, read_form_value, update_form
    from handlers.chat_port import Button

    statuses = [(s.value, s.value) for s in S]
    titled = Button("Give an update", "gupd:5:7", form="update", form_title="Marital rape\n3 linked recommendations, #1, #2, #4: one answer is saved on each.")
    assert read_form_value(form_value(titled, "fr")) == ("update", "fr", "gupd:5:7", titled.form_title)
    # However long the title, the action survives whole within Slack's 2,000 characters.
    long = form_value(Button("x", "gupd:5", form="update", form_title="t" * 5000), "en")
    assert len(long) == MAX_VALUE and read_form_value(long)[2] == "gupd:5"  # type: ignore[index]
    # A group's button posted before titles were carried: no "Update #5" naming the group's number.
    old = read_form_value("form:update:en:gupd:5")
    assert old == ("update", "en", "gupd:5", None)
    assert update_form("gupd:5", None, "D1", "es", statuses)["title"]["text"] == "Actualizar"
    assert update_form("upd:12", 12, "D1", "en", statuses)["title"]["text"] == "Update #12"
    assert read_form_value("upd:12") is None
