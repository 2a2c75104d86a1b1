"""Buttons pressed out of turn: each acts only on the item and the step it was
sent for, and an old one is refused with a message naming its item."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.engine import ConversationEngine
from storage.models import ConversationState, StatusUpdate
from tests.dialogue_harness import bot, clock, gateway
from tests.fakes import FakeClock, FakeGateway, Person

# The fixtures imported above, so that the linter sees them used.
__all__ = ["bot", "clock", "gateway"]

ana = Person("111")


def action(message: OutgoingMessage, label: str) -> str:
    """What pressing ``label`` on ``message`` sends: only buttons the bot sent can be pressed."""
    found = [b.action for row in message.buttons for b in row if b.label == label]
    assert found, f"{message.key} has no button {label!r}: {[b.label for row in message.buttons for b in row]}"
    return found[0]


async def reply(bot: ConversationEngine, gateway: FakeGateway, message: object) -> OutgoingMessage:
    await bot.handle(message)  # type: ignore[arg-type]
    (said,) = gateway.take()
    return said


async def replies(bot: ConversationEngine, gateway: FakeGateway, message: object) -> list[OutgoingMessage]:
    await bot.handle(message)  # type: ignore[arg-type]
    return gateway.take()


async def finish(bot: ConversationEngine, gateway: FakeGateway, question: OutgoingMessage) -> OutgoingMessage:
    """Skip the remaining steps from ``question`` on: the update is saved."""
    while question.key != "update.saved":
        question = await reply(bot, gateway, ana.presses(action(question, "Skip")))
    return question


async def saved(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[int, str]]:
    async with sessions() as session:
        rows = await session.execute(select(StatusUpdate.recommendation_id, StatusUpdate.status).order_by(StatusUpdate.id))
        return [(rec, status.value) for rec, status in rows]


async def state(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, int | None]:
    async with sessions() as session:
        row = await session.scalar(select(ConversationState).where(ConversationState.platform_user_id == "111"))
    assert row is not None
    return row.state, (row.data or {}).get("rec")


async def test_a_status_button_for_2_pressed_while_1_is_open_is_refused_naming_both(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    """The examiners' case: the question about #2, then /cancel, then an update of #1."""
    one, two = world["mine_all"][0], world["mine_all"][1]
    asked_two = await reply(bot, gateway, ana.presses(f"upd:{two}"))
    assert asked_two.key == "update.ask_status"
    await reply(bot, gateway, ana.says("/cancel"))
    asked_one = await reply(bot, gateway, ana.presses(f"upd:{one}"))
    refused = await reply(bot, gateway, ana.presses(action(asked_two, "fully implemented")))
    assert refused.key == "stale.other"
    assert refused.text == f"That button was for #{two}; you are updating #{one}. Finish or /cancel it first."
    assert await state(sessions) == ("update.status", one)
    # #1's own question still answers, and the update is #1's with #1's status.
    done = await reply(bot, gateway, ana.presses(action(asked_one, "in progress")))
    assert done.key == "update.ask_done"
    await finish(bot, gateway, done)
    assert await saved(sessions) == [(one, "in_progress")]


