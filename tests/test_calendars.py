"""Holidays by each focal point's own country and subdivision, and the
secretariat's closure days: no reminder lands on either, the next working
moment in the reader's time zone (across a DST change) takes it.

Driven through the reminder service on a fake clock, ticking every hour, so
what is checked is what the outbox would send and when."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_dispatch import OutboxDispatcher
from handlers.engine import ConversationEngine
from handlers.reminders.calendars import keep_off_closed_days
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from handlers.secretariat import commands_for
from storage import outbox
from storage.assignments import assign
from storage.calendars import ClosureData, add_closure, check_place, list_closures
from storage.conversations import link_identity
from storage.database import create_engine, session_factory
from storage.deadlines import DeadlineData, add_deadline
from storage.enums import DeadlineKind, FocalPointRole, ImportSource, InstitutionKind, OutboxKind, OutboxStatus, Platform, SecretariatRole
from storage.errors import InvalidValue
from storage.importers.run import import_file
from storage.models import AuditEntry, FocalPoint, OutboxMessage, Recommendation, ReminderStep
from storage.network import FocalPointData, InstitutionData, add_focal_point, add_institution
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from storage.selection import Selector
from tests.cli_harness import Cli
from tests.conftest import FIXTURES
from tests.factories import network_sheets, write_workbook
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

# One reminder step, ten days before: the day it falls on is the test.
TEN_DAYS = Policy(steps_days=(10,), country="UY")


async def network(sessions: async_sessionmaker[AsyncSession], people: list[tuple[str, str, str | None, str | None]], due: date) -> dict[str, int]:
    """One institution per person (code, time zone, country, subdivision),
    each answering for one recommendation with an input deadline ``due``."""
    await import_file(sessions, ImportSource.UPRINFO, FIXTURES / "uprinfo_small.csv")
    ids: dict[str, int] = {}
    async with sessions() as session, session.begin():
        recs = list((await session.scalars(select(Recommendation.id).order_by(Recommendation.id))).all())
        for n, (code, zone, country, subdivision) in enumerate(people):
            await add_institution(session, InstitutionData(code, f"Ministry {code}", InstitutionKind.MINISTRY))
            fp = await add_focal_point(session, FocalPointData(
                f"Person {code}", code, FocalPointRole.TECHNICAL, "en", zone, date(2025, 1, 1), f"{code.lower()}@gov.example",
                country=country, subdivision=subdivision,
            ))
            await link_identity(session, fp.id, Platform.TELEGRAM, "", str(100 + n), str(100 + n))
            await assign(session, code, Selector(ids=(recs[n],)))
            ids[code] = fp.id
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, due, "Inputs"), Selector(ids=tuple(recs[: len(people)])))
    return ids


async def reminded(sessions: async_sessionmaker[AsyncSession], policy: Policy, first: date, last: date) -> dict[int, list[datetime]]:
    """Tick the planner at every hour (at :55, ten minutes before a window
    opens) from ``first`` to ``last``; each focal point's reminder send times."""
    clock = FakeClock(datetime.combine(first, datetime.min.time(), tzinfo=UTC) - timedelta(minutes=5))
    service = ReminderService(sessions, policy, clock)
    while clock.now.date() <= last:
        await service.tick()
        clock.now += timedelta(hours=1)
    async with sessions() as session:
        rows = (await session.execute(
            select(OutboxMessage.focal_point_id, OutboxMessage.due_at).where(OutboxMessage.kind == OutboxKind.REMINDER).order_by(OutboxMessage.due_at)
        )).all()
    out: dict[int, list[datetime]] = {}
    for person, due_at in rows:
        out.setdefault(person, []).append(due_at)
    return out


