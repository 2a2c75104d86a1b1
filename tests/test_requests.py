"""Information requests: sent from the command line, delivered in each
person's language through the Telegram stand-in, answered in chat, tracked."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.standins.telegram import TelegramStandIn
from bot.transports.retry import RetryPolicy
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage.conversations import link_identity
from storage.enums import FocalPointRole, InstitutionKind, Platform
from storage.models import RequestAnswer, StatusUpdate
from storage.network import FocalPointData, InstitutionData, add_focal_point, add_institution
from tests.chat_harness import TelegramPerson, live_telegram
from tests.factories import answered_before
from tests.fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    # Monday 23 November 2026, 13:00 UTC: inside working hours in Montevideo and Paris.
    return FakeClock(datetime(2026, 11, 23, 13, tzinfo=timezone.utc))


@pytest.fixture
def cli(clock: FakeClock) -> Callable[..., Awaitable[str]]:
    """The real command line, in a thread (it runs a loop of its own), on the test's clock."""

    async def run(*args: str) -> str:
        def call() -> str:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                try:
                    main(list(args), clock=clock)
                except SystemExit as exc:
                    assert not exc.code, exc.code
            return out.getvalue()

        return await asyncio.to_thread(call)

    return run


@pytest.fixture
async def network(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FakeClock) -> AsyncIterator[dict[str, object]]:
    """Ana (MOJ, English) and Claire (MOW, French) on Telegram; nobody yet at a third ministry."""
    async with sessions() as session, session.begin():
        claire = await add_focal_point(session, FocalPointData("Claire Martin", "MOW", FocalPointRole.TECHNICAL, "fr", "Europe/Paris", date(2025, 1, 1), "claire@femmes.example"))
        await link_identity(session, claire.id, Platform.TELEGRAM, "", "222", "222")
        await add_institution(session, InstitutionData("MOE", "Ministry of Education", InstitutionKind.MINISTRY))
        await add_focal_point(session, FocalPointData("Diego Ruiz", "MOE", FocalPointRole.TECHNICAL, "es", "America/Montevideo", date(2025, 1, 1), "diego@educacion.example"))
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    async with live_telegram(sessions, clock, (111, 222), retry=RetryPolicy(first_backoff=0.05)) as bot:
        yield {"standin": bot.standin, "dispatcher": bot.dispatcher(sessions, clock, Policy().working_time), "clock": clock}


