"""The year's pledges in chat (issue 16), through the engine on the fake
gateway, on every backend: the round's request reaches the focal point, who
writes pledges naming #N and action codes, reviews and confirms them; a typo
is refused with the reason; unanswered, the request is reminded and then
escalated to the alternate; at the report-back each pledge is asked back
(done, partly, not, with an account); the secretariat's /pledges sums it up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage import pledges as store
from storage.actions import ActionData, create_action
from storage.conversations import link_identity
from storage.enums import Channel, FocalPointRole, OutboxStatus, PledgeOutcomeKind, PledgeState, Platform
from storage.models import AuditEntry, FocalPoint, OutboxMessage
from storage.network import FocalPointData, add_focal_point
from storage.pledge_models import Pledge, PledgeOutcome
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from tests.dialogue_harness import ANA, bot, chat, clock, gateway, tap
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

BRUNO, MARY = Person("112"), Person("900")
POLICY = Policy()
ASK_BY, REPORT_BACK = date(2027, 1, 29), date(2027, 12, 1)


@pytest.fixture
async def round_(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], clock: FakeClock) -> dict[str, Any]:
    """The 2027 round, opened today (Monday 23 November 2026), asking MOJ and MOW;
    A-1 is MOJ's action; Mary is the secretariat."""
    async with sessions() as session, session.begin():
        action = await create_action(session, ActionData("Train 300 judges", "MOJ", recommendations=(world["mine"],)), actor="cli:mary", now=clock.now)
        made = await store.open_round(session, 2027, ASK_BY, REPORT_BACK, today=clock.now.date(), actor="cli:mary", now=clock.now)
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
    return {"round": made.id, "action": action.code}


async def _outbox(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("pledges:%")).order_by(OutboxMessage.id))).all())


async def _deliver_all(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING).values(status=OutboxStatus.SENT))


def _labels(message: OutgoingMessage) -> list[str]:
    return [b.label for row in message.buttons for b in row]


async def _last(gateway: FakeGateway) -> OutgoingMessage:
    [reply] = gateway.take()
    return reply


