"""Conversations through the engine, on a fake platform: they read like the chat."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import IncomingMessage
from handlers.engine import ConversationEngine
from storage.assignments import assign
from storage.conversations import create_invite, link_identity
from storage.enums import Channel, EvidenceKind, FocalPointRole, ImplementationStatus as S, Platform
from storage.models import ChatIdentity, ConversationState, FocalPoint, Recommendation, StatusUpdate
from storage.network import FocalPointData, add_focal_point
from storage.selection import Selector
from storage.status import history
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.factories import answered_before
from tests.fakes import FakeClock, FakeGateway, Person


# The fixtures imported above, so that the linter sees them used.
__all__ = ["bot", "clock", "gateway"]

ana = Person("111")


async def test_a_full_update(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    rec = world["mine"]
    assert await chat(bot, gateway, ana.says("/mine")) == ["mine.header"] + ["recommendation.summary"] * 3
    assert await chat(bot, gateway, ana.presses(f"upd:{rec}")) == ["update.ask_status"]
    assert await chat(bot, gateway, tap("partially implemented")) == ["update.ask_done"]
    # One message: what was done, a link, and the next step with its date. Saved at once.
    await bot.handle(ana.says(
        "Law 19.580 on gender-based violence adopted in December 2017, see https://www.impo.com.uy/bases/leyes/19580-2017\n"
        "Next: regulatory decree, 2027-03-31"
    ))
    (saved,) = gateway.take()
    assert saved.key == "update.saved" and "31 March 2027" in saved.text and "impo.com.uy" in saved.text
    # Evidence added afterwards: a file, then Done.
    assert await chat(bot, gateway, tap("Add evidence")) == ["update.ask_more_evidence"]
    assert await chat(bot, gateway, ana.sends_file("informe-2026.pdf", "application/pdf", 48213)) == ["update.evidence_received"]
    await bot.handle(tap("Done")(gateway))
    (again,) = gateway.take()
    assert again.key == "update.saved" and "informe-2026.pdf" in again.text

    async with sessions() as session:
        first, amended = await history(session, rec)
    for update in (first, amended):
        assert update.status is S.PARTIALLY_IMPLEMENTED
        assert update.narrative == "Law 19.580 on gender-based violence adopted in December 2017, see https://www.impo.com.uy/bases/leyes/19580-2017"
        assert (update.next_step, update.next_step_due_on) == ("regulatory decree, 2027-03-31", date(2027, 3, 31))
        assert (update.author_focal_point_id, update.channel, update.author_label) == (world["ana"], Channel.TELEGRAM, "Ana Pérez")
    # History keeps both: the addition is a new update correcting the first.
    assert amended.corrects_id == first.id
    assert [(e.kind, e.url or e.file_name) for e in first.evidence] == [(EvidenceKind.LINK, "https://www.impo.com.uy/bases/leyes/19580-2017")]
    assert [(e.kind, e.url or e.file_name, e.size_bytes) for e in amended.evidence] == [
        (EvidenceKind.LINK, "https://www.impo.com.uy/bases/leyes/19580-2017", None),
        (EvidenceKind.FILE, "informe-2026.pdf", 48213),
    ]


async def test_skip_everything_but_the_status(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    rec = world["mine"]
    keys = await chat(bot, gateway, ana.presses(f"upd:{rec}"), tap("in progress"), tap("Skip"))
    assert keys == ["update.ask_status", "update.ask_done", "update.saved"]
    async with sessions() as session:
        (update,) = await history(session, rec)
    assert (update.status, update.narrative, update.evidence) == (S.IN_PROGRESS, None, [])


@pytest.mark.parametrize("steps", [1, 2])
async def test_cancel_at_any_step_saves_nothing(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], steps: int) -> None:
    flow = [ana.presses(f"upd:{world['mine']}"), tap("in progress")][:steps]
    await chat(bot, gateway, *flow)
    cancel = ana.says("/cancel") if steps % 2 else tap("Cancel")
    assert await chat(bot, gateway, cancel) == ["update.cancelled"]
    assert await chat(bot, gateway, ana.presses("save")) == ["stale.old"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 0


async def test_no_change_is_one_tap_once_the_institution_has_answered(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    assert await chat(bot, gateway, ana.presses(f"rec:{world['mine']}")) == ["recommendation.detail"]
    # Never answered: there is nothing to repeat, so the status is asked, and saved at once.
    assert await chat(bot, gateway, ana.presses(f"same:{world['mine']}")) == ["update.ask_first_status"]
    assert await chat(bot, gateway, tap("in progress")) == ["update.saved"]
    await bot.handle(ana.presses(f"same:{world['mine']}"))
    (noted,) = gateway.take()
    assert noted.key == "update.no_change_saved" and "in progress" in noted.text
    async with sessions() as session:
        first, repeated = await history(session, world["mine"])
    assert first.status is repeated.status is S.IN_PROGRESS
    assert repeated.institution_id == first.institution_id and repeated.corrects_id is None


async def test_only_ones_own_institutions_recommendations(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    for action in (f"upd:{world['not_mine']}", f"same:{world['not_mine']}", f"rec:{world['not_mine']}", "upd:999999"):
        assert await chat(bot, gateway, ana.presses(action)) == ["recommendation.not_yours"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 0


async def test_a_restart_mid_conversation_resumes(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, world: dict[str, int]) -> None:
    first = ConversationEngine(sessions, gateway, clock)
    await chat(first, gateway, ana.presses(f"upd:{world['mine']}"), tap("fully implemented"))
    restarted = ConversationEngine(sessions, gateway, clock)
    assert await chat(restarted, gateway, ana.says("Done in 2026.")) == ["update.saved"]


async def test_a_redelivered_message_is_handled_once(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), tap("in progress"))
    answer = ana.says("Bill sent to Parliament.", delivery_id="update-77")
    assert await chat(bot, gateway, answer) == ["update.saved"]
    assert await chat(bot, gateway, answer) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 1


async def test_an_answer_after_the_timeout_is_told_why_it_is_not_taken(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), tap("in progress"))
    clock.advance(hours=2)
    await bot.handle(ana.says("What was done, two hours later"))
    (reply,) = gateway.take()
    assert reply.key == "update.timed_out" and f"#{world['mine']}" in reply.text
    assert await chat(bot, gateway, ana.presses("save")) == ["stale.old"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 0


async def test_abandoned_dialogues_are_closed_politely_once(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, world: dict[str, int]) -> None:
    bot = ConversationEngine(sessions, gateway, clock, timeout=timedelta(minutes=20))
    other_process = ConversationEngine(sessions, gateway, clock, timeout=timedelta(minutes=20))
    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), tap("in progress"))
    clock.advance(minutes=19)
    assert await bot.expire_abandoned() == 0
    clock.advance(minutes=2)
    assert await bot.expire_abandoned() == 1
    assert await other_process.expire_abandoned() == 0
    ((address, note),) = gateway.sent
    assert (address.user_id, address.chat_id, note.key) == ("111", "111", "update.timed_out")
    gateway.take()
    # Someone out of reach (blocked the bot) does not stop the sweep.
    from handlers.chat_port import RecipientUnreachable

    class Blocked(FakeGateway):
        async def send(self, address, message):  # type: ignore[no-untyped-def]
            raise RecipientUnreachable(address, "Forbidden: bot was blocked by the user")

    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"))
    clock.advance(minutes=30)
    assert await ConversationEngine(sessions, Blocked(), clock, timeout=timedelta(minutes=20)).expire_abandoned() == 0
    gateway.take()
    # Closed, so the next answer starts afresh rather than resuming.
    assert await chat(bot, gateway, ana.presses("skip")) == ["stale.old"]


async def test_mine_filters_by_status_mechanism_cluster_and_deadline(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    from storage.clusters import add_cluster, put_in_cluster
    from storage.deadlines import DeadlineData, add_deadline
    from storage.enums import DeadlineKind

    ids = world["mine_all"]
    async with sessions() as session, session.begin():
        await add_cluster(session, "Justice")
        await put_in_cluster(session, "Justice", Selector(ids=(ids[1],)))
        deadline = await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2027, 1, 15), "Inputs for the mid-term report"), Selector(ids=(ids[2],)))
        wordy = await add_deadline(
            session, DeadlineData(DeadlineKind.INFORMATION_REQUEST, date(2027, 2, 1), "Budget allocated in 2026 to each of these recommendations, by programme"), Selector(ids=(ids[2],))
        )
    await chat(bot, gateway, ana.presses(f"same:{ids[0]}"), tap("not started"))
    await chat(bot, gateway, ana.presses(f"upd:{ids[0]}"), tap("in progress"), tap("Skip"))

    await chat(bot, gateway, ana.says("/mine"))
    await bot.handle(ana.presses("filter"))
    (menu,) = gateway.take()
    actions = [b.action for row in menu.buttons for b in row]
    assert "f:s:in_progress" in actions and f"f:d:{deadline.id}" in actions and "f:all" in actions
    assert any(a.startswith("f:m:") for a in actions) and any(a.startswith("f:c:") for a in actions)
    labels = [b.label for row in menu.buttons for b in row]
    assert "Inputs for the mid-term report (15 January 2027)" in labels
    # A long name is cut so that its date still shows within Slack's 75 characters.
    (long,) = [b.label for row in menu.buttons for b in row if b.action == f"f:d:{wordy.id}"]
    assert long == "Budget allocated in 2026 to each of these recom… (1 February 2027)" and len(long) <= 75

    async def listed(action: str) -> list[str]:
        await bot.handle(ana.presses(action))
        return [m.text.split(":")[0] for m in gateway.take() if m.key == "recommendation.summary"]

    assert await listed("f:s:in_progress") == [f"#{ids[0]} UPR"]
    assert await listed("f:all") == [f"#{i} UPR" for i in ids]
    cluster_action = next(a for a in actions if a.startswith("f:c:"))
    assert await listed(cluster_action) == [f"#{ids[1]} UPR"]
    assert await listed(f"f:d:{deadline.id}") == []  # cluster AND deadline: none
    await listed("f:all")
    assert await listed(f"f:d:{deadline.id}") == [f"#{ids[2]} UPR"]
    await bot.handle(ana.presses("f:s:fully_implemented"))
    (nothing,) = gateway.take()
    assert nothing.key == "mine.none_match"


async def test_paging_keeps_the_filter(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    from handlers.browse import PAGE_SIZE

    async with sessions() as session, session.begin():
        rest = list((await session.scalars(select(Recommendation.id).where(Recommendation.id.not_in(world["mine_all"])))).all())
        await assign(session, "MOJ", Selector(ids=tuple(rest)), replace_lead=True)
    assert len(world["mine_all"]) + len(rest) == PAGE_SIZE + 1
    await bot.handle(ana.says("/mine"))
    replies = gateway.take()
    assert replies[0].text.endswith("Page 1 of 2.") and len(replies) == 1 + PAGE_SIZE
    assert [b.action for b in replies[-1].buttons[-1]] == ["mine:2"]
    await bot.handle(ana.presses("f:s:not_started"))
    await bot.handle(ana.presses("mine:2"))
    page_two = gateway.take()[-2:]
    assert page_two[0].key == "mine.header_filtered" and page_two[0].text.endswith("Page 2 of 2.")


async def test_the_last_update_can_be_corrected_for_24_hours_and_history_keeps_both(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    rec = world["mine"]
    await chat(bot, gateway, ana.presses(f"upd:{rec}"), tap("fully implemented"))
    await bot.handle(tap("Skip")(gateway))
    (saved,) = gateway.take()
    fix = saved.buttons[0][-1].action
    assert fix.startswith("fix:")
    clock.advance(hours=23)
    assert await chat(bot, gateway, ana.presses(fix)) == ["update.ask_correction"]
    assert await chat(bot, gateway, tap("partially implemented"), ana.says("Only the law; the decree is pending.")) == [
        "update.ask_done", "update.saved",
    ]
    async with sessions() as session:
        first, correction = await history(session, rec)
    assert (first.status, correction.status, correction.corrects_id) == (S.FULLY_IMPLEMENTED, S.PARTIALLY_IMPLEMENTED, first.id)
    # The detail view offers the correction only while it is possible.
    await bot.handle(ana.presses(f"rec:{rec}"))
    assert "fix:" in [b.action[:4] for b in gateway.take()[0].buttons[0]][-1]
    clock.advance(hours=25)
    await bot.handle(ana.presses(f"rec:{rec}"))
    assert [b.action[:4] for b in gateway.take()[0].buttons[0]] == ["upd:", "same"]
    assert await chat(bot, gateway, ana.presses(f"fix:{correction.id}")) == ["update.correct_window_over"]
    # An older update is never correctable, even within the window.
    assert await chat(bot, gateway, ana.presses(f"fix:{first.id}")) == ["update.correct_window_over"]


async def test_someone_elses_update_cannot_be_corrected(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        bruno = await add_focal_point(session, FocalPointData("Bruno Silva", "MOJ", FocalPointRole.SENIOR, "en", "UTC", date(2025, 1, 1), "bruno@justicia.example"))
        await link_identity(session, bruno.id, Platform.TELEGRAM, "", "444", "444")
    bruno_taps = Person("444")
    assert await chat(bot, gateway, bruno_taps.presses(f"same:{world['mine']}"), tap("in progress", bruno_taps)) == ["update.ask_first_status", "update.saved"]
    async with sessions() as session:
        (update,) = await history(session, world["mine"])
    assert await chat(bot, gateway, ana.presses(f"fix:{update.id}")) == ["update.correct_window_over"]


async def test_a_slack_member_is_matched_by_workspace_email(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    from handlers.chat_port import ChatAddress

    address = ChatAddress(Platform.SLACK, "U0ANA", "D0ANA", "T0GOV")
    await bot.handle(IncomingMessage(address, "Ev1", text="hello", email="ANA@justicia.example"))
    assert [m.key for m in gateway.take()] == ["onboarding.welcome"]
    await bot.handle(IncomingMessage(address, "Ev2", text="/mine"))
    assert [m.key for m in gateway.take()][0] == "mine.header"
    stranger = ChatAddress(Platform.SLACK, "U0EVE", "D0EVE", "T0GOV")
    await bot.handle(IncomingMessage(stranger, "Ev3", text="hello", email="eve@elsewhere.example"))
    assert [m.key for m in gateway.take()] == ["refuse.unknown_user"]


async def test_strangers_are_refused_and_nothing_is_kept(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    stranger = Person("999")
    assert await chat(bot, gateway, stranger.says("/mine"), stranger.says("hello"), stranger.presses(f"upd:{world['mine']}")) == ["refuse.unknown_user"] * 3
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationState).where(ConversationState.platform_user_id == "999")) == 0
        assert await session.scalar(select(func.count()).select_from(ChatIdentity).where(ChatIdentity.platform_user_id == "999")) == 0


async def test_onboarding_by_invite_code_once_and_in_the_persons_language(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        claire = await add_focal_point(session, FocalPointData("Claire Martin", "MOW", FocalPointRole.SENIOR, "fr", "Europe/Paris", date(2025, 1, 1), "claire@femmes.example"))
        code = await create_invite(session, claire.id, clock())
        late = await create_invite(session, claire.id, clock() - timedelta(days=15))
    newcomer, thief = Person("222"), Person("333")
    await bot.handle(newcomer.says(f"/start {code}"))
    (welcome,) = gateway.take()
    assert welcome.key == "onboarding.welcome"
    assert welcome.text == "Bienvenue, Claire Martin. Vous êtes point focal principal pour Ministry of Women. Envoyez /mine pour voir vos recommandations."
    assert await chat(bot, gateway, thief.says(f"/start {code}"), thief.says(f"/start {late}")) == ["onboarding.bad_code"] * 2
    assert await chat(bot, gateway, newcomer.says("/mine")) == ["mine.header"] + ["recommendation.summary"] * 3


async def test_language_is_chosen_per_person(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    await bot.handle(ana.says("/language"))
    (picker,) = gateway.take()
    assert [b.action for row in picker.buttons for b in row] == ["lang:en", "lang:fr", "lang:es", "lang:ar", "lang:zh", "lang:ru", "lang:pt"]
    await bot.handle(ana.presses("lang:es"))
    assert gateway.take()[0].text == "A partir de ahora le escribiré en español."
    await bot.handle(ana.presses(f"upd:{world['mine']}"))
    (question,) = gateway.take()
    assert question.text == f"¿Cuál es ahora el estado de la recomendación n.º {world['mine']}?"
    assert [b.label for row in question.buttons for b in row][:2] == ["no iniciada", "en curso"]
    async with sessions() as session:
        assert (await session.get(FocalPoint, world["ana"])).language == "es"  # type: ignore[union-attr]


async def test_long_answers_and_markup_are_kept_verbatim(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    long_answer = ("The ministry trained 1,200 police officers. " * 120)[:5000]
    tricky = "<b>bold</b> *bold* `code` &amp; =HYPERLINK(\"http://evil.example\",\"x\")"
    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), tap("in progress"), ana.says(long_answer))
    await chat(bot, gateway, tap("Add a next step"), ana.says(tricky), tap("Skip"))
    async with sessions() as session:
        _, update = await history(session, world["mine"])
    assert update.narrative == long_answer.strip() and len(long_answer) == 5000
    assert update.next_step == tricky


async def test_a_replaced_focal_point_is_refused(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    from storage.network import end_focal_point

    async with sessions() as session, session.begin():
        await end_focal_point(session, "ana@justicia.example", clock().date() - timedelta(days=1))
    assert await chat(bot, gateway, ana.says("/mine")) == ["refuse.unknown_user"]


@pytest.mark.parametrize("outage", ["locked", "refused"])
async def test_a_busy_database_is_retried_and_a_dead_one_defers_the_delivery(outage: str, sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, world: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A locked SQLite, or a PostgreSQL whose port refuses connections (asyncpg
    raises the socket's ConnectionRefusedError unwrapped): retried; still out
    of reach, the delivery is left for the platform to deliver again, the
    person is told once that it waits, and it is answered when it comes back."""
    from sqlalchemy.exc import OperationalError

    import handlers.engine as engine_module
    from handlers.chat_port import HandlingDeferred

    real = engine_module.first_delivery
    failures = {"left": 2}

    async def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            if outage == "locked":
                raise OperationalError("INSERT", {}, Exception("database is locked"))
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        return await real(*args, **kwargs)

    await answered_before(sessions, "MOJ", world["mine"], world["mine_all"][1])
    monkeypatch.setattr(engine_module, "first_delivery", flaky)
    bot = ConversationEngine(sessions, gateway, clock, db_attempts=3)
    assert await chat(bot, gateway, ana.presses(f"same:{world['mine']}")) == ["update.no_change_saved"]
    failures["left"] = 6
    waiting = ana.presses(f"same:{world['mine_all'][1]}")
    with pytest.raises(HandlingDeferred):
        await bot.handle(waiting)
    assert [m.key for m in gateway.take()] == ["error.deferred"]
    with pytest.raises(HandlingDeferred):
        await bot.handle(waiting)  # delivered again, still down: not told twice
    assert gateway.take() == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 2 + 1
    # Back: the same delivery, delivered again, is answered once.
    assert await chat(bot, gateway, waiting) == ["update.no_change_saved"]
    assert await chat(bot, gateway, waiting) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 2 + 2


