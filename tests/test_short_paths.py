"""The short paths of issue 13, on the fake platform: one tap for "no change",
each institution's own status, an update in one message, Slack's one form."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import item_lists
from handlers.chat_port import MAX_ACTION_BYTES, ChatAddress, IncomingMessage
from handlers.engine import ConversationEngine
from handlers.update_text import is_skip, read_update
from storage.assignments import assign
from storage.conversations import link_identity
from storage.enums import AssignmentRole, EvidenceKind, FocalPointRole, ImplementationStatus as S, Platform
from storage.models import StatusUpdate
from storage.network import FocalPointData, add_focal_point
from storage.selection import Selector
from storage.status import history
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.factories import answered_before
from tests.fakes import FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

ana = Person("111")
olga = Person("222")


@pytest.fixture
async def shared(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> int:
    """#mine is the Ministry of Justice's and, as a contributor, the Ministry of Women's (Olga)."""
    async with sessions() as session, session.begin():
        olga_fp = await add_focal_point(session, FocalPointData("Olga Núñez", "MOW", FocalPointRole.TECHNICAL, "en", "America/Montevideo", date(2025, 1, 1), "olga@mujeres.example"))
        await link_identity(session, olga_fp.id, Platform.TELEGRAM, "", "222", "222")
        await assign(session, "MOW", Selector(ids=(world["mine"],)), role=AssignmentRole.CONTRIBUTING)
    return world["mine"]


async def test_no_change_repeats_ones_own_institutions_status_never_anothers(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], shared: int,
) -> None:
    # The Ministry of Justice says "partially implemented".
    assert await chat(bot, gateway, ana.presses(f"upd:{shared}"), tap("partially implemented"), ana.says("Law adopted.")) == [
        "update.ask_status", "update.ask_done", "update.saved",
    ]
    # The Ministry of Women never answered: its "no change" has nothing of its own to repeat.
    assert await chat(bot, gateway, olga.presses(f"same:{shared}")) == ["update.ask_first_status"]
    assert await chat(bot, gateway, tap("in progress", olga)) == ["update.saved"]
    await bot.handle(olga.presses(f"same:{shared}"))
    (noted,) = gateway.take()
    assert noted.key == "update.no_change_saved" and "“in progress”" in noted.text
    async with sessions() as session:
        updates = await history(session, shared)
    by_institution = [(u.institution_id, u.status, u.narrative) for u in updates]
    moj, mow = updates[0].institution_id, updates[1].institution_id
    assert moj != mow
    assert by_institution == [
        (moj, S.PARTIALLY_IMPLEMENTED, "Law adopted."),
        (mow, S.IN_PROGRESS, None),
        (mow, S.IN_PROGRESS, None),
    ]
    # The repeat carries the institution's own input forward: what was done and its evidence.
    await bot.handle(ana.presses(f"same:{shared}"))
    async with sessions() as session:
        last = (await history(session, shared))[-1]
    assert (last.institution_id, last.status, last.narrative) == (moj, S.PARTIALLY_IMPLEMENTED, "Law adopted.")


async def test_no_change_on_all_of_these_stores_each_and_asks_for_the_unanswered(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    one, two, three = world["mine_all"]
    await answered_before(sessions, "MOJ", one, three, status=S.FULLY_IMPLEMENTED)
    # Someone else's recommendation slipped into the list: skipped, not stored.
    payload = "nca:" + item_lists.encode([one, two, three, world["not_mine"]])
    await bot.handle(ana.presses(payload))
    noted, ask = gateway.take()
    assert noted.key == "update.no_change_all_saved" and noted.text == f"Noted: no change on #{one}, #{three}."
    assert [b.label for row in noted.buttons for b in row] == [f"Correct #{one}", f"Correct #{three}"]
    assert ask.key == "update.no_change_first" and f"#{two}" in ask.text
    assert [b.action for row in ask.buttons for b in row] == [f"upd:{two}"]
    async with sessions() as session:
        stored = list((await session.execute(select(StatusUpdate.recommendation_id, StatusUpdate.status).where(StatusUpdate.author_focal_point_id == world["ana"]))).all())
    assert sorted(stored) == sorted([(one, S.FULLY_IMPLEMENTED), (three, S.FULLY_IMPLEMENTED)])
    # Pressed again (a redelivery of the same press): nothing more.
    again = IncomingMessage(ana.address, "nca-twice", action=payload)
    await bot.handle(again)
    gateway.take()
    await bot.handle(again)
    assert gateway.take() == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate).where(StatusUpdate.author_focal_point_id == world["ana"])) == 4