async def test_asked_in_chat_a_focal_point_writes_reviews_and_confirms_the_years_pledges(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], round_: dict[str, Any], clock: FakeClock,
    bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    one, two, _ = world["mine_all"]
    # Ana's ask, and Mary told that nobody at the Ministry of Women can be asked (F7).
    assert await ReminderService(sessions, POLICY, clock).tick() == 2
    [row] = await _outbox(sessions)
    request = OutgoingMessage.from_dict(row.message)
    assert row.focal_point_id == world["ana"] and request.key == "pledge.reminder"
    assert request.text.splitlines()[0] == (
        "2027 pledges: Ministry of Justice is asked for its pledges for the year by 29 January 2027. "
        "What will it undertake on the recommendations and actions of the plan?"
    )
    assert _labels(request) == ["Our 2027 pledges", "Snooze 1 week"]

    await bot.handle(ANA.presses(request.buttons[0][0].action))
    shown = await _last(gateway)
    assert shown.key == "pledge.round" and shown.text.splitlines() == [
        "2027 pledges of Ministry of Justice: asked by 29 January 2027; the report-back on each begins on 1 December 2027.",
        "No pledge yet.",
    ]
    assert _labels(shown) == ["Add a pledge", "No pledge in 2027"]
    assert await chat(bot, gateway, tap("Add a pledge")) == ["pledge.ask_text"]
    # A typo in a code: refused with the reason, asked again.
    await bot.handle(ANA.says("Train 300 judges under A-9"))
    again = await _last(gateway)
    assert again.key == "pledge.ask_text_again"
    assert again.text.startswith("That pledge cannot be taken: the plan has no action A-9. Write it again")
    await bot.handle(ANA.says(f"Train 300 judges on gender-based violence (#{one}, {round_['action'].lower()})"))
    review = await _last(gateway)
    assert review.key == "pledge.review" and review.text.splitlines()[-1] == f"It serves: #{one}, {round_['action']}. Save it as a draft?"
    # Typed while the buttons wait: said so, nothing kept.
    assert await chat(bot, gateway, ANA.says("yes")) == ["pledge.press"]
    await bot.handle(tap("Save as draft")(gateway))
    saved = await _last(gateway)
    assert saved.text == "Saved as draft P-1. Add the others, then confirm them all by 29 January 2027."
    assert _labels(saved) == ["Add another", "Confirm the draft (1)"]
    assert await chat(bot, gateway, tap("Add another")) == ["pledge.ask_text"]
    await bot.handle(ANA.says(f"Publish the legal-aid register every quarter #{two}"))
    assert (await _last(gateway)).key == "pledge.review"
    assert await chat(bot, gateway, tap("Save as draft")) == ["pledge.saved"]
    await bot.handle(tap("Confirm the drafts (2)")(gateway))
    confirm = await _last(gateway)
    assert confirm.text.splitlines() == [
        "You confirm 2 pledges as Ministry of Justice's for 2027:",
        f"P-1: Train 300 judges on gender-based violence (#{one}, {round_['action'].lower()}) (serves: #{one}, {round_['action']})",
        f"P-2: Publish the legal-aid register every quarter #{two} (serves: #{two})",
        "Once confirmed, each will be asked back from 1 December 2027: done, partly or not.",
    ]
    await bot.handle(tap("Confirm")(gateway))
    done = await _last(gateway)
    assert done.text == "2 pledges confirmed: P-1, P-2. The secretariat sees them now; from 1 December 2027 you will be asked what became of each."
    async with sessions() as session:
        pledges = (await session.scalars(select(Pledge).order_by(Pledge.id))).all()
        audited = (await session.scalars(select(AuditEntry.actor).where(AuditEntry.entity == "pledges"))).all()
    assert [(p.code, p.state, p.author_focal_point_id, p.channel) for p in pledges] == [
        ("P-1", PledgeState.CONFIRMED, world["ana"], Channel.TELEGRAM), ("P-2", PledgeState.CONFIRMED, world["ana"], Channel.TELEGRAM),
    ]
    assert pledges[0].confirmed_by == "Ana Pérez (MOJ)"
    assert set(audited) == {f"telegram:111 focal_point:{world['ana']}"}

    # Confirmed: MOJ is asked no more; the old request's Add still opens the round, which says where it stands.
    await _deliver_all(sessions)
    clock.advance(days=70)
    assert await ReminderService(sessions, POLICY, clock).tick() == 0


async def test_a_french_focal_point_is_refused_in_french_and_may_say_no_pledge_this_year(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], round_: dict[str, Any], clock: FakeClock,
    bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    async with sessions() as session, session.begin():
        ana = await session.get(FocalPoint, world["ana"])
        assert ana is not None
        ana.language = "fr"
    await bot.handle(ANA.says("/pledges"))
    assert _labels(await _last(gateway)) == ["Ajouter un engagement", "Aucun engagement en 2027"]
    await chat(bot, gateway, tap("Ajouter un engagement"))
    await bot.handle(ANA.says("Former les juges #999999"))
    refused = await _last(gateway)
    assert refused.text.startswith("Cet engagement ne peut pas être pris : le registre n'a pas de recommandation #999999. Écrivez-le de nouveau")
    assert await chat(bot, gateway, ANA.says("/cancel")) == ["update.cancelled"]
    await bot.handle(tap("Aucun engagement en 2027")(gateway))
    asked = await _last(gateway)
    assert asked.text == "Vous indiquez que Ministry of Justice ne prend aucun engagement en 2027 : il ne lui sera plus rien demandé. Confirmer ?"
    assert await chat(bot, gateway, tap("Confirmer")) == ["pledge.none_saved"]
    # MOJ said it pledges nothing: the tick asks it nothing; MOW has no focal point
    # with an account, so Mary alone is told, once (F7).
    assert await ReminderService(sessions, POLICY, clock).tick() == 1
    assert await ReminderService(sessions, POLICY, clock).tick() == 0
    async with sessions() as session:
        found = await store.summary(session, await store.get_round(session, 2027))
    assert [(line.code, line.standing) for line in found.lines] == [("MOJ", "no_pledge"), ("MOW", "nothing")]