async def test_uruguay_tourism_week_closure_moves_the_reminder_to_the_next_working_day(sessions: async_sessionmaker[AsyncSession]) -> None:
    # Due Thursday 1 April 2027: ten days before is Monday 22 March, the first
    # day of Semana de Turismo 2027 (22-26 March), not a statutory holiday.
    ids = await network(sessions, [("MOJ", "America/Montevideo", "UY", None)], date(2027, 4, 1))
    async with sessions() as session, session.begin():
        await add_closure(session, ClosureData("Semana de Turismo", date(2027, 3, 22), date(2027, 3, 26), "UY"))
    sent = await reminded(sessions, TEN_DAYS, date(2027, 3, 20), date(2027, 3, 30))
    # Monday 29 March, 09:00 in Montevideo (UTC-3): after the week and the weekend.
    assert sent == {ids["MOJ"]: [datetime(2027, 3, 29, 12, 0, tzinfo=UTC)]}


async def test_without_the_closure_the_reminder_goes_on_the_monday_of_tourism_week(sessions: async_sessionmaker[AsyncSession]) -> None:
    # The holidays package does not close Tourism Week: the closure is what moves it.
    ids = await network(sessions, [("MOJ", "America/Montevideo", "UY", None)], date(2027, 4, 1))
    sent = await reminded(sessions, TEN_DAYS, date(2027, 3, 20), date(2027, 3, 23))
    assert sent == {ids["MOJ"]: [datetime(2027, 3, 22, 12, 0, tzinfo=UTC)]}


