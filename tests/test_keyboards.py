"""Keyboards follow the conversation: once a step's button is pressed, the
message it sits on shows the choice and has no buttons left to press; buttons
that open an item (a list's, a reminder's) stay usable. Through the real
adapters against both stand-ins, and at the seam with the fake gateway."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import PressedMessage
from handlers.engine import ConversationEngine
from handlers.reminders.working_time import WorkingTime
from storage import outbox
from storage.enums import OutboxKind, Platform
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from tests.chat_harness import ASSIGNED, LiveTelegram, TelegramPerson, live_telegram
from tests.dialogue_harness import bot, clock, gateway
from tests.fakes import FakeClock, FakeGateway, Person
from tests.slack_harness import ANA, SlackBot, SlackPerson, running_slack_bot

__all__ = ["bot", "clock", "gateway"]

NOW = datetime(2026, 11, 23, 13, tzinfo=timezone.utc)


@pytest.fixture
async def telegram(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[LiveTelegram]:
    async with live_telegram(sessions, FakeClock(NOW), (111,)) as live:
        yield live


@pytest.fixture
async def slack(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    async with running_slack_bot(sessions, "socket") as running:
        yield running


def labels(markup: dict | None) -> list[str]:  # type: ignore[type-arg]
    return [b["text"] for row in (markup or {}).get("inline_keyboard", []) for b in row]


# --- Telegram -------------------------------------------------------------------------


async def test_telegram_a_status_pick_shows_the_choice_and_drops_its_buttons(telegram: LiveTelegram) -> None:
    ana = TelegramPerson(telegram.standin, 111)
    items = (await ana.says("/mine", expect=1 + ASSIGNED))[1:]
    kept = labels(items[0].reply_markup)
    (question,) = await ana.presses("Give an update", on=items[0])
    asked = question.text
    pressed = question.button("partially implemented")
    (next_question,) = await ana.presses("partially implemented", on=question)
    # The status question now reads as answered, with nothing left to press.
    assert question.text == f"{asked}\n\nYour answer: partially implemented"
    assert question.reply_markup is None and len(question.edits) == 1
    assert "editmessagetext" in telegram.standin.calls
    with pytest.raises(AssertionError, match="has no button"):
        telegram.standin.user_presses(111, question, pressed)
    # The list's item, which opened the update, keeps its buttons; the next question has its own.
    assert labels(items[0].reply_markup) == kept and not items[0].edits
    assert next_question.reply_markup is not None and not next_question.edits


async def test_telegram_a_reminders_item_buttons_stay_usable(telegram: LiveTelegram, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    one, two = world["mine_all"][0], world["mine_all"][1]
    rows = [[{"label": f"#{rec}", "action": f"rec:{rec}"}, {"label": f"No change on #{rec}", "action": f"same:{rec}"}] for rec in (one, two)]
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, outbox.NewMessage(
            key="reminder:keyboards", kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM, workspace_id="", platform_user_id="111",
            chat_id="111", timezone="America/Montevideo", due_at=NOW,
            message={"key": "reminder.digest", "text": "Two recommendations wait for your update.", "language": "en", "buttons": rows},
        ))
    await telegram.dispatcher(sessions, FakeClock(NOW), lambda tz: WorkingTime(tz)).drain()
    ana = TelegramPerson(telegram.standin, 111)
    (reminder,) = ana.inbox
    shown = labels(reminder.reply_markup)
    (detail,) = await ana.presses(f"#{two}", on=reminder)
    assert detail.text.startswith(f"Recommendation #{two} ")
    # Noted, or (the institution never answered #1) its status asked: either way a new message.
    (answer,) = await ana.presses(f"No change on #{one}", on=reminder)
    assert answer.message_id != reminder.message_id
    # Opening an item or a one-tap "no change" chooses no step: the reminder is as it came.
    assert labels(reminder.reply_markup) == shown and reminder.text == "Two recommendations wait for your update." and not reminder.edits
    assert not any(call.startswith("editmessage") for call in telegram.standin.calls)


async def test_telegram_a_failed_edit_loses_no_reply(telegram: LiveTelegram, caplog: pytest.LogCaptureFixture) -> None:
    ana = TelegramPerson(telegram.standin, 111)
    items = (await ana.says("/mine", expect=1 + ASSIGNED))[1:]
    (question,) = await ana.presses("Give an update", on=items[0])
    telegram.standin.fail("editMessageText", "Bad Request: message to edit not found")
    with caplog.at_level(logging.DEBUG, logger="bot.transports.telegram"):
        (next_question,) = await ana.presses("fully implemented", on=question)
    assert next_question.text.startswith("What was done")
    # Telegram refused the edit: the question is as it was, and the turn went on.
    assert question.reply_markup is not None and not question.edits
    assert any("not edited: message to edit not found" in r.getMessage().lower() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# --- Slack --------------------------------------------------------------------------


async def test_slack_a_skip_shows_the_choice_and_drops_its_buttons(slack: SlackBot) -> None:
    ana = SlackPerson(slack.standin, ANA)
    items = (await ana.says("mine", expect=1 + ASSIGNED))[1:]
    (saved,) = await ana.fills_form("Give an update", {"status": "in progress", "done": "Protocol adopted."}, on=items[0])
    kept = list(saved.buttons)
    (question,) = await ana.clicks("Add a next step", on=saved)
    asked = question.shown
    assert {"Skip", "Cancel"} <= set(question.buttons)
    await ana.clicks("Skip", on=question)
    assert question.shown == f"{asked}\nYour answer: Skip"
    assert question.buttons == {} and len(question.edits) == 1 and "chat.update" in slack.standin.calls
    with pytest.raises(AssertionError, match="no button 'Skip'"):
        slack.standin.user_clicks(ANA, question, "Skip")
    # The saved update's buttons open something: they stay.
    assert list(saved.buttons) == kept and not saved.edits
    assert list(items[0].buttons) and not items[0].edits


async def test_slack_a_failed_update_loses_no_reply(slack: SlackBot, caplog: pytest.LogCaptureFixture) -> None:
    ana = SlackPerson(slack.standin, ANA)
    items = (await ana.says("mine", expect=1 + ASSIGNED))[1:]
    (saved,) = await ana.fills_form("Give an update", {"status": "in progress"}, on=items[0])
    (question,) = await ana.clicks("Add a next step", on=saved)
    slack.standin.refuse("chat.update", "message_not_found")
    with caplog.at_level(logging.DEBUG, logger="bot.transports.slack"):
        (reply,) = await ana.clicks("Skip", on=question)
    assert reply.shown.startswith("Saved")
    assert "Skip" in question.buttons and not question.edits
    assert any("not updated: message_not_found" in r.getMessage() for r in caplog.records)


# --- at the seam ------------------------------------------------------------------------


async def test_only_a_step_button_taken_by_its_question_settles_its_message(
    bot: ConversationEngine, gateway: FakeGateway, world: dict[str, int]
) -> None:
    ana = Person("111")
    one = world["mine"]
    opened = PressedMessage("111", "7", "Give an update", f"Recommendation #{one}")
    await bot.handle(ana.presses(f"upd:{one}", on=opened))
    (question,) = gateway.take()
    assert gateway.settled == []
    status = next(b.action for row in question.buttons for b in row if b.label == "partially implemented")
    asked = PressedMessage("111", "8", "partially implemented", question.text)
    await bot.handle(ana.presses(status, on=asked))
    assert [(p, choice) for _, p, choice in gateway.settled] == [(asked, "Your answer: partially implemented")]
    # The same status button again, now out of turn: refused, and it chose nothing.
    await bot.handle(ana.presses(status, on=asked))
    assert gateway.take()[-1].key == "stale.step" and len(gateway.settled) == 1


async def test_a_gateway_whose_settle_fails_still_gets_the_reply(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]
) -> None:
    class Broken(FakeGateway):
        async def settle(self, address: object, pressed: object, choice: str) -> None:
            raise ConnectionResetError("gone")

    gateway = Broken()
    engine = ConversationEngine(sessions, gateway, clock)
    ana = Person("111")
    await engine.handle(ana.presses(f"upd:{world['mine']}"))
    (question,) = gateway.take()
    status = next(b.action for row in question.buttons for b in row if b.label == "not started")
    await engine.handle(ana.presses(status, on=PressedMessage("111", "9", "not started", question.text)))
    assert [m.key for m in gateway.take()] == ["update.ask_done"]


async def test_the_secretariats_compose_steps_settle_in_her_language(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [
            SecretariatUserData("María González", "maria@cancilleria.example", "es", "America/Montevideo", telegram_user_id=900),
        ])
    maria = Person("900")
    await bot.handle(maria.says("/request"))
    await bot.handle(maria.says("¿Qué se hizo en 2026?"))
    (due,) = gateway.take()[-1:]
    (in_14,) = [b for b in due.buttons[0] if b.action.startswith("due:14|")]
    on = PressedMessage("900", "4", in_14.label, due.text)
    await bot.handle(maria.presses(in_14.action, on=on))
    assert gateway.take()[0].key == "compose.ask_target"
    assert [(p, choice) for _, p, choice in gateway.settled] == [(on, f"Su respuesta: {in_14.label}")]
