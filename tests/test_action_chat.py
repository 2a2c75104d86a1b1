"""Actions in chat, through the engine on the fake gateway, on every backend:
a focal point lists their institution's actions, updates one in the short
paths a recommendation has (history append-only, corrections within 24
hours, stale buttons refused), proposes one; the secretariat adds, accepts
and rejects in chat, every change audited with its actor."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.engine import ConversationEngine
from storage import actions
from storage.action_models import Action, ActionState, ActionUpdate
from storage.actions import ActionData
from storage.conversations import link_identity
from storage.errors import AppendOnlyViolation
from storage.enums import Channel, FocalPointRole, ImplementationStatus, Platform, SecretariatRole
from storage.models import AuditEntry, FocalPoint, OutboxMessage
from storage.network import FocalPointData, add_focal_point
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from tests.dialogue_harness import ANA, bot, chat, clock, gateway, tap
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

CLAIRE = Person("222")
COORDINATOR, VIEWER = Person("901"), Person("902")


@pytest.fixture
async def plan(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], clock: FakeClock) -> dict[str, int]:
    """A-1 for MOJ (Ana's), A-2 for MOW with MOJ contributing, A-3 for MOW alone;
    Claire answers for MOW; Colin coordinates the secretariat, Vera views."""
    async with sessions() as session, session.begin():
        one = await actions.create_action(session, ActionData(
            "Train 300 judges on the Istanbul Protocol", "MOJ", recommendations=(world["mine"],), target_date=date(2027, 6, 30),
        ), actor="cli:mary", now=clock.now)
        two = await actions.create_action(session, ActionData(
            "A shelter in every department", "MOW", recommendations=(world["not_mine"],), contributing=("MOJ",),
        ), actor="cli:mary", now=clock.now)
        three = await actions.create_action(session, ActionData("A hotline", "MOW", recommendations=(world["not_mine"],)), actor="cli:mary", now=clock.now)
        claire = await add_focal_point(session, FocalPointData("Claire Martin", "MOW", FocalPointRole.TECHNICAL, "fr", "Europe/Paris", date(2025, 1, 1), "claire@femmes.example"))
        await link_identity(session, claire.id, Platform.TELEGRAM, "", "222", "222")
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        colin = await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "UTC", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        await add_secretariat_user(session, SecretariatUserData("Vera Lind", "vera@mfa.example", "es", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))
    return {"A-1": one.id, "A-2": two.id, "A-3": three.id, "colin": colin.id, "claire": claire.id}


async def _said(bot: ConversationEngine, gateway: FakeGateway, message: object) -> OutgoingMessage:
    """The one reply to ``message`` (a press made when its turn comes)."""
    await chat(bot, gateway, message)
    [reply] = [m for address, m in gateway.history[-1:]]
    return reply


def _labels(message: Any) -> list[str]:
    return [b.label for row in message.buttons for b in row]


async def _updates(sessions: async_sessionmaker[AsyncSession], action_id: int) -> list[ActionUpdate]:
    async with sessions() as session:
        return list((await session.scalars(select(ActionUpdate).where(ActionUpdate.action_id == action_id).order_by(ActionUpdate.id))).all())


async def test_a_focal_point_lists_their_institutions_actions_and_updates_one_in_three_taps_and_a_message(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], plan: dict[str, int], world: dict[str, int],
) -> None:
    await bot.handle(ANA.says("/actions"))
    header, first, second = gateway.take()
    assert header.key == "action.list_header" and header.text == "Ministry of Justice: 2 actions of the plan. Page 1 of 1."
    assert _labels(header) == ["Propose an action"]
    assert first.text.startswith("A-1: Train 300 judges on the Istanbul Protocol\nYour institution is responsible.")
    assert "Target date: 30 June 2027. Status: not started. Last update: never." in first.text
    assert second.text.startswith("A-2: A shelter in every department\nMinistry of Women is responsible; yours contributes.")
    assert _labels(first) == ["Give an update", "No change"]

    # A-1's own button (a tap finds the latest message with the label: A-2's).
    assert first.buttons[0][0].action == f"xupd:{plan['A-1']}"
    keys = await chat(bot, gateway, ANA.presses(first.buttons[0][0].action), tap("in progress"), ANA.says("First course held in Salto\nNext: the second course, 2027-03-31"))
    assert keys == ["action.ask_status", "action.ask_done", "action.saved"]
    [update] = await _updates(sessions, plan["A-1"])
    assert (update.status, update.narrative, update.next_step, update.next_step_due_on) == (
        ImplementationStatus.IN_PROGRESS, "First course held in Salto", "the second course, 2027-03-31", date(2027, 3, 31))
    async with sessions() as session:
        stored = await session.get(Action, plan["A-1"])
    assert stored is not None and stored.status is ImplementationStatus.IN_PROGRESS
    assert (update.author_focal_point_id, update.institution_id, update.channel) == (world["ana"], stored.responsible_institution_id, Channel.TELEGRAM)

    # The status buttons of that question answer nothing now.
    assert await chat(bot, gateway, tap("fully implemented")) == ["stale.closed"]
    assert len(await _updates(sessions, plan["A-1"])) == 1

    # Correct, within 24 hours: a new row corrects the first; Skip keeps what was done.
    keys = await chat(bot, gateway, tap("Correct"), tap("partially implemented"), tap("Skip"))
    assert keys == ["action.ask_correction", "action.ask_done", "action.saved"]
    first_row, correction = await _updates(sessions, plan["A-1"])
    assert correction.corrects_id == first_row.id and correction.status is ImplementationStatus.PARTIALLY_IMPLEMENTED
    assert correction.narrative == "First course held in Salto" and correction.next_step_due_on == date(2027, 3, 31)


async def test_no_change_repeats_the_last_answer_and_a_correction_after_24_hours_is_refused(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], plan: dict[str, int], clock: FakeClock,
) -> None:
    # Never answered: "No change" asks the status once, and saves it alone.
    same = ANA.presses(f"xsame:{plan['A-1']}")
    keys = await chat(bot, gateway, same, tap("in progress"))
    assert keys == ["action.ask_first_status", "action.saved"]
    clock.advance(days=3)
    assert await chat(bot, gateway, ANA.presses(f"xsame:{plan['A-1']}")) == ["action.no_change_saved"]
    [first, again] = await _updates(sessions, plan["A-1"])
    assert (again.status, again.narrative) == (first.status, first.narrative) and again.created_at - first.created_at == timedelta(days=3)
    clock.advance(hours=25)
    assert await chat(bot, gateway, tap("Correct")) == ["update.correct_window_over"]
    with pytest.raises(AppendOnlyViolation):
        async with sessions() as session, session.begin():
            stored = await session.get(ActionUpdate, first.id)
            await session.delete(stored)


async def test_a_date_that_cannot_be_read_is_asked_again_and_the_update_is_kept_meanwhile(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], plan: dict[str, int],
) -> None:
    keys = await chat(bot, gateway, ANA.presses(f"xupd:{plan['A-1']}"), tap("in progress"), ANA.says("Judges selected\nNext: the course, 2027-02-30"))
    assert keys == ["action.ask_status", "action.ask_done", "action.saved", "action.bad_date"]
    assert await chat(bot, gateway, ANA.says("soon")) == ["action.bad_date"]
    assert await chat(bot, gateway, ANA.says("2027-03-01")) == ["action.saved"]
    saved, dated = await _updates(sessions, plan["A-1"])
    assert saved.next_step_due_on is None and dated.next_step_due_on == date(2027, 3, 1) and dated.corrects_id == saved.id


async def test_another_institutions_action_is_refused_and_an_open_dialogue_is_not_dropped(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], plan: dict[str, int],
) -> None:
    assert await chat(bot, gateway, ANA.presses(f"xupd:{plan['A-3']}")) == ["action.not_yours"]
    # A contributing institution may report; the responsible one's status stands.
    assert await chat(bot, gateway, ANA.presses(f"xupd:{plan['A-2']}"), tap("fully implemented"), ANA.says("skip")) == ["action.ask_status", "action.ask_done", "action.saved"]
    async with sessions() as session:
        assert (await session.get(Action, plan["A-2"])).status is ImplementationStatus.NOT_STARTED  # type: ignore[union-attr]
    await chat(bot, gateway, ANA.presses(f"xupd:{plan['A-1']}"))
    refused = await _said(bot, gateway, ANA.presses(f"xsame:{plan['A-2']}"))
    assert refused.key == "stale.other" and "you are answering about an action" in refused.text
    assert await chat(bot, gateway, tap("in progress")) == ["action.ask_done"]
    # Claire reads her /actions in French.
    await bot.handle(CLAIRE.says("/actions"))
    header, *_ = gateway.take()
    assert header.text == "Ministry of Women : 2 actions du plan. Page 1 sur 1."


async def test_a_focal_point_proposes_an_action_and_the_secretariat_accepts_it_in_chat(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], plan: dict[str, int], world: dict[str, int],
) -> None:
    mine, other = world["mine_all"][1], world["not_mine"]
    await chat(bot, gateway, ANA.says("/actions"))
    assert await chat(bot, gateway, tap("Propose an action"), ANA.says("Visit every prison\nTwice a year, with the NHRI")) == ["action.ask_title", "action.ask_recs"]
    assert await chat(bot, gateway, ANA.says("the first one")) == ["action.recs_unreadable"]
    refusal = await _said(bot, gateway, ANA.says(f"#{mine} #{other}"))
    assert refusal.key == "action.recs_not_yours" and f"#{other}: not assigned to Ministry of Justice" in refusal.text
    assert await chat(bot, gateway, ANA.says(f"#{mine}"), ANA.says("2026-01-01")) == ["action.ask_target", "action.target_past"]
    await bot.handle(ANA.says("2027-05-01"))
    [summary] = gateway.take()
    assert summary.key == "action.confirm_proposal" and "“Visit every prison”" in summary.text and "Description: Twice a year, with the NHRI" in summary.text
    async with sessions() as session:
        assert (await session.scalars(select(Action).where(Action.state == ActionState.PROPOSED))).all() == []
    proposed = await _said(bot, gateway, tap("Confirm"))
    assert proposed.key == "action.proposed" and proposed.text.startswith("Proposed as A-4.")
    async with sessions() as session:
        action = await actions.get_action(session, "A-4")
        assert (action.state, action.proposed_by, action.target_date, action.description) == (ActionState.PROPOSED, world["ana"], date(2027, 5, 1), "Twice a year, with the NHRI")
    # A proposal takes no update until accepted.
    assert await chat(bot, gateway, ANA.presses(f"xupd:{action.id}")) == ["action.not_yours"]

    await bot.handle(COORDINATOR.says("/actions"))
    [listing] = gateway.take()
    assert "3 actions in the plan:" in listing.text and "1 proposal is waiting for a decision: /actions proposed." in listing.text
    await bot.handle(COORDINATOR.says("/actions proposed"))
    [proposals] = gateway.take()
    assert "A-4 “Visit every prison” from MOJ" in proposals.text and _labels(proposals) == ["Accept A-4", "Reject A-4…"]
    assert await chat(bot, gateway, tap("Accept A-4", COORDINATOR)) == ["actions.confirm"]
    assert await chat(bot, gateway, COORDINATOR.says("yes")) == ["actions.press"]
    assert await chat(bot, gateway, tap("Confirm", COORDINATOR)) == ["actions.done"]
    async with sessions() as session:
        assert (await actions.get_action(session, "A-4")).state is ActionState.ACCEPTED
        decided = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "actions", AuditEntry.action == "update"))).all()
    assert [(e.actor, e.changes["state"]) for e in decided] == [(f"secretariat:{plan['colin']}", ["proposed", "accepted"])]  # type: ignore[index]
    # Now Ana may update it.
    assert await chat(bot, gateway, ANA.presses(f"xupd:{action.id}")) == ["action.ask_status"]


async def test_the_secretariat_rejects_with_a_reason_the_proposer_reads(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], plan: dict[str, int], world: dict[str, int], clock: FakeClock,
) -> None:
    async with sessions() as session, session.begin():
        ana = await session.get(FocalPoint, world["ana"])
        await actions.create_action(session, ActionData("A hotline", "MOJ", recommendations=(world["mine"],)), actor="ana", now=clock.now, proposed_by=ana)
    assert await chat(bot, gateway, COORDINATOR.says("/actions reject A-4")) == ["actions.ask_reason"]
    assert await chat(bot, gateway, COORDINATOR.says("Covered by A-3"), tap("Confirm", COORDINATOR)) == ["actions.confirm", "actions.done"]
    await bot.handle(ANA.says("/actions"))
    header = gateway.take()[0]
    assert "Your proposal A-4 “A hotline” was not accepted: Covered by A-3" in header.text
    assert await chat(bot, gateway, COORDINATOR.says("/actions accept A-4")) == ["actions.failed"]
    assert gateway.history[-1][1].text == "Nothing was changed: A-4 was rejected already: there is nothing left to decide"


async def test_the_secretariat_adds_an_action_in_chat_and_a_viewer_only_reads(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], plan: dict[str, int], world: dict[str, int],
) -> None:
    one, two = world["mine_all"][:2]
    await bot.handle(COORDINATOR.says(f"/actions add moj #{one} #{two} 2027-09-30 Publish the judges' training plan"))
    [summary] = gateway.take()
    assert summary.key == "actions.confirm"
    assert summary.text == f"Add A-4 “Publish the judges' training plan”: MOJ responsible, for #{one}, #{two}, target date 30 September 2027.\nConfirm?"
    async with sessions() as session:
        assert await session.scalar(select(Action).where(Action.code == "A-4")) is None
    assert await chat(bot, gateway, tap("Confirm", COORDINATOR)) == ["actions.done"]
    await bot.handle(VIEWER.says("/actions A-4"))
    [detail] = gateway.take()
    assert detail.text.startswith("A-4: Publish the judges' training plan\nEn el plan, no iniciada. Responsable: Ministry of Justice.")
    assert await chat(bot, gateway, VIEWER.says(f"/actions add MOJ #{one} Title")) == ["role.needed"]
    assert await chat(bot, gateway, COORDINATOR.says("/actions add NOPE #1 A title")) == ["actions.failed"]
    assert gateway.history[-1][1].text == "Nothing was changed: no institution has the code NOPE"
    assert await chat(bot, gateway, COORDINATOR.says("/actions add MOJ Title only")) == ["actions.usage"]
    assert await chat(bot, gateway, COORDINATOR.says("/actions A-99")) == ["actions.unknown"]
    # A focal point's /actions is their own list, whatever follows it.
    assert (await chat(bot, gateway, ANA.says("/actions proposed")))[0] == "action.list_header"


async def test_a_contributing_institutions_update_is_told_as_its_own_not_as_the_actions_status(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], plan: dict[str, int],
) -> None:
    # Issue 16 review: "Saved: A-2 is “fully implemented”" told MOJ the action was done, while MOW's status stands.
    await chat(bot, gateway, ANA.presses(f"xupd:{plan['A-2']}"), tap("fully implemented"))
    saved = await _said(bot, gateway, ANA.says("Our part: the shelter in Salto opened"))
    assert saved.key == "action.saved"
    assert saved.text.splitlines()[0] == (
        "Saved: your institution's update of A-2 (“fully implemented”). Ministry of Women answers for the action's status,"
        " still “not started”. Thank you: the secretariat can see it now."
    )
    async with sessions() as session:
        assert (await session.get(Action, plan["A-2"])).status is ImplementationStatus.NOT_STARTED  # type: ignore[union-attr]
    # The responsible institution's own update still reads as the action's status.
    await chat(bot, gateway, ANA.presses(f"xupd:{plan['A-1']}"), tap("in progress"))
    saved = await _said(bot, gateway, ANA.says("skip"))
    assert saved.text.splitlines()[0] == "Saved: A-1 is “in progress”. Thank you: the secretariat can see it now."


async def test_the_proposer_is_told_the_secretariats_decision_in_their_language(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], plan: dict[str, int], world: dict[str, int], clock: FakeClock,
) -> None:
    # Issue 16 review: the proposer learnt of an acceptance only by opening /actions again.
    async with sessions() as session, session.begin():
        ana = await session.get(FocalPoint, world["ana"])
        assert ana is not None
        ana.language = "es"
        await actions.create_action(session, ActionData("A hotline", "MOJ", recommendations=(world["mine"],)), actor="ana", now=clock.now, proposed_by=ana)
    # The summary before Confirm plans nothing: its dry run is rolled back, the notice with it.
    assert await chat(bot, gateway, COORDINATOR.says("/actions accept A-4")) == ["actions.confirm"]
    async with sessions() as session:
        assert (await session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("action-decided:%")))).all() == []
    assert await chat(bot, gateway, tap("Confirm", COORDINATOR)) == ["actions.done"]
    async with sessions() as session:
        [row] = (await session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("action-decided:%")))).all()
        a4 = await actions.get_action(session, "A-4")
    notice = OutgoingMessage.from_dict(row.message)
    assert (row.focal_point_id, row.key) == (world["ana"], f"action-decided:{a4.id}")
    assert notice.key == "action.proposal_accepted_notice"
    assert notice.text == (
        "La secretaría aceptó su propuesta A-4 «A hotline»: ya forma parte del plan y su institución responde de ella."
        " Dé sus actualizaciones con el botón de abajo o desde /actions."
    )
    assert [b.action for r in notice.buttons for b in r] == [f"xupd:{a4.id}"]
    # Within her working window (09:00 in Montevideo: 12:00 UTC).
    assert row.due_at >= clock.now and row.due_at.astimezone(ZoneInfo("America/Montevideo")).hour >= 9