async def test_a_closure_for_one_country_or_subdivision_leaves_the_others_alone(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await network(sessions, [("MOJ", "America/Montevideo", "UY", None), ("BAY", "Europe/Berlin", "DE", "BY"), ("BER", "Europe/Berlin", "DE", "BE")], date(2027, 4, 1))
    async with sessions() as session, session.begin():
        await add_closure(session, ClosureData("Semana de Turismo", date(2027, 3, 22), date(2027, 3, 26), "UY"))
        await add_closure(session, ClosureData("Bavarian office move", date(2027, 3, 22), None, "DE", "BY"))
    sent = await reminded(sessions, TEN_DAYS, date(2027, 3, 21), date(2027, 3, 23))
    # Berlin: Monday 22 March, 09:00 CET (08:00 UTC); Bavaria closed that day only.
    assert sent == {ids["BER"]: [datetime(2027, 3, 22, 8, 0, tzinfo=UTC)], ids["BAY"]: [datetime(2027, 3, 23, 8, 0, tzinfo=UTC)]}


async def test_epiphany_closes_bavaria_but_not_berlin(sessions: async_sessionmaker[AsyncSession]) -> None:
    # Due Saturday 16 January 2027: ten days before is Wednesday 6 January,
    # Epiphany, a public holiday in Bavaria (DE-BY) and not in Berlin (DE-BE).
    ids = await network(sessions, [("BAY", "Europe/Berlin", "DE", "BY"), ("BER", "Europe/Berlin", "DE", "BE")], date(2027, 1, 16))
    sent = await reminded(sessions, TEN_DAYS, date(2027, 1, 5), date(2027, 1, 7))
    assert sent == {
        ids["BER"]: [datetime(2027, 1, 6, 8, 0, tzinfo=UTC)],
        ids["BAY"]: [datetime(2027, 1, 7, 8, 0, tzinfo=UTC)],
    }


async def test_own_country_wins_over_the_configured_one(sessions: async_sessionmaker[AsyncSession]) -> None:
    # The configuration says Uruguay; a focal point with no country of their
    # own keeps Uruguay's holidays, one in Bavaria keeps Bavaria's.
    ids = await network(sessions, [("MOJ", "Europe/Berlin", None, None), ("BAY", "Europe/Berlin", "DE", "BY")], date(2027, 1, 16))
    sent = await reminded(sessions, TEN_DAYS, date(2027, 1, 5), date(2027, 1, 7))
    assert sent == {ids["MOJ"]: [datetime(2027, 1, 6, 8, 0, tzinfo=UTC)], ids["BAY"]: [datetime(2027, 1, 7, 8, 0, tzinfo=UTC)]}
    by_config = await reminded(sessions, Policy(steps_days=(10,), country="DE", subdivision="BY"), date(2027, 1, 5), date(2027, 1, 7))
    assert by_config == sent  # planned once: the outbox keys hold


async def test_dst_week_holidays_move_the_reminder_to_the_new_offset(sessions: async_sessionmaker[AsyncSession]) -> None:
    # Due Monday 5 April 2027: ten days before is Friday 26 March, Good Friday
    # (a holiday in all Germany). Summer time begins Sunday 28 March, and
    # Easter Monday (29 March) is a holiday too: the reminder goes Tuesday
    # 30 March at 09:00 CEST, which is 07:00 UTC, not the 08:00 UTC of the week before.
    ids = await network(sessions, [("BER", "Europe/Berlin", "DE", "BE"), ("MOJ", "America/Montevideo", "UY", None)], date(2027, 4, 5))
    async with sessions() as session, session.begin():
        await add_closure(session, ClosureData("Semana de Turismo", date(2027, 3, 22), date(2027, 3, 26), "UY"))
    sent = await reminded(sessions, TEN_DAYS, date(2027, 3, 25), date(2027, 3, 31))
    assert sent == {ids["BER"]: [datetime(2027, 3, 30, 7, 0, tzinfo=UTC)], ids["MOJ"]: [datetime(2027, 3, 29, 12, 0, tzinfo=UTC)]}


async def test_a_closure_declared_late_keeps_what_is_queued_off_its_days(sessions: async_sessionmaker[AsyncSession]) -> None:
    # The reminder for Monday 22 March is planned (10 minutes before 09:00 in
    # Montevideo) and a request is queued for that morning; then the
    # secretariat declares Tourism Week. Neither goes that week: the request
    # moves to Monday 29 March 09:00, the reminder is withdrawn and the plan
    # gives it again that day, in one digest.
    ids = await network(sessions, [("MOJ", "America/Montevideo", "UY", None)], date(2027, 4, 1))
    planned = await reminded(sessions, TEN_DAYS, date(2027, 3, 22), date(2027, 3, 22))
    assert planned == {ids["MOJ"]: [datetime(2027, 3, 22, 12, 0, tzinfo=UTC)]}
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, outbox.NewMessage(
            key="request:1:test", kind=OutboxKind.INFORMATION_REQUEST, platform=Platform.TELEGRAM, workspace_id="", platform_user_id="100",
            chat_id="100", timezone="America/Montevideo", message={"key": "request.frame", "text": "?"},
            due_at=datetime(2027, 3, 22, 12, 0, tzinfo=UTC), not_after=datetime(2027, 3, 22, 20, 0, tzinfo=UTC), focal_point_id=ids["MOJ"],
        ))
    async with sessions() as session, session.begin():
        await add_closure(session, ClosureData("Semana de Turismo", date(2027, 3, 22), date(2027, 3, 26), "UY"))
        assert await keep_off_closed_days(session, TEN_DAYS, datetime(2027, 3, 22, 11, 55, tzinfo=UTC)) == 2
    async with sessions() as session:
        rows = {(kind, status, due_at, not_after) for kind, status, due_at, not_after in await session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, OutboxMessage.due_at, OutboxMessage.not_after))}
        assert (await session.scalar(select(func.count()).select_from(ReminderStep))) == 0
    assert rows == {
        (OutboxKind.REMINDER, OutboxStatus.CANCELLED, datetime(2027, 3, 22, 12, 0, tzinfo=UTC), datetime(2027, 3, 22, 20, 0, tzinfo=UTC)),
        (OutboxKind.INFORMATION_REQUEST, OutboxStatus.PENDING, datetime(2027, 3, 29, 12, 0, tzinfo=UTC), datetime(2027, 3, 29, 20, 0, tzinfo=UTC)),
    }
    # The withdrawn one (22 March, cancelled) and the one the plan gave again.
    again = await reminded(sessions, TEN_DAYS, date(2027, 3, 22), date(2027, 3, 30))
    assert again == {ids["MOJ"]: [datetime(2027, 3, 22, 12, 0, tzinfo=UTC), datetime(2027, 3, 29, 12, 0, tzinfo=UTC)]}
    async with sessions() as session, session.begin():
        # Declared again (or another closure): nothing more moves.
        assert await keep_off_closed_days(session, TEN_DAYS, datetime(2027, 3, 22, 11, 55, tzinfo=UTC)) == 0