async def test_a_button_from_another_step_of_the_same_update_is_refused(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    one = world["mine"]
    status = await reply(bot, gateway, ana.presses(f"upd:{one}"))
    done = await reply(bot, gateway, ana.presses(action(status, "partially implemented")))
    assert done.key == "update.ask_done"
    # The status question again, now that what was done is asked: not a new status.
    refused = await reply(bot, gateway, ana.presses(action(status, "fully implemented")))
    assert refused.key == "stale.step" and f"#{one}" in refused.text
    assert await state(sessions) == ("update.done", one)
    first = await reply(bot, gateway, ana.says("Law 19.580 adopted."))
    assert first.key == "update.saved" and "partially implemented" in first.text and "Law 19.580 adopted." in first.text
    next_step = await reply(bot, gateway, ana.presses(action(first, "Add a next step")))
    next_date = await reply(bot, gateway, ana.says("The decree"))
    assert next_date.key == "update.ask_next_date"
    # Skip on "next step?", pressed at "by when?": it skips nothing here.
    assert (await reply(bot, gateway, ana.presses(action(next_step, "Skip")))).key == "stale.step"
    assert await state(sessions) == ("update.next_date", one)
    # Skip of the ended "what was done?": that conversation is over.
    assert (await replies(bot, gateway, ana.presses(action(done, "Skip"))))[0].key == "stale.other"
    await reply(bot, gateway, ana.presses(action(next_date, "Skip")))
    assert await saved(sessions) == [(one, "partially_implemented")] * 2


async def test_a_button_of_an_ended_update_acts_on_nothing_and_opens_its_item(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    one = world["mine"]
    first = await reply(bot, gateway, ana.presses(f"upd:{one}"))
    old_done = await reply(bot, gateway, ana.presses(action(first, "not started")))
    assert (await finish(bot, gateway, old_done)).key == "update.saved"
    # Nothing is open: the old Skip says so, names #1 and shows it, with its own buttons.
    closed, detail = await replies(bot, gateway, ana.presses(action(old_done, "Skip")))
    assert closed.key == "stale.closed" and closed.text.startswith(f"That button was for #{one}, and that conversation is over")
    assert detail.key == "recommendation.detail" and detail.text.startswith(f"Recommendation #{one} ")
    # A new update of the same item: the old conversation's buttons do not answer it.
    second = await reply(bot, gateway, ana.presses(action(detail, "Give an update")))
    refused = await reply(bot, gateway, ana.presses(action(first, "fully implemented")))
    assert refused.key == "stale.other"
    done = await reply(bot, gateway, ana.presses(action(second, "in progress")))
    assert (await reply(bot, gateway, ana.presses(action(old_done, "Skip")))).key == "stale.other"
    assert (await reply(bot, gateway, ana.presses(action(old_done, "Cancel")))).key == "stale.other"
    assert await state(sessions) == ("update.done", one)
    await reply(bot, gateway, ana.presses(action(done, "Skip")))
    assert await saved(sessions) == [(one, "not_started"), (one, "in_progress")]


async def test_a_button_of_an_expired_update_says_it_timed_out(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]
) -> None:
    one = world["mine"]
    status = await reply(bot, gateway, ana.presses(f"upd:{one}"))
    clock.advance(hours=2)
    timed_out, detail = await replies(bot, gateway, ana.presses(action(status, "in progress")))
    assert timed_out.key == "update.timed_out" and f"#{one}" in timed_out.text
    assert detail.key == "recommendation.detail"
    assert await saved(sessions) == []
    assert (await state(sessions))[0] == "idle"


async def test_buttons_that_open_something_do_not_drop_the_open_update(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    one, two = world["mine_all"][0], world["mine_all"][1]
    await reply(bot, gateway, ana.presses(f"same:{two}"))
    await _answer_status(bot, gateway, "not started", "update.ask_first_status")
    async with sessions() as session:
        last = await session.scalar(select(StatusUpdate.id))
    listing = await replies(bot, gateway, ana.says("/mine"))
    await bot.handle(ana.presses(action(listing[0], "Filter")))
    (menu,) = gateway.take()
    await reply(bot, gateway, ana.presses(f"upd:{one}"))
    expected = f"That button was for #{two}; you are updating #{one}. Finish or /cancel it first."
    for pressed in (action(listing[2], "Give an update"), f"same:{two}", f"fix:{last}", f"upd:{two}:1"):
        refused = await reply(bot, gateway, ana.presses(pressed))
        assert (refused.key, refused.text) == ("stale.other", expected), pressed
    for pressed in (action(menu, "in progress"), action(menu, "Show all"), action(menu, "Cancel"), action(listing[0], "Filter"), "mine:2"):
        refused = await reply(bot, gateway, ana.presses(pressed))
        assert refused.text == f"That button was for a list of recommendations; you are updating #{one}. Finish or /cancel it first.", pressed
    assert await state(sessions) == ("update.status", one)
    assert await saved(sessions) == [(two, "not_started")]
    # Once it is finished, the same buttons work again.
    await finish(bot, gateway, await _answer_status(bot, gateway, "in progress"))
    assert (await reply(bot, gateway, ana.presses(action(menu, "Cancel")))).key == "update.cancelled"
    assert (await reply(bot, gateway, ana.presses(f"same:{two}"))).key == "update.no_change_saved"


async def _answer_status(bot: ConversationEngine, gateway: FakeGateway, label: str, key: str = "update.ask_status") -> OutgoingMessage:
    """Press ``label`` on the latest status question."""
    question = next(m for _, m in reversed(gateway.history) if m.key == key)
    return await reply(bot, gateway, ana.presses(action(question, label)))


@pytest.mark.parametrize("old", ["st:fully_implemented", "skip", "done", "save", "cancel", "save|u1.c.zz", "bc:send"])
async def test_buttons_sent_by_the_previous_version_are_stale_and_change_nothing(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], old: str
) -> None:
    """Before buttons named their step, "save" or "st:…" said nothing of which
    item: such buttons are still in people's chats."""
    one = world["mine"]
    idle = await reply(bot, gateway, ana.presses(old))
    assert (idle.key, idle.text) == ("stale.old", "That button is from an older message and no longer works; nothing was done.")
    status = await reply(bot, gateway, ana.presses(f"upd:{one}"))
    await reply(bot, gateway, ana.presses(action(status, "in progress")))
    busy = await reply(bot, gateway, ana.presses(old))
    assert busy.key == "stale.old_busy" and f"Right now you are updating #{one}: answer my last message, or send /cancel." in busy.text
    assert await state(sessions) == ("update.done", one)
    assert await saved(sessions) == []


async def test_a_button_of_one_dialogue_does_not_answer_another_kind(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    """Bruno, the senior focal point, returns Ana's input with a comment; a
    status button he was sent earlier is not taken as his comment's answer."""
    from datetime import date

    from storage.conversations import link_identity
    from storage.enums import FocalPointRole, Platform
    from storage.network import FocalPointData, add_focal_point

    one = world["mine"]
    async with sessions() as session, session.begin():
        bruno_fp = await add_focal_point(session, FocalPointData("Bruno Silva", "MOJ", FocalPointRole.SENIOR, "en", "UTC", date(2025, 1, 1), "bruno@justicia.example"))
        await link_identity(session, bruno_fp.id, Platform.TELEGRAM, "", "444", "444")
    bruno = Person("444")
    his_status = await reply(bot, gateway, bruno.presses(f"upd:{one}"))
    await reply(bot, gateway, bruno.says("/cancel"))
    await reply(bot, gateway, ana.presses(f"same:{one}"))
    await _answer_status(bot, gateway, "in progress", "update.ask_first_status")
    header, item = await replies(bot, gateway, bruno.says("/validate"))
    comment = await reply(bot, gateway, bruno.presses(action(item, "Return with a comment")))
    assert comment.key == "validate.ask_comment"
    refused = await reply(bot, gateway, bruno.presses(action(his_status, "fully implemented")))
    assert refused.text == f"That button was for #{one}; you are writing a comment on the input on #{one}. Finish or /cancel it first."
    # Another Return pressed meanwhile would drop the comment being written: refused too.
    assert (await reply(bot, gateway, bruno.presses(action(item, "Return with a comment")))).key == "stale.other"
    assert (await reply(bot, gateway, bruno.says("Say which law."))).key == "validate.returned"
    # Its Cancel, once the comment is sent, cancels nothing.
    assert (await reply(bot, gateway, bruno.presses(action(comment, "Cancel")))).key == "stale.closed"


async def test_an_update_answers_the_request_only_when_opened_from_it(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]
) -> None:
    from datetime import timedelta

    from storage.models import RequestAnswer
    from storage.requests import Target, create_request

    one, two = world["mine_all"][0], world["mine_all"][1]
    async with sessions() as session, session.begin():
        request, _ = await create_request(
            session, "What was done?", clock().date() + timedelta(days=14), Target("recommendations", (str(one), str(two))),
            created_by="test", today=clock().date(),
        )
    listing = await replies(bot, gateway, ana.says("/mine"))
    pick = await reply(bot, gateway, ana.presses(f"req:{request.id}"))
    assert pick.key == "request.pick" and action(pick, f"#{one}") == f"upd:{one}:{request.id}"
    # "Give an update" from the older /mine list: an update, but no answer to the request.
    await reply(bot, gateway, ana.presses(action(listing[2], "Give an update")))
    await finish(bot, gateway, await _answer_status(bot, gateway, "in progress"))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RequestAnswer)) == 0
    await reply(bot, gateway, ana.presses(action(pick, f"#{one}")))
    await finish(bot, gateway, await _answer_status(bot, gateway, "fully implemented"))
    async with sessions() as session:
        answers = (await session.scalars(select(RequestAnswer))).all()
    assert [(a.request_id, a.status_update_id is not None) for a in answers] == [(request.id, True)]
    assert await saved(sessions) == [(two, "in_progress"), (one, "fully_implemented")]