async def test_unanswered_the_request_is_reminded_before_and_after_the_day_and_escalated_to_the_alternate(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], round_: dict[str, Any], clock: FakeClock,
    bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    async with sessions() as session, session.begin():
        bruno = await add_focal_point(session, FocalPointData(
            "Bruno Silva", "MOJ", FocalPointRole.ALTERNATE, "es", "America/Montevideo", date(2025, 1, 1), "bruno@justicia.example",
        ))
        await link_identity(session, bruno.id, Platform.TELEGRAM, "", "112", "112")
    service = ReminderService(sessions, POLICY, clock)
    days: list[tuple[date, str, int | None]] = []
    start = clock.now
    # Every day at 10:00 in Montevideo, for eleven weeks, each message delivered.
    for day in range(80):
        clock.now = start + timedelta(days=day)
        await service.tick()
        await _deliver_all(sessions)
    for row in await _outbox(sessions):
        days.append((row.due_at.date(), row.kind.value, row.focal_point_id))
    ana, bruno_id = world["ana"], bruno.id
    assert [(d, k) for d, k, who in days if who == ana] == [
        (date(2026, 11, 23), "reminder"), (date(2027, 1, 22), "reminder"), (date(2027, 1, 28), "reminder"),
        (date(2027, 2, 3), "reminder"), (date(2027, 2, 8), "reminder"),
    ]
    # The day passed (Friday 29 January) with three asks delivered: the alternate hears the next working day, once.
    assert [(d, k) for d, k, who in days if who == bruno_id] == [(date(2027, 2, 1), "escalation")]
    rows = [r for r in await _outbox(sessions) if r.focal_point_id == bruno_id]
    told = OutgoingMessage.from_dict(rows[0].message)
    assert told.text.startswith("Ministry of Justice no ha confirmado sus compromisos 2027, solicitados 3 veces a Ana Pérez.")
    assert _labels(told) == ["Nuestros compromisos 2027"]


async def test_at_the_report_back_each_pledge_is_asked_back_and_the_secretariat_reads_the_outcomes(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], round_: dict[str, Any], clock: FakeClock,
    bot: ConversationEngine, gateway: FakeGateway,
) -> None:
    async with sessions() as session, session.begin():
        made = await store.get_round(session, 2027)
        moj = (await session.get(FocalPoint, world["ana"])).institution_id  # type: ignore[union-attr]
        author = store.Author("cli:mary", Channel.CLI)
        for words in ("Train 300 judges", "Publish the register", "Open two legal-aid offices"):
            await store.add_pledge(session, made, moj, words, author, today=clock.now.date(), now=clock.now, confirmed=True)
    # Not yet: the report-back begins on 1 December 2027.
    await bot.handle(ANA.says("/pledges"))
    assert _labels(await _last(gateway)) == ["Add a pledge", "Withdraw P-1", "Withdraw P-2", "Withdraw P-3"]

    clock.now = datetime(2027, 12, 1, 13, tzinfo=UTC)
    assert await ReminderService(sessions, POLICY, clock).tick() == 1
    [row] = await _outbox(sessions)
    request = OutgoingMessage.from_dict(row.message)
    assert request.text.splitlines()[0].startswith("2027 pledges, the report-back: what became of each pledge of Ministry of Justice?")
    assert _labels(request)[:3] == ["P-1: done", "P-1: partly", "P-1: not done"]
    await bot.handle(ANA.presses(request.buttons[0][0].action))
    ask = await _last(gateway)
    assert ask.key == "pledge.ask_account" and ask.text.startswith("P-1: Done. In a few words (at most 1,000 characters)")
    await bot.handle(ANA.says("x" * 1001))
    assert (await _last(gateway)).text == "P-1: an account is at most 1,000 characters, and this one has 1001. Write the account again, or Cancel."
    await bot.handle(ANA.says("All 300 trained, in six courses"))
    told = await _last(gateway)
    assert told.text.splitlines() == ["Recorded: P-1, Done: All 300 trained, in six courses", "2 pledges still to report on. Next, P-2: Publish the register"]
    assert _labels(told) == ["P-2: done", "P-2: partly", "P-2: not done"]
    await chat(bot, gateway, tap("P-2: partly"))
    await chat(bot, gateway, ANA.says("Published twice of four times"))
    await chat(bot, gateway, tap("P-3: not done"))
    await bot.handle(ANA.says("No premises found"))
    assert (await _last(gateway)).text.splitlines()[-1] == "Every pledge of your institution is reported on. Thank you."
    # Told again: a new outcome, the latest counts.
    await chat(bot, gateway, ANA.says("/pledges"))
    await chat(bot, gateway, tap("P-3: partly"))
    await chat(bot, gateway, ANA.says("One office opened in December after all"))
    async with sessions() as session:
        told_rows = (await session.scalars(select(PledgeOutcome).order_by(PledgeOutcome.id))).all()
    assert [(o.outcome, o.author_focal_point_id) for o in told_rows] == [
        (PledgeOutcomeKind.DONE, world["ana"]), (PledgeOutcomeKind.PARTLY, world["ana"]), (PledgeOutcomeKind.NOT_DONE, world["ana"]),
        (PledgeOutcomeKind.PARTLY, world["ana"]),
    ]
    assert await ReminderService(sessions, POLICY, clock).tick() == 0

    await bot.handle(MARY.says("/pledges"))
    summary = await _last(gateway)
    assert summary.key == "pledges.summary"
    assert summary.text.splitlines()[:4] == [
        "2027 pledges: the report-back began on 1 December 2027 (pledges were asked by 29 January 2027).",
        "2 institutions asked: 1 confirmed its pledges, 0 left drafts only, 0 said they pledge nothing, 1 did not answer.",
        "MOJ: 3 confirmed, 0 draft(s), 0 withdrawn. Done 1, partly 2, not 0, awaited 0.",
        "MOW: not answered.",
    ]
    assert "3 confirmed pledges: done 1, partly 2, not 0, awaited 0." in summary.text.splitlines()
    await bot.handle(MARY.says("/pledges P-3"))
    detail = await _last(gateway)
    assert detail.text.splitlines()[0] == "P-3 (2027, Ministry of Justice, confirmed): Open two legal-aid offices"
    assert [line.split(" (")[0] for line in detail.text.splitlines()[3:]] == ["Not done", "Partly"]
    # A focal point's /pledges is their own; the secretariat's is the summary.
    await bot.handle(MARY.says("/pledges 2031"))
    assert (await _last(gateway)).text == "Cannot show it: there is no pledge round for 2031."