def test_places_are_checked_against_the_holidays_package() -> None:
    assert check_place("de", "by") == ("DE", "BY")
    assert check_place(None, None) == (None, None)
    with pytest.raises(InvalidValue, match="ISO 3166-1 alpha-2 country code the holidays package knows"):
        check_place("XX", None)
    with pytest.raises(InvalidValue, match="'ZZ' is not a subdivision of DE the holidays package knows; expected one of BB, BE"):
        check_place("DE", "ZZ")
    with pytest.raises(InvalidValue, match="has no subdivisions for UY"):
        check_place("UY", "MO")
    with pytest.raises(InvalidValue, match="needs its country"):
        check_place(None, "BY")


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


def test_closures_through_the_cli(cli: Cli, db_url: str) -> None:
    out, _ = cli("calendar", "closures", "add", "--name", "Semana de  Turismo", "--from", "2027-03-22", "--to", "2027-03-26", "--country", "uy")
    assert out.strip() == "added closure 1: Semana de Turismo (2027-03-22..2027-03-26, UY)"
    cli("calendar", "closures", "add", "--name", "Día del personal", "--from", "2027-05-03")
    cli("calendar", "closures", "add", "--name", "Fronleichnam (Augsburg)", "--from", "2027-05-27", "--country", "DE", "--subdivision", "augsburg")
    out, _ = cli("calendar", "closures", "list", "--format", "json")
    assert [(c["id"], c["from"], c["to"], c["days"], c["scope"]) for c in json.loads(out)] == [
        (1, "2027-03-22", "2027-03-26", 5, "UY"), (2, "2027-05-03", "2027-05-03", 1, "everyone"), (3, "2027-05-27", "2027-05-27", 1, "DE-Augsburg"),
    ]
    out, _ = cli("calendar", "closures", "list", "--from", "2027-04-01", "--format", "csv")
    assert out.splitlines()[0] == "id,name,from,to,days,scope" and len(out.splitlines()) == 3
    for args, error in [
        (("--name", "X", "--from", "2027-03-26", "--to", "2027-03-22"), "error: a closure ends on or after its first day: 2027-03-22 is before 2027-03-26"),
        (("--name", "X", "--from", "2027-01-01", "--to", "2027-03-01"), "error: a closure lasts at most 31 days, not 60"),
        (("--name", " ", "--from", "2027-01-01"), "error: a closure needs a name"),
        (("--name", "X", "--from", "2027-01-01", "--country", "Uruguay"), "error: expected an ISO 3166-1 alpha-2 country code"),
        (("--name", "X", "--from", "2027-01-01", "--subdivision", "BY"), "error: a subdivision ('BY') needs its country"),
        (("--name", "X", "--from", "2027-01-01", "--country", "DE", "--subdivision", "Bayern"), "error: 'Bayern' is not a subdivision of DE"),
    ]:
        _, err = cli("calendar", "closures", "add", *args, expect=1)
        assert err.startswith(error), err
    _, err = cli("calendar", "closures", "add", "--name", "X", "--from", "22/03/2027", expect=2)
    assert "expected a date as YYYY-MM-DD" in err
    out, _ = cli("calendar", "closures", "remove", "2")
    assert out.strip() == "removed closure 2: Día del personal (2027-05-03, everyone)"
    _, err = cli("calendar", "closures", "remove", "2", expect=1)
    assert err.startswith("error: no closure with id 2")
    audited = query(db_url, select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.entity == "closure_days"))
    assert sorted(a for _, a in audited) == ["delete", "insert", "insert", "insert"], audited
    assert all(actor.startswith("cli:") for actor, _ in audited), audited