@pytest.mark.parametrize("word", ["skip", "Passer", "omitir."])
async def test_skip_typed_in_any_language_works_where_the_button_does(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], word: str,
) -> None:
    assert await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), tap("in progress"), ana.says(word)) == [
        "update.ask_status", "update.ask_done", "update.saved",
    ]
    async with sessions() as session:
        (update,) = await history(session, world["mine"])
    assert (update.status, update.narrative) == (S.IN_PROGRESS, None)


async def test_a_bad_date_in_the_one_message_saves_the_rest_and_asks_the_date_again_with_skip(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    rec = world["mine"]
    await chat(bot, gateway, ana.presses(f"upd:{rec}"), tap("in progress"))
    await bot.handle(ana.says("Bill drafted.\nNext: send it to Parliament, 2027-02-30"))
    saved, again = gateway.take()
    assert saved.key == "update.saved" and not saved.buttons
    assert again.key == "update.bad_date" and [b.label for row in again.buttons for b in row] == ["Skip", "Cancel"]
    await bot.handle(ana.says("soon"))
    (still,) = gateway.take()
    assert still.key == "update.bad_date" and "Skip" in [b.label for row in still.buttons for b in row]
    assert await chat(bot, gateway, ana.says("2027-03-01")) == ["update.saved"]
    async with sessions() as session:
        first, dated = await history(session, rec)
    assert (first.next_step, first.next_step_due_on) == ("send it to Parliament, 2027-02-30", None)
    assert (dated.narrative, dated.next_step_due_on, dated.corrects_id) == ("Bill drafted.", date(2027, 3, 1), first.id)


async def test_the_saved_message_leaves_out_what_was_not_given(
    bot: ConversationEngine, gateway: FakeGateway, world: dict[str, int],
) -> None:
    await chat(bot, gateway, ana.presses(f"upd:{world['mine']}"), tap("in progress"))
    await bot.handle(tap("Skip")(gateway))
    (saved,) = gateway.take()
    assert saved.text == f"Saved: #{world['mine']} is “in progress”. Thank you: the secretariat can see it now."
    assert "none" not in saved.text


async def test_slacks_form_saves_every_field_at_once(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    from storage.models import ChatIdentity

    async with sessions() as session, session.begin():
        identity = await session.scalar(select(ChatIdentity).where(ChatIdentity.platform_user_id == "111"))
        assert identity is not None
        await link_identity(session, world["ana"], Platform.SLACK, "T0GOV", "U0ANA", "D0ANA")
    slack = ChatAddress(Platform.SLACK, "U0ANA", "D0ANA", "T0GOV")
    form = {"status": "partially_implemented", "done": "Decree 12/2026 signed.", "links": "https://impo.com.uy/d12\nhttps://gub.uy/x",
            "next_step": "Budget line", "next_date": "2027-06-30"}
    await bot.handle(IncomingMessage(slack, "view:V1", action=f"upd:{world['mine']}", form=form))
    (saved,) = gateway.take()
    assert saved.key == "update.saved" and "30 June 2027" in saved.text
    async with sessions() as session:
        (update,) = await history(session, world["mine"])
    assert (update.status, update.narrative, update.next_step, update.next_step_due_on) == (
        S.PARTIALLY_IMPLEMENTED, "Decree 12/2026 signed.", "Budget line", date(2027, 6, 30),
    )
    assert [(e.kind, e.url) for e in update.evidence] == [(EvidenceKind.LINK, "https://impo.com.uy/d12"), (EvidenceKind.LINK, "https://gub.uy/x")]
    # A form for someone else's recommendation, or without a status, stores nothing.
    await bot.handle(IncomingMessage(slack, "view:V2", action=f"upd:{world['not_mine']}", form=form))
    await bot.handle(IncomingMessage(slack, "view:V3", action=f"upd:{world['mine']}", form={"done": "x"}))
    assert [m.key for m in gateway.take()] == ["recommendation.not_yours", "update.form_no_status"]


def test_one_message_is_read_as_what_was_done_links_and_next_step() -> None:
    read = read_update("Plan adopted, see https://gub.uy/plan.\nPróximo paso: extenderlo a 7 departamentos, 2027-03-31")
    assert read.narrative == "Plan adopted, see https://gub.uy/plan."
    assert read.links == ("https://gub.uy/plan",)
    assert (read.next_step, read.next_date, read.bad_date) == ("extenderlo a 7 departamentos, 2027-03-31", date(2027, 3, 31), None)
    french = read_update("Décret signé.\nProchaine étape : budget")
    assert (french.narrative, french.next_step, french.next_date) == ("Décret signé.", "budget", None)
    plain = read_update("Next week we meet.")
    assert (plain.narrative, plain.next_step) == ("Next week we meet.", None)
    assert is_skip("OMITIR") and is_skip("passer") and not is_skip("skip this one")


@pytest.mark.parametrize("ids", [[1], [5, 3, 4], [1204, 1205, 1311], [267_499, 3, 150_000], list(range(100_000, 100_010))])
def test_many_ids_fit_one_button_and_read_back(ids: list[int]) -> None:
    encoded = item_lists.encode(ids)
    assert item_lists.decode(encoded) == sorted(set(ids))
    assert len(("nca:" + encoded).encode()) <= MAX_ACTION_BYTES


@pytest.mark.parametrize("garbled", ["", "x..y", "5.0", "5.-1", "zz!"])
def test_a_garbled_id_list_is_refused(garbled: str) -> None:
    assert item_lists.decode(garbled) is None


async def test_another_institutions_later_answer_does_not_take_away_ones_correction(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], shared: int,
) -> None:
    await chat(bot, gateway, ana.presses(f"upd:{shared}"), tap("in progress"), ana.says("Bill drafted."))
    fix = gateway.action("Correct")
    await chat(bot, gateway, olga.presses(f"upd:{shared}"), tap("fully implemented", olga), olga.says("Our part is done."))
    assert await chat(bot, gateway, ana.presses(fix)) == ["update.ask_correction"]
    assert await chat(bot, gateway, tap("partially implemented"), ana.says("Bill passed by the Senate.")) == ["update.ask_done", "update.saved"]
    async with sessions() as session:
        updates = await history(session, shared)
    assert [(u.status, u.corrects_id) for u in updates] == [
        (S.IN_PROGRESS, None), (S.FULLY_IMPLEMENTED, None), (S.PARTIALLY_IMPLEMENTED, updates[0].id),
    ]


async def test_a_file_over_the_limit_is_refused_when_sent_and_the_update_still_waits(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: object, world: dict[str, int],
) -> None:
    from handlers.evidence import MB, EvidenceSettings

    small = ConversationEngine(sessions, gateway, clock, evidence=EvidenceSettings(limit_bytes=2 * MB))  # type: ignore[arg-type]
    await chat(small, gateway, ana.presses(f"upd:{world['mine']}"), tap("in progress"))
    assert await chat(small, gateway, ana.sends_file("scan.tiff", "image/tiff", 3 * MB)) == ["evidence.too_large"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StatusUpdate)) == 0
    assert await chat(small, gateway, ana.sends_file("scan.pdf", "application/pdf", MB)) == ["update.saved"]
    async with sessions() as session:
        (update,) = await history(session, world["mine"])
    assert [(e.kind, e.file_name) for e in update.evidence] == [(EvidenceKind.FILE, "scan.pdf")]


