"""An action of the plan updated on Slack as a recommendation is (issue 16):
its Update button, in /actions and in a target-date reminder, opens one
form (status, what was done, next step and its date, no evidence links:
an action takes none), saved at once on Submit; No change is one click.
The real slack-bolt app and clients against the local Slack stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import ChatAddress, OutgoingMessage
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage import actions
from storage.actions import ActionData
from storage.enums import Channel, ImplementationStatus as S, Platform
from storage.models import OutboxMessage
from tests.chat_harness import SlackPerson
from bot.standins.slack import Posted
from tests.slack_harness import ANA, SlackBot, running_slack_bot

# A button that opens no form would leave the stand-in waiting for one.
FORM_OPENS_WITHIN = 10


@pytest.fixture
async def slack(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    async with running_slack_bot(sessions, "socket") as bot:
        yield bot


async def _fills(ana: SlackPerson, label: str, values: dict[str, str], on: Posted) -> Posted:
    async with asyncio.timeout(FORM_OPENS_WITHIN):
        (reply,) = await ana.fills_form(label, values, on=on)
    return reply


@pytest.fixture
async def judges(slack: SlackBot, world: dict[str, int]) -> int:
    """A-1, the Ministry of Justice's, due a week after the clock's Monday."""
    async with slack.sessions() as session, session.begin():
        made = await actions.create_action(session, ActionData(
            "Train 300 judges on the Istanbul Protocol", "MOJ", recommendations=(world["mine"],), target_date=date(2026, 11, 30),
        ), actor="cli:mary", now=slack.clock.now)
    return made.id


async def test_an_action_is_updated_in_one_form_from_actions(slack: SlackBot, judges: int) -> None:
    ana = SlackPerson(slack.standin, ANA)
    header, summary = await ana.says("actions", expect=2)
    assert header.shown.startswith("Ministry of Justice: 1 action of the plan.") and summary.shown.startswith("A-1: Train 300 judges")
    saved = await _fills(ana, "Give an update", {
        "status": "partially implemented", "done": "120 judges trained in Montevideo.", "next_step": "Courses in Salto", "next_date": "2027-03-31",
    }, on=summary)
    form = slack.standin.views[-1]
    # Titled and headed with the action, not with a recommendation's number.
    assert form["title"]["text"] == "A-1: Train 300 judges o…"
    assert form["blocks"][0]["text"]["text"] == "A-1: Train 300 judges on the Istanbul Protocol"
    assert [b["block_id"] for b in form["blocks"][1:]] == ["status", "done", "next_step", "next_date"]
    assert saved.shown.startswith("Saved: A-1 is “partially implemented”.") and "Courses in Salto, by 31 March 2027" in saved.shown
    async with slack.sessions() as session:
        (update,) = await actions.history(session, judges)
    assert (update.status, update.narrative, update.next_step, update.next_step_due_on, update.channel) == (
        S.PARTIALLY_IMPLEMENTED, "120 judges trained in Montevideo.", "Courses in Salto", date(2027, 3, 31), Channel.SLACK,
    )
    # No change is still one click, on the same message.
    (noted,) = await ana.clicks("No change", on=summary)
    assert noted.shown.startswith("Noted: no change on A-1. It stays “partially implemented”")
    async with slack.sessions() as session:
        assert [u.status for u in await actions.history(session, judges)] == [S.PARTIALLY_IMPLEMENTED, S.PARTIALLY_IMPLEMENTED]


async def test_the_reminders_update_button_opens_the_form_and_a_form_without_a_status_is_refused(slack: SlackBot, judges: int) -> None:
    await ReminderService(slack.sessions, Policy(), slack.clock).tick()
    async with slack.sessions() as session:
        [row] = (await session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("actions:%")))).all()
    ana = SlackPerson(slack.standin, ANA)
    before = len(ana.inbox)
    await slack.transport.send(ChatAddress(Platform.SLACK, ANA, slack.standin.dm_channel(ANA), slack.standin.team_id), OutgoingMessage.from_dict(row.message))
    (reminder,) = (await slack.standin.wait_for_messages(ANA, before + 1))[before:]
    saved = await _fills(ana, "A-1: update", {"status": "fully implemented", "done": "All 300 trained."}, on=reminder)
    assert saved.shown.startswith("Saved: A-1 is “fully implemented”.")
    async with slack.sessions() as session:
        (update,) = await actions.history(session, judges)
    assert (update.status, update.narrative, update.next_step) == (S.FULLY_IMPLEMENTED, "All 300 trained.", None)

    # A form whose status never came (a client that let it through): refused, naming the action, nothing saved.
    opened = len(slack.standin.views)
    slack.standin.user_clicks(ANA, reminder, "A-1: update")
    async with asyncio.timeout(FORM_OPENS_WITHIN):
        while len(slack.standin.views) == opened:
            await asyncio.sleep(0.01)
    view = slack.standin.views[-1]
    before = len(ana.inbox)
    slack.standin.user_fills(ANA, {**view, "blocks": [b for b in view["blocks"] if b.get("block_id") != "status"]}, {"done": "Nothing"})
    (refused,) = (await slack.standin.wait_for_messages(ANA, before + 1))[before:]
    assert refused.shown == "Please choose the status of A-1 in the form."
    async with slack.sessions() as session:
        assert len(await actions.history(session, judges)) == 1