def test_focal_point_place_through_the_cli(cli: Cli, db_url: str) -> None:
    cli("institutions", "add", "BAY", "Bayerisches Staatsministerium")
    cli("focal-points", "add", "--name", "Anna", "--institution", "BAY", "--role", "technical", "--timezone", "Europe/Berlin", "--country", "de", "--subdivision", "by")
    cli("focal-points", "add", "--name", "Ana", "--institution", "BAY", "--role", "alternate")
    _, err = cli("focal-points", "add", "--name", "X", "--institution", "BAY", "--role", "senior", "--country", "DE", "--subdivision", "Bavaria", expect=1)
    assert err.startswith("error: 'Bavaria' is not a subdivision of DE the holidays package knows; expected one of BB, BE, BW, BY")
    _, err = cli("focal-points", "add", "--name", "X", "--institution", "BAY", "--role", "senior", "--country", "XK1", expect=1)
    assert err.startswith("error: expected an ISO 3166-1 alpha-2 country code")
    out, _ = cli("focal-points", "list", "--format", "json")
    assert {f["name"]: f["holidays"] for f in json.loads(out)} == {"Anna": "DE-BY", "Ana": ""}
    assert query(db_url, select(FocalPoint.country, FocalPoint.subdivision).order_by(FocalPoint.id)) == [("DE", "BY"), (None, None)]
    # Corrected later: Anna moves to Berlin, Ana is in Uruguay; a bad place is refused and changes nothing.
    cli("focal-points", "edit", "2", "--country", "uy")
    cli("focal-points", "edit", "1", "--subdivision", "be")
    _, err = cli("focal-points", "edit", "1", "--subdivision", "Bavaria", expect=1)
    assert "'Bavaria' is not a subdivision of DE" in err
    assert query(db_url, select(FocalPoint.country, FocalPoint.subdivision).order_by(FocalPoint.id)) == [("DE", "BE"), ("UY", None)]
    cli("focal-points", "edit", "1", "--country", "")
    assert query(db_url, select(FocalPoint.country, FocalPoint.subdivision).order_by(FocalPoint.id)) == [(None, None), ("UY", None)]


# --- in chat: /closures for a coordinator -----------------------------------

admin, coordinator, viewer = Person("900"), Person("901"), Person("902")


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        colin = await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "es", "America/Montevideo", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        vera = await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "en", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))
    return {"colin": colin.id, "vera": vera.id}