async def test_a_send_button_of_a_cancelled_draft_does_not_send_the_next_one(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    from storage.models import InformationRequest
    from storage.secretariat import SecretariatUserData, seed_secretariat_users

    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
    mary = Person("900")

    async def draft(text: str) -> OutgoingMessage:
        await replies(bot, gateway, mary.says("/request"))
        due = await reply(bot, gateway, mary.says(text))
        target = await reply(bot, gateway, mary.presses(action(due, "In 7 days")))
        # The Ministry of Women has nobody to ask: said first, then the confirmation.
        return (await replies(bot, gateway, mary.presses(action(target, "Everyone"))))[-1]

    first = await draft("First question")
    assert first.key == "compose.confirm"
    await reply(bot, gateway, mary.says("/cancel"))
    second = await draft("Second question")
    refused = await reply(bot, gateway, mary.presses(action(first, "Send")))
    assert refused.text == "That button was for an earlier draft of a request; you are writing a request. Finish or /cancel it first."
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InformationRequest)) == 0
    assert (await reply(bot, gateway, mary.presses(action(second, "Send")))).key == "compose.sent"
    # Sent: its buttons, and the cancelled draft's, are for nothing open.
    assert [(await reply(bot, gateway, mary.presses(action(m, "Send")))).key for m in (first, second)] == ["compose.stale"] * 2
    async with sessions() as session:
        assert list((await session.scalars(select(InformationRequest.text))).all()) == ["Second question"]