async def test_a_request_naming_recommendations_is_answered_with_updates(cli: Callable[..., Awaitable[str]], network: dict[str, object], sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    standin: TelegramStandIn = network["standin"]  # type: ignore[assignment]
    ids = ",".join(str(i) for i in world["mine_all"] + [world["not_mine"]])
    out = await cli("requests", "send", "--text", "What has been done on violence against women since 2024?", "--due", "2027-01-15", "--ids", ids)
    assert out.startswith("request 1 to 2 focal points: 2 queued")
    await network["dispatcher"].drain()  # type: ignore[attr-defined]
    ana, claire = TelegramPerson(standin, 111), TelegramPerson(standin, 222)
    (to_ana,) = ana.inbox
    assert to_ana.text.startswith("The NMRF secretariat asks Ministry of Justice:") and "15 January 2027" in to_ana.text
    assert f"#{world['mine_all'][0]}" in to_ana.text and f"#{world['not_mine']}" not in to_ana.text
    (to_claire,) = claire.inbox
    assert to_claire.text.startswith("Le secrétariat du mécanisme national demande à Ministry of Women") and "15 janvier 2027" in to_claire.text

    one, two, three = world["mine_all"]
    # Each item the request names: open it, or "no change" in one tap; and all at once.
    assert [b["text"] for row in to_ana.reply_markup["inline_keyboard"] for b in row] == [
        "Answer", f"#{one}", f"#{one}: no change", f"#{two}", f"#{two}: no change", f"#{three}", f"#{three}: no change", "No change on all of these",
    ]
    (pick,) = await ana.presses("Answer", on=to_ana)
    assert pick.text.startswith("Request #1:") and len(pick.callback_data) == 6
    await ana.presses(f"#{two}", on=pick)
    await ana.presses("in progress")
    (saved,) = await ana.says("A protocol for police stations was adopted in 2025.")
    assert saved.text.startswith(f"Saved: #{two}")

    async with sessions() as session:
        (answer,) = (await session.scalars(select(RequestAnswer))).all()
        update = await session.get(StatusUpdate, answer.status_update_id)
    assert update is not None and (update.recommendation_id, update.narrative) == (world["mine_all"][1], "A protocol for police stations was adopted in 2025.")
    tracking = {row["institution"]: row for row in json.loads(await cli("requests", "show", "1", "--format", "json"))}
    assert (tracking["MOJ"]["answered"], tracking["MOJ"]["answers"], tracking["MOJ"]["asked"]) == (True, 1, "Ana Pérez")
    (given,) = json.loads(await cli("requests", "answers", "1", "--format", "json"))
    assert (given["institution"], given["by"], given["recommendation"], given["status"], given["answer"]) == (
        "MOJ", "Ana Pérez", world["mine_all"][1], "in_progress", "A protocol for police stations was adopted in 2025.",
    )
    assert tracking["MOW"]["answered"] is False
    # "No change" from the request's own message answers it too; the institution's first answer asks the status.
    (asked,) = await ana.presses(f"#{one}: no change", on=to_ana)
    assert asked.text.startswith(f"Your institution has not given a status for #{one} yet")
    await ana.presses("not started", on=asked)
    async with sessions() as session:
        answered = sorted((await session.scalars(select(StatusUpdate.recommendation_id).join(RequestAnswer, RequestAnswer.status_update_id == StatusUpdate.id))).all())
    assert answered == sorted([one, two])
    listed = json.loads(await cli("requests", "list", "--format", "json"))
    assert [(r["id"], r["asked"], r["answered"]) for r in listed] == [(1, 2, 1)]
    # Non-responders are reminded: the request is a deadline on what it names.
    deadlines = json.loads(await cli("deadlines", "list", "--format", "json"))
    assert [(d["kind"], d["due_on"], d["recommendations"]) for d in deadlines] == [("information_request", "2027-01-15", 4)]


async def test_a_request_to_everyone_is_answered_in_words_and_the_unreachable_are_named(cli: Callable[..., Awaitable[str]], network: dict[str, object], sessions: async_sessionmaker[AsyncSession]) -> None:
    standin: TelegramStandIn = network["standin"]  # type: ignore[assignment]
    out = await cli("requests", "send", "--text", "Please confirm your focal points for 2027.", "--due", "2026-12-15")
    assert out.splitlines() == ["request 1 to 3 focal points: 2 queued", "not on chat yet (invite them): Diego Ruiz"]
    await network["dispatcher"].drain()  # type: ignore[attr-defined]
    ana = TelegramPerson(standin, 111)
    (ask,) = await ana.presses("Answer", on=ana.inbox[0])
    assert ask.text == "Your answer to request #1? Write it here."
    (thanks,) = await ana.says("Ana Pérez stays; Bruno Silva becomes our alternate.")
    assert thanks.text.startswith("Thank you")
    async with sessions() as session:
        (answer,) = (await session.scalars(select(RequestAnswer))).all()
    assert (answer.text, answer.status_update_id) == ("Ana Pérez stays; Bruno Silva becomes our alternate.", None)
    (given,) = json.loads(await cli("requests", "answers", "1", "--format", "json"))
    assert (given["institution"], given["by"], given["answer"], given["recommendation"]) == ("MOJ", "Ana Pérez", "Ana Pérez stays; Bruno Silva becomes our alternate.", None)

    # The day before it is due, the institution that has not answered is
    # reminded, with a button to answer; the one that answered is not.
    clock: FakeClock = network["clock"]  # type: ignore[assignment]
    clock.now = datetime(2026, 12, 14, 13, tzinfo=timezone.utc)
    assert await ReminderService(sessions, Policy(), clock).tick() == 1
    await network["dispatcher"].drain()  # type: ignore[attr-defined]
    claire = TelegramPerson(standin, 222)
    reminder = claire.inbox[-1]
    assert reminder.text.splitlines() == [
        "Rappel : le secrétariat attend la réponse de Ministry of Women.",
        "",
        "Demande n° 1 « Please confirm your focal points for 2027. » : échéance le 15 décembre 2026, demain.",
        "",
        "Appuyez sur Répondre pour répondre. Absent ? Mettez les rappels en pause.",
    ]
    assert "req:1" in reminder.callback_data
    assert len(ana.inbox) == 3
    (ask_claire,) = await claire.presses("Répondre", on=reminder)
    assert "n° 1" in ask_claire.text
    await claire.says("Claire Martin reste point focal.")
    clock.now = datetime(2026, 12, 16, 13, tzinfo=timezone.utc)
    # Answered: no overdue reminder follows.
    assert await ReminderService(sessions, Policy(), clock).tick() == 0


async def test_bad_requests_are_refused_clearly(network: dict[str, object]) -> None:
    def failing(*args: str) -> str:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            with pytest.raises(SystemExit) as exited:
                main(list(args), clock=network["clock"])  # type: ignore[arg-type]
        assert exited.value.code != 0
        return err.getvalue()

    assert "in the past" in await asyncio.to_thread(failing, "requests", "send", "--text", "x", "--due", "2020-01-01")
    assert "no institution with code NOPE" in await asyncio.to_thread(failing, "requests", "send", "--text", "x", "--due", "2027-01-01", "--institutions", "NOPE")
    assert "one target" in await asyncio.to_thread(failing, "requests", "send", "--text", "x", "--due", "2027-01-01", "--cluster", "A", "--theme", "B")


async def test_an_institution_that_does_not_answer_is_escalated_and_tracked_so(cli: Callable[..., Awaitable[str]], network: dict[str, object], sessions: async_sessionmaker[AsyncSession]) -> None:
    """Ana (MOJ) never answers: once it is overdue, her senior Bruno is told,
    and the tracking says MOJ was escalated while MOW, which answered, was not."""
    standin: TelegramStandIn = network["standin"]  # type: ignore[assignment]
    standin.add_user(333, "Bruno").started = True
    async with sessions() as session, session.begin():
        bruno = await add_focal_point(session, FocalPointData("Bruno Silva", "MOJ", FocalPointRole.SENIOR, "es", "America/Montevideo", date(2025, 1, 1), "bruno@justicia.example"))
        await link_identity(session, bruno.id, Platform.TELEGRAM, "", "333", "333")
    await cli("requests", "send", "--text", "¿Qué se hizo sobre la trata de personas?", "--due", "2026-12-15", "--institutions", "MOJ,MOW")
    dispatcher = network["dispatcher"]
    await dispatcher.drain()  # type: ignore[attr-defined]
    claire = TelegramPerson(standin, 222)
    await claire.presses("Répondre", on=claire.inbox[0])
    await claire.says("Un plan national a été adopté.")
    clock: FakeClock = network["clock"]  # type: ignore[assignment]
    bruno_chat = TelegramPerson(standin, 333)
    for day in (14, 15, 16, 17, 18):
        clock.now = datetime(2026, 12, day, 13, tzinfo=timezone.utc)
        await ReminderService(sessions, Policy(), clock).tick()
        await dispatcher.drain()  # type: ignore[attr-defined]
    assert bruno_chat.inbox, "the senior focal point was never told"
    assert bruno_chat.inbox[-1].text.splitlines() == [
        "Para su atención: la secretaría sigue esperando la respuesta de Ministry of Justice, tras 1 recordatorio enviado a Ana Pérez. ¿Podría ayudar?",
        "",
        "Solicitud n.º 1 «¿Qué se hizo sobre la trata de personas?»: vencido desde el 15 de diciembre de 2026.",
    ]
    assert not any("Ministry of Women" in m.text for m in bruno_chat.inbox)
    tracking = {row["institution"]: row for row in json.loads(await cli("requests", "show", "1", "--format", "json"))}
    assert (tracking["MOJ"]["answered"], tracking["MOJ"]["escalated"], tracking["MOJ"]["escalated_to"]) == (False, True, "Bruno Silva")
    assert (tracking["MOW"]["answered"], tracking["MOW"]["escalated"]) == (True, False)


async def test_no_change_from_a_requests_reminder_answers_the_request(cli: Callable[..., Awaitable[str]], network: dict[str, object], sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    """The request names Ana's recommendations; a week before it is due her
    reminder lists them, and its "no change" buttons answer the request, each
    and all at once, not only store an update."""
    standin: TelegramStandIn = network["standin"]  # type: ignore[assignment]
    one, two, three = world["mine_all"]
    await answered_before(sessions, "MOJ", one, two, three)
    await cli("requests", "send", "--text", "Anything new?", "--due", "2027-01-15", "--ids", f"{one},{two},{three}")
    dispatcher = network["dispatcher"]
    await dispatcher.drain()  # type: ignore[attr-defined]
    clock: FakeClock = network["clock"]  # type: ignore[assignment]
    clock.now = datetime(2027, 1, 8, 13, tzinfo=timezone.utc)
    await ReminderService(sessions, Policy(), clock).tick()
    await dispatcher.drain()  # type: ignore[attr-defined]
    ana = TelegramPerson(standin, 111)
    reminder = ana.inbox[-1]
    assert reminder.text.startswith("Reminder:"), reminder.text
    actions = [b["callback_data"] for row in reminder.reply_markup["inline_keyboard"] for b in row]
    assert f"same:{one}:1" in actions and any(a.startswith("nco:") for a in actions)
    (noted,) = await ana.presses(f"#{one}: no change", on=reminder)
    assert noted.text.startswith(f"Noted: no change on #{one}.")
    await ana.presses("No change on all of these", on=reminder)
    async with sessions() as session:
        answered = sorted((await session.scalars(select(StatusUpdate.recommendation_id).join(RequestAnswer, RequestAnswer.status_update_id == StatusUpdate.id))).all())
    assert answered == sorted([one, one, two, three])
    tracking = {row["institution"]: row for row in json.loads(await cli("requests", "show", "1", "--format", "json"))}
    assert tracking["MOJ"]["answered"] is True