async def test_a_coordinator_adds_lists_and_removes_a_closure_in_chat_after_a_summary(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    await bot.handle(coordinator.says("/closures add 2027-03-22..2027-03-26 UY Semana de Turismo"))
    [summary] = gateway.take()
    assert summary.key == "closures.confirm"
    assert summary.text == "¿Agregar el cierre «Semana de Turismo», del 22 de marzo de 2027 al 26 de marzo de 2027, para UY? Ningún recordatorio les llegará en esos días."
    async with sessions() as session:
        assert await list_closures(session) == []  # nothing before Confirm
    assert await chat(bot, gateway, coordinator.says("sí"), tap("Confirmar", coordinator)) == ["closures.press", "closures.added"]
    assert await chat(bot, gateway, coordinator.says("/closures add 2027-01-06 DE-by Día del personal"), tap("Confirmar", coordinator)) == [
        "closures.confirm", "closures.added"]
    await bot.handle(coordinator.says("/closures"))
    [listed] = gateway.take()
    assert listed.text.splitlines() == [
        "2 cierres próximos:",
        "• 2. Día del personal: 6 de enero de 2027 (DE-BY)",
        "• 1. Semana de Turismo: del 22 de marzo de 2027 al 26 de marzo de 2027 (UY)",
    ]
    # The summary names what goes; a Cancel keeps it.
    assert await chat(bot, gateway, coordinator.says("/closures remove 2"), tap("Cancelar", coordinator)) == ["closures.confirm", "update.cancelled"]
    old = gateway.action("Confirmar", coordinator.user_id)
    assert await chat(bot, gateway, coordinator.says("/closures remove 2"), tap("Confirmar", coordinator)) == ["closures.confirm", "closures.removed"]
    # The first summary's Confirm is stale: it does not remove anything else.
    await bot.handle(coordinator.presses(old))
    [stale] = gateway.take()
    assert stale.key == "stale.closed" and "un cambio en los días de cierre" in stale.text, (stale.key, stale.text)
    async with sessions() as session:
        assert [(c.id, c.name, c.country) for c in await list_closures(session)] == [(1, "Semana de Turismo", "UY")]
        actors = {actor for actor, in (await session.execute(select(AuditEntry.actor).where(AuditEntry.entity == "closure_days"))).all()}
    assert actors == {f"secretariat:{secretariat['colin']}"}


@pytest.mark.parametrize(("typed", "key", "shown"), [
    ("/closures add 22/03/2027 Turismo", "closures.bad_date", "«22/03/2027» no es una fecha"),
    ("/closures add 2027-03-26..2027-03-22 Turismo", "closures.bad_range", "el 22 de marzo de 2027 es anterior al 26 de marzo de 2027"),
    ("/closures add 2027-01-01..2027-03-01 Verano", "closures.too_long", "como máximo 31 días"),
    ("/closures add 2027-03-22 XX Turismo", "closures.bad_country", "«XX» no es un código de país"),
    ("/closures add 2027-03-22 DE-Bayern Fiesta", "closures.bad_subdivision", "«Bayern» no es una subdivisión de DE que conozcan los calendarios de feriados. Conocen: BB, BE"),
    ("/closures add 2027-03-22 UY-MO Fiesta", "closures.bad_subdivision", "Conocen: ninguna (omita la subdivisión)"),
    ("/closures add 2027-03-22 UY", "closures.no_name", "necesita un nombre"),
    ("/closures add 2027-03-22 " + "x" * 201, "closures.long_name", "como máximo 200 caracteres"),
    ("/closures remove 9", "closures.unknown", "No hay ningún cierre 9. Escriba /closures"),
    ("/closures delete 1", "closures.usage", "/closures add 2027-03-22..2027-03-26 UY"),
    ("/closures", "closures.none", "No hay próximos días de cierre"),
])
async def test_a_bad_closure_in_chat_is_told_specifically_and_nothing_is_proposed(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], typed: str, key: str, shown: str
) -> None:
    await bot.handle(coordinator.says(typed))
    [reply] = gateway.take()
    assert (reply.key, reply.buttons) == (key, ())
    assert shown in reply.text, reply.text


async def test_closures_need_the_coordinator_role_and_are_in_their_help(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int]
) -> None:
    await bot.handle(viewer.says("/closures add 2027-03-22 Turismo"))
    [refusal] = gateway.take()
    assert refusal.key == "role.needed" and "coordinator role" in refusal.text
    await bot.handle(viewer.presses("closure:apply"))
    [refusal] = gateway.take()
    assert refusal.key == "role.needed"
    await bot.handle(viewer.says("hello"))
    [viewer_help] = gateway.take()
    await bot.handle(coordinator.says("hola"))
    [coordinator_help] = gateway.take()
    assert "/closures" not in viewer_help.text and "/closures: los próximos días de cierre" in coordinator_help.text
    assert "closures" in commands_for(SecretariatRole.COORDINATOR) and "closures" not in commands_for(SecretariatRole.VIEWER)


async def test_a_closure_added_in_chat_moves_what_is_queued_for_its_days_and_says_so(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, outbox.NewMessage(
            key="unreachable:test", kind=OutboxKind.UNREACHABLE_NOTICE, platform=Platform.TELEGRAM, workspace_id="", platform_user_id="902",
            chat_id="902", timezone="UTC", message={"key": "x", "text": "x"}, due_at=datetime(2027, 5, 3, 9, 0, tzinfo=UTC),
            not_after=datetime(2027, 5, 3, 17, 0, tzinfo=UTC), secretariat_user_id=secretariat["vera"],
        ))
    assert await chat(bot, gateway, coordinator.says("/closures add 2027-05-03 Retiro del personal"), tap("Confirmar", coordinator)) == [
        "closures.confirm", "closures.added", "closures.moved"]
    async with sessions() as session:
        # Monday 3 May 2027 closed for everyone: Tuesday at 09:00.
        assert (await session.execute(select(OutboxMessage.due_at, OutboxMessage.not_after))).all() == [
            (datetime(2027, 5, 4, 9, 0, tzinfo=UTC), datetime(2027, 5, 4, 17, 0, tzinfo=UTC))]