async def test_a_report_back_left_unanswered_is_reminded_escalated_and_stopped_by_closing_the_round(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], round_: dict[str, Any], clock: FakeClock,
) -> None:
    async with sessions() as session, session.begin():
        made = await store.get_round(session, 2027)
        moj = (await session.get(FocalPoint, world["ana"])).institution_id  # type: ignore[union-attr]
        await store.add_pledge(session, made, moj, "Train 300 judges", store.Author("cli:mary", Channel.CLI), today=clock.now.date(), now=clock.now, confirmed=True)
        bruno = await add_focal_point(session, FocalPointData(
            "Bruno Silva", "MOJ", FocalPointRole.ALTERNATE, "en", "America/Montevideo", date(2025, 1, 1), "bruno@justicia.example",
        ))
        await link_identity(session, bruno.id, Platform.TELEGRAM, "", "112", "112")
    service = ReminderService(sessions, POLICY, clock)
    start = datetime(2027, 12, 1, 13, tzinfo=UTC)
    for day in range(12):
        clock.now = start + timedelta(days=day)
        await service.tick()
        await _deliver_all(sessions)
    sent = [(r.due_at.date(), r.kind.value, r.focal_point_id) for r in await _outbox(sessions)]
    # Wednesday 1 December, then every third working day; the alternate with the step after two delivered.
    assert [(d, k) for d, k, who in sent if who == world["ana"]] == [(date(2027, 12, 1), "reminder"), (date(2027, 12, 6), "reminder"), (date(2027, 12, 9), "reminder")]
    assert [(d, k) for d, k, who in sent if who == bruno.id] == [(date(2027, 12, 9), "escalation")]
    async with sessions() as session, session.begin():
        await store.close_round(session, 2027, actor="cli:mary", now=clock.now)
    clock.now = start + timedelta(days=20)
    assert await service.tick() == 0