@pytest.mark.parametrize(("language", "expected"), [
    ("fr", "Ce bouton concernait la n° {two} ; vous mettez à jour la n° {one}. Terminez, ou envoyez /cancel, d'abord."),
    ("es", "Ese botón era para la n.º {two}; está actualizando la n.º {one}. Termine o envíe /cancel antes."),
])
async def test_the_refusal_is_in_the_readers_language(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], language: str, expected: str
) -> None:
    one, two = world["mine_all"][0], world["mine_all"][1]
    await reply(bot, gateway, ana.presses(f"lang:{language}"))
    asked_two = await reply(bot, gateway, ana.presses(f"upd:{two}"))
    await reply(bot, gateway, ana.says("/cancel"))
    await reply(bot, gateway, ana.presses(f"upd:{one}"))
    refused = await reply(bot, gateway, ana.presses(asked_two.buttons[0][0].action))
    assert refused.text == expected.format(one=one, two=two)


def test_every_bound_button_fits_telegrams_64_bytes_with_large_ids() -> None:
    from handlers.buttons import STEPS, bind, conversation_token, read
    from handlers.chat_port import MAX_ACTION_BYTES, Button
    from storage.conversations import State

    longest = ("st:partially_implemented", "due:28", "to:recommendations", "bc:send", "cancel")
    for name in STEPS:
        state = State(name, {"rec": 2**31 - 1, "request": 2**31 - 1, "conversation": conversation_token("a-very-long-slack-trigger-id.1234567890.abcdef")})
        for inner in longest:
            payload = bind(inner, state)
            assert len(Button("x", payload).action.encode()) <= MAX_ACTION_BYTES
            pressed = read(payload)
            assert pressed.action == inner and pressed.place is not None and pressed.place.step == STEPS[name]


async def test_an_old_messages_button_over_the_telegram_stand_in(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    """The real adapter, over HTTP: Ana presses a status button on the question
    about #2, sent before she began updating #1."""
    from tests.chat_harness import ASSIGNED, TelegramPerson, live_telegram

    one, two = world["mine_all"][0], world["mine_all"][1]
    async with live_telegram(sessions, FakeClock(), users=[111]) as telegram:
        person = TelegramPerson(telegram.standin, 111)
        items = (await person.says("/mine", expect=1 + ASSIGNED))[1:]
        (question_two,) = await person.presses("Give an update", on=items[1])
        await person.says("/cancel")
        (question_one,) = await person.presses("Give an update", on=items[0])
        (refused,) = await person.presses("fully implemented", on=question_two)
        assert refused.text == f"That button was for #{two}; you are updating #{one}. Finish or /cancel it first."
        (done,) = await person.presses("in progress", on=question_one)
        assert done.text.startswith("What was done")
        # Every press was answered, the refused one too: no spinner is left.
        assert len(telegram.standin.answered_callbacks) == 4
    assert await state(sessions) == ("update.done", one)
    assert await saved(sessions) == []