async def test_a_message_that_missed_its_window_waits_past_the_readers_closure_and_holidays(sessions: async_sessionmaker[AsyncSession]) -> None:
    # Due Friday 19 March 2027 in Montevideo, and the sender was down all
    # that day: it goes at the next working moment for that reader, Monday
    # 29 March (Tourism Week closed), not Monday 22; a Bavarian's misses
    # Tuesday 5 January and goes Thursday 7 (Epiphany), not Wednesday 6.
    ids = await network(sessions, [("MOJ", "America/Montevideo", "UY", None), ("BAY", "Europe/Berlin", "DE", "BY")], date(2027, 4, 1))
    async with sessions() as session, session.begin():
        await add_closure(session, ClosureData("Semana de Turismo", date(2027, 3, 22), date(2027, 3, 26), "UY"))
        for key, who, zone, due, until in [
            ("late:uy", "MOJ", "America/Montevideo", datetime(2027, 3, 19, 12, tzinfo=UTC), datetime(2027, 3, 19, 20, tzinfo=UTC)),
            ("late:by", "BAY", "Europe/Berlin", datetime(2027, 1, 5, 8, tzinfo=UTC), datetime(2027, 1, 5, 16, tzinfo=UTC)),
        ]:
            await outbox.enqueue(session, outbox.NewMessage(
                key=key, kind=OutboxKind.INFORMATION_REQUEST, platform=Platform.TELEGRAM, workspace_id="", platform_user_id="100", chat_id="100",
                timezone=zone, message={"key": "x", "text": "x"}, due_at=due, not_after=until, focal_point_id=ids[who],
            ))
    found = {}
    for now, key in ((datetime(2027, 1, 5, 23, tzinfo=UTC), "late:by"), (datetime(2027, 3, 20, 1, tzinfo=UTC), "late:uy")):
        await OutboxDispatcher(sessions, FakeGateway(), FakeClock(now), TEN_DAYS.working_time).drain()  # type: ignore[arg-type]
        async with sessions() as session:
            found[key] = (await session.execute(select(OutboxMessage.status, OutboxMessage.due_at).where(OutboxMessage.key == key))).one()
    assert found == {
        "late:by": (OutboxStatus.PENDING, datetime(2027, 1, 7, 8, tzinfo=UTC)),
        "late:uy": (OutboxStatus.PENDING, datetime(2027, 3, 29, 12, tzinfo=UTC)),
    }


def test_the_template_carries_each_focal_points_country_and_subdivision(cli: Cli, db_url: str, tmp_path: Path) -> None:
    sheets = network_sheets()
    people = sheets["focal_points"]
    people[0] += ["country", "subdivision"]
    people[1] += ["uy", None]
    people[2] += [None, None]
    people[3] += ["DE", "by"]
    cli("db", "upgrade")
    cli("import", "template", str(write_workbook(tmp_path / "network.xlsx", sheets)))
    assert query(db_url, select(FocalPoint.email, FocalPoint.country, FocalPoint.subdivision).order_by(FocalPoint.id)) == [
        ("ana.perez@justicia.example", "UY", None), ("jorge.silva@justicia.example", None, None), ("claire.martin@femmes.example", "DE", "BY"),
    ]
    # A place the holidays package does not know is that row's error, and nothing is imported.
    people[3][-1] = "Bayern"
    people[2][-2:] = [None, "BY"]
    _, err = cli("import", "template", str(write_workbook(tmp_path / "bad.xlsx", sheets)), expect=1)
    assert "subdivision" in err and "'Bayern' is not a subdivision of DE" in err and "needs its country" in err, err
    assert query(db_url, select(FocalPoint.subdivision).where(FocalPoint.email == "claire.martin@femmes.example")) == [("BY",)]