def test_a_list_too_long_for_a_button_names_its_message_instead() -> None:
    spread = [1_000 + 90_000 * n for n in range(14)]
    assert item_lists.no_change_all_action([3, 4, 5], "digest:reminder:7:2026-11-30") == "nca:3.1.1"
    action = item_lists.no_change_all_action(spread, "digest:reminder:7:2026-11-30")
    assert action == "nco:digest:reminder:7:2026-11-30" and len(action.encode()) <= MAX_ACTION_BYTES
    assert item_lists.no_change_all_action(spread, "k" * 70) is None


async def test_no_change_on_all_of_a_long_message_reads_its_items_from_the_outbox(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    from storage import outbox
    from storage.enums import OutboxKind

    one, two, three = world["mine_all"]
    await answered_before(sessions, "MOJ", one, three)
    key = f"digest:reminder:{world['ana']}:2026-11-30"
    buttons = [[{"label": f"#{r}", "action": f"rec:{r}"}, {"label": f"#{r}: no change", "action": f"same:{r}"}] for r in (one, two, three)]
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, outbox.NewMessage(
            key=key, kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM, workspace_id="", platform_user_id="111", chat_id="111",
            timezone="UTC", message={"key": "reminder.digest", "text": "Reminder", "language": "en", "buttons": buttons},
            due_at=datetime(2026, 11, 30, 12, tzinfo=timezone.utc), focal_point_id=world["ana"],
        ))
    await bot.handle(ana.presses(f"nco:{key}"))
    noted, ask = gateway.take()
    assert noted.text == f"Noted: no change on #{one}, #{three}." and ask.key == "update.no_change_first" and f"#{two}" in ask.text
    # A message that does not exist, or another person's, answers nothing.
    assert await chat(bot, gateway, ana.presses("nco:digest:reminder:999:2026-11-30")) == ["recommendation.not_yours"]