async def test_a_fault_in_the_work_itself_is_not_taken_for_an_outage(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, world: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    import handlers.engine as engine_module

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyError("a bug")

    monkeypatch.setattr(engine_module, "first_delivery", broken)
    bot = ConversationEngine(sessions, gateway, clock, db_attempts=3)
    await bot.handle(ana.says("/help"))
    assert [m.key for m in gateway.take()] == ["error.internal"]


async def test_delivery_records_are_forgotten_once_no_redelivery_can_come(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    from storage.models import ProcessedDelivery

    await chat(bot, gateway, ana.says("/help", delivery_id="old"))
    clock.advance(days=6)
    await chat(bot, gateway, ana.says("/help", delivery_id="recent"))
    assert await bot.forget_old_deliveries() == 0
    clock.advance(days=2)
    assert await bot.forget_old_deliveries() == 1
    async with sessions() as session:
        assert list((await session.scalars(select(ProcessedDelivery.delivery_id))).all()) == ["recent"]


async def test_snooze_pauses_and_withdraws_planned_reminders(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    from storage import outbox
    from storage.enums import OutboxKind, OutboxStatus
    from storage.models import OutboxMessage

    async with sessions() as session, session.begin():
        await outbox.enqueue(session, outbox.NewMessage(
            key="reminder:focal_point:1:2026-11-24", kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM, workspace_id="",
            platform_user_id="111", chat_id="111", timezone="America/Montevideo", message={"key": "x", "text": "x"},
            due_at=clock() + timedelta(days=1), focal_point_id=world["ana"],
        ))
    await bot.handle(ana.says("/snooze 2026-12-15"))
    (reply,) = gateway.take()
    assert reply.key == "snooze.set" and "15 December 2026" in reply.text
    async with sessions() as session:
        assert (await session.get(FocalPoint, world["ana"])).snoozed_until == date(2026, 12, 15)  # type: ignore[union-attr]
        assert await session.scalar(select(OutboxMessage.status)) is OutboxStatus.CANCELLED
    assert await chat(bot, gateway, ana.says("/snooze next week"), ana.says("/snooze 2020-01-01"), ana.says("/snooze 2031-01-01")) == ["snooze.usage"] * 3
    assert await chat(bot, gateway, ana.says("/snooze off")) == ["snooze.off"]
    # The digest's button: seven days, today included (local day in Montevideo).
    assert await chat(bot, gateway, ana.presses("snooze:7")) == ["snooze.set"]
    async with sessions() as session:
        assert (await session.get(FocalPoint, world["ana"])).snoozed_until == date(2026, 11, 29)  # type: ignore[union-attr]


async def test_writing_again_makes_an_unreachable_person_reachable(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        identity = await session.scalar(select(ChatIdentity).where(ChatIdentity.platform_user_id == "111"))
        identity.unreachable_since, identity.unreachable_reason = clock(), "Forbidden: bot was blocked by the user"  # type: ignore[union-attr]
    await chat(bot, gateway, ana.says("/help"))
    async with sessions() as session:
        identity = await session.scalar(select(ChatIdentity).where(ChatIdentity.platform_user_id == "111"))
    assert identity is not None and identity.unreachable_since is None and identity.unreachable_reason is None


async def test_the_senior_focal_point_validates_or_returns_the_institutions_input(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    from storage.enums import ValidationDecision
    from storage.models import Validation

    async with sessions() as session, session.begin():
        bruno = await add_focal_point(session, FocalPointData("Bruno Silva", "MOJ", FocalPointRole.SENIOR, "en", "UTC", date(2025, 1, 1), "bruno@justicia.example"))
        await link_identity(session, bruno.id, Platform.TELEGRAM, "", "444", "444")
    senior = Person("444")
    assert await chat(bot, gateway, ana.says("/validate")) == ["validate.not_validator"]
    assert await chat(bot, gateway, senior.says("/validate")) == ["validate.none"]
    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), tap("in progress"), ana.says("Bill drafted."))
    await bot.handle(senior.says("/validate"))
    header, item = gateway.take()
    assert header.key == "validate.header" and "Bill drafted." in item.text
    approve = item.buttons[0][0].action
    approval = senior.presses(approve, delivery_id="val-1")
    assert await chat(bot, gateway, approval) == ["validate.approved"]
    assert await chat(bot, gateway, approval) == []  # redelivered: nothing more
    assert await chat(bot, gateway, senior.presses(approve)) == ["validate.stale"]
    assert await chat(bot, gateway, senior.says("/validate")) == ["validate.none"]
    # A new input needs a new look; this one goes back with a comment.
    clock.advance(hours=1)
    await chat(bot, gateway, ana.presses(f"same:{world['mine']}"))
    await bot.handle(senior.says("/validate"))
    _, item = gateway.take()
    assert await chat(bot, gateway, senior.presses(item.buttons[0][1].action)) == ["validate.ask_comment"]
    assert await chat(bot, gateway, senior.says("Say which law: the number is missing.")) == ["validate.returned"]
    async with sessions() as session:
        decisions = [(v.decision, v.comment, v.validator_label) for v in await session.scalars(select(Validation).order_by(Validation.id))]
    assert decisions == [
        (ValidationDecision.APPROVED, None, "Bruno Silva"),
        (ValidationDecision.RETURNED, "Say which law: the number is missing.", "Bruno Silva"),
    ]
    # Someone else's institution's input cannot be validated, even by a senior.
    assert await chat(bot, gateway, senior.presses("val:ok:999999")) == ["validate.stale"]


async def test_the_secretariat_asks_for_summaries_in_chat_and_focal_points_cannot(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    from handlers.chat_port import ChatAddress
    from storage.secretariat import SecretariatUserData, seed_secretariat_users

    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [
            SecretariatUserData("María González", "maria@cancilleria.example", "es", "America/Montevideo", telegram_user_id=900, slack_user_id="U0MARIA"),
        ])
    await chat(bot, gateway, ana.presses(f"same:{world['mine']}"), tap("not started"))
    maria = Person("900")
    await bot.handle(maria.says("/progress"))
    (progress,) = gateway.take()
    assert progress.key == "secretariat.progress" and progress.text.startswith("Avance por institución, al 23 de noviembre de 2026:")
    assert "• MOJ: 33 % actualizadas (plenamente implementadas: 0; parcialmente: 0; en curso: 0; sin iniciar: 3)" in progress.text
    assert await chat(bot, gateway, maria.says("/missing"), maria.says("/overdue"), maria.says("hola")) == ["secretariat.missing", "secretariat.overdue", "secretariat.help"]
    # On Slack, the configured member id has no workspace yet: the first message claims it.
    slack = ChatAddress(Platform.SLACK, "U0MARIA", "D0MARIA", "T0GOV")
    await bot.handle(IncomingMessage(slack, "Ev1", text="/progress cluster"))
    (by_cluster,) = gateway.take()
    assert by_cluster.text.startswith("Avance por grupo temático")
    async with sessions() as session:
        identity = await session.scalar(select(ChatIdentity).where(ChatIdentity.platform == Platform.SLACK))
    assert identity is not None and identity.workspace_id == "T0GOV"
    # A focal point asking for the secretariat's summaries is refused.
    assert await chat(bot, gateway, ana.says("/progress"), ana.says("/overdue")) == ["secretariat.only"] * 2


async def test_a_focal_point_sets_their_own_working_hours_and_planned_messages_follow(bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, world: dict[str, int]) -> None:
    from datetime import datetime, timezone

    from storage import outbox
    from storage.enums import OutboxKind
    from storage.models import OutboxMessage

    # Planned for tomorrow 09:00 in Montevideo (12:00 UTC), before she set her hours.
    tomorrow = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, outbox.NewMessage(
            key="digest:focal_point:1:2026-11-24", kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM, workspace_id="", platform_user_id="111",
            chat_id="111", timezone="America/Montevideo", message={"key": "x", "text": "x"}, due_at=tomorrow,
            not_after=datetime(2026, 11, 24, 20, tzinfo=timezone.utc), focal_point_id=world["ana"],
        ))
    await bot.handle(ana.says("/hours"))
    (shown,) = gateway.take()
    assert shown.key == "hours.show" and "09:00-17:00 (America/Montevideo)" in shown.text
    assert await chat(bot, gateway, ana.says("/hours 17:00-09:00"), ana.says("/hours soon")) == ["hours.usage"] * 2
    await bot.handle(ana.says("/hours 10:30-15:00"))
    (done,) = gateway.take()
    assert done.key == "hours.set" and "10:30-15:00" in done.text
    async with sessions() as session:
        fp = await session.get(FocalPoint, world["ana"])
        row = await session.scalar(select(OutboxMessage))
    assert fp is not None and fp.working_hours == "10:30-15:00"
    assert row is not None and (row.due_at, row.not_after, row.working_hours) == (
        datetime(2026, 11, 24, 13, 30, tzinfo=timezone.utc), datetime(2026, 11, 24, 18, tzinfo=timezone.utc), "10:30-15:00",
    )
    assert await chat(bot, gateway, ana.says("/hours default")) == ["hours.default"]
    async with sessions() as session:
        fp = await session.get(FocalPoint, world["ana"])
    assert fp is not None and fp.working_hours is None