async def test_evidence_added_after_saving_is_kept_as_it_arrives_even_without_done(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: object, world: dict[str, int],
) -> None:
    rec = world["mine"]
    await chat(bot, gateway, ana.presses(f"upd:{rec}"), tap("in progress"), ana.says("Bill drafted."), tap("Add evidence"))
    assert await chat(bot, gateway, ana.sends_file("scan.pdf", "application/pdf", 1000)) == ["update.evidence_received"]
    assert await chat(bot, gateway, ana.says("https://gub.uy/bill")) == ["update.evidence_received"]
    clock.advance(hours=2)  # type: ignore[attr-defined]
    await chat(bot, gateway, ana.says("hello"))
    async with sessions() as session:
        updates = await history(session, rec)
    assert [(e.kind, e.url or e.file_name) for e in updates[-1].evidence] == [(EvidenceKind.FILE, "scan.pdf"), (EvidenceKind.LINK, "https://gub.uy/bill")]
    assert all(u.narrative == "Bill drafted." for u in updates)


async def test_a_correction_keeps_what_it_is_not_given_again(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    rec = world["mine"]
    await chat(bot, gateway, ana.presses(f"upd:{rec}"), tap("in progress"), ana.says("Bill drafted, https://gub.uy/bill\nNext: the vote, 2027-03-15"))
    await chat(bot, gateway, tap("Correct"), tap("partially implemented"), tap("Skip"))
    async with sessions() as session:
        first, corrected = await history(session, rec)
    assert corrected.corrects_id == first.id and corrected.status is S.PARTIALLY_IMPLEMENTED
    assert (corrected.narrative, corrected.next_step, corrected.next_step_due_on) == (first.narrative, first.next_step, date(2027, 3, 15))
    assert [e.url for e in corrected.evidence] == ["https://gub.uy/bill"]


async def test_skipping_an_addition_stores_nothing_new(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    rec = world["mine"]
    await chat(bot, gateway, ana.presses(f"upd:{rec}"), tap("in progress"), ana.says("Bill drafted."))
    assert await chat(bot, gateway, tap("Add a next step"), tap("Skip")) == ["update.ask_next_step", "update.saved"]
    await chat(bot, gateway, ana.presses(f"upd:{rec}"), tap("in progress"), ana.says("Vote.\nNext: promulgation, 2027-02-30"))
    assert await chat(bot, gateway, tap("Skip")) == ["update.saved"]
    async with sessions() as session:
        assert len(await history(session, rec)) == 2


def test_a_word_that_only_begins_like_next_is_what_was_done() -> None:
    read = read_update("Next-generation ID cards were issued to 3,000 women.")
    assert (read.narrative, read.next_step) == ("Next-generation ID cards were issued to 3,000 women.", None)
    assert read_update("Suite: la loi a été votée.").next_step is None


async def test_slacks_links_field_keeps_what_is_typed_in_it(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        await link_identity(session, world["ana"], Platform.SLACK, "T0GOV", "U0ANA", "D0ANA")
    slack = ChatAddress(Platform.SLACK, "U0ANA", "D0ANA", "T0GOV")
    form = {"status": "in_progress", "done": "Decree drafted.", "links": "www.impo.com.uy/ley\nsee the annex we mailed"}
    await bot.handle(IncomingMessage(slack, "view:V9", action=f"upd:{world['mine']}", form=form))
    async with sessions() as session:
        (update,) = await history(session, world["mine"])
    assert [e.url for e in update.evidence] == ["https://www.impo.com.uy/ley"]
    assert update.narrative == "Decree drafted.\nsee the annex we mailed"


def test_a_malformed_form_submission_is_read_as_no_field_not_a_crash() -> None:
    from bot.transports.slack_blocks import form_values

    state = {"status": {"status": {"type": "static_select", "selected_option": "x"}}, "done": "nope",
             "links": {"links": {"type": "plain_text_input", "value": "https://a.example"}}}
    assert form_values(state) == {"links": "https://a.example"}  # type: ignore[arg-type]


async def test_a_contributors_list_reads_its_own_answers(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], shared: int,
) -> None:
    # The lead (MOJ) says fully implemented; the Ministry of Women has not answered.
    await chat(bot, gateway, ana.presses(f"upd:{shared}"), tap("fully implemented"), tap("Skip"))
    await bot.handle(olga.says("/mine"))
    listed = [m for m in gateway.take() if m.key == "recommendation.summary" and m.text.startswith(f"#{shared} ")]
    assert len(listed) == 1 and "fully implemented overall; your institution: no answer yet" in listed[0].text
    # Its "not started" filter shows what it has not answered, as its reminders do.
    await bot.handle(olga.presses("f:s:not_started"))
    shown = [m.text for m in gateway.take() if m.key == "recommendation.summary"]
    assert any(text.startswith(f"#{shared} ") for text in shown)


async def test_the_export_lists_every_institutions_files_not_only_the_lead_ones(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], shared: int,
) -> None:
    from storage.report_rows import ReportScope, stream_report_rows

    # The contributor (MOW) sends a file; the lead (MOJ) answers after, without one.
    await chat(bot, gateway, olga.presses(f"upd:{shared}"), tap("in progress", olga), olga.sends_file("mow-plan.pdf", "application/pdf", 900))
    await chat(bot, gateway, ana.presses(f"upd:{shared}"), tap("partially implemented"), ana.says("Law adopted."))
    async with sessions() as session:
        rows = [r async for r in stream_report_rows(session, ReportScope())]
    (row,) = [r for r in rows if r["id"] == shared]
    assert row["status"] == "partially_implemented"
    assert [f.file_name for f in row["evidence_files"]] == ["mow-plan.pdf"]
