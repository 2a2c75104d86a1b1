"""An admin runs the focal-point network in chat (/people, /institutions):
each change is shown and applies only on Confirm, with the storage functions
the CLI uses; a focal point added gets the same one-time invite as
`nmrf-bot focal-points invite`; the audit log names the admin, whoever
started the process."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from handlers.invite_links import InviteLinks
from storage.assignment_notices import successors
from storage.audit import acting_as
from storage.enums import FocalPointRole, InstitutionKind, Platform, SecretariatRole
from storage.models import AuditEntry, FocalPoint, Institution, SecretariatUser
from storage.network import FocalPointData, add_focal_point
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from tests.dialogue_harness import chat, clock, gateway, tap
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["clock", "gateway"]

admin, coordinator, newcomer = Person("900"), Person("901"), Person("555")


@pytest.fixture
def bot(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock) -> ConversationEngine:
    return ConversationEngine(sessions, gateway, clock, invite_links=InviteLinks(lambda: "nmrf_test_bot"))


@pytest.fixture
async def users(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> dict[str, int]:
    """Mary, the first admin, and Colin, a coordinator; the world's MOJ has Ana."""
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        mary = await session.scalar(select(SecretariatUser).where(SecretariatUser.email == "mary@mfa.example"))
        assert mary is not None
        colin = await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "UTC", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
    return {"mary": mary.id, "colin": colin.id, **world}


async def person(sessions: async_sessionmaker[AsyncSession], email: str) -> FocalPoint | None:
    async with sessions() as session:
        return await session.scalar(select(FocalPoint).where(FocalPoint.email == email))


ADD = "/people add MOJ Luis Gómez luis@justicia.example senior es America/Montevideo"


async def test_a_coordinator_is_refused_naming_the_admin_role(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    for command in (ADD, "/institutions", "people"):
        await bot.handle(coordinator.says(command))
        [refusal] = gateway.take()
        assert refusal.key == "role.needed" and "admin role" in refusal.text, command
    assert await person(sessions, "luis@justicia.example") is None


async def test_an_admin_adds_a_focal_point_after_a_summary_and_gets_the_invite(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    await bot.handle(admin.says(ADD))
    [summary] = gateway.take()
    assert summary.key == "people.confirm"
    assert "Luis Gómez <luis@justicia.example> to MOJ (Ministry of Justice) as senior focal point, in Español" in summary.text
    assert "America/Montevideo" in summary.text
    assert await person(sessions, "luis@justicia.example") is None
    # `nmrf-bot run` started as root: the change is still the admin's.
    with acting_as("cli:root"):
        await bot.handle(tap("Confirm", admin)(gateway))
    added, invite = gateway.take()
    assert (added.key, invite.key) == ("people.added", "people.invite")
    luis = await person(sessions, "luis@justicia.example")
    assert luis is not None and (luis.role, luis.language, luis.timezone, luis.active_from) == (
        FocalPointRole.SENIOR, "es", "America/Montevideo", date(2026, 11, 23))
    found = re.search(r"https://t\.me/nmrf_test_bot\?start=(\S+)", invite.text)
    assert found is not None, invite.text
    code = found[1]
    assert f"start {code}" in invite.text.split("Slack:")[1]
    async with sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.entity == "focal_points", AuditEntry.action == "insert",
                                                              AuditEntry.entity_id == str(luis.id)))
        assert entry is not None and entry.actor == f"secretariat:{users['mary']}"
    # The same invite as the CLI's: the deep link's code links Luis's account.
    assert await chat(bot, gateway, newcomer.says(f"/start {code}")) == ["onboarding.welcome"]
    assert (await chat(bot, gateway, newcomer.says("/mine")))[0] == "mine.header"


@pytest.mark.parametrize(("command", "key"), [
    ('/people add MOJ "" luis@justicia.example senior', "people.usage"),
    ("/people add MOJ Luis luis-at-justicia senior", "people.usage"),
    ("/people add MOJ Luis luis@justicia senior", "people.bad_email"),
    ("/people add MOJ Luis luis@justicia.example chief", "people.bad_role"),
    ("/people add MOJ Luis luis@justicia.example senior xx", "people.bad_language"),
    ("/people add MOJ Luis luis@justicia.example senior es Mars/Olympus", "people.bad_timezone"),
    ("/people add MOX Luis luis@justicia.example senior", "people.unknown_institution"),
    ("/people add MOJ Ana ANA@justicia.example senior", "people.exists"),
    ("/people role nobody@justicia.example senior", "people.unknown"),
    ("/people hours ana@justicia.example 18:00-09:00", "people.bad_hours"),
    ("/people end ana@justicia.example 31/12/2026", "people.bad_date"),
    ("/people end ana@justicia.example 2024-12-31", "people.end_before_start"),
    ("/people promote ana@justicia.example", "people.usage"),
    ("/institutions add M*J Ministry", "institutions.bad_code"),
    ("/institutions add MOJ Ministry of Justice", "institutions.exists"),
    ("/institutions add DGV Directorate agency MOX", "people.unknown_institution"),
])
async def test_bad_input_is_told_specifically_and_nothing_is_proposed(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], command: str, key: str
) -> None:
    assert await chat(bot, gateway, admin.says(command)) == [key]
    assert await chat(bot, gateway, admin.says("yes")) == ["secretariat.help"]


async def test_an_admin_changes_role_language_hours_and_time_zone(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    for command, summary in (
        ("/people role ana@justicia.example validator", "Change the role of Ana Pérez from technical to validating?"),
        ("/people language ana@justicia.example fr", "Change the language of Ana Pérez from English to Français?"),
        ("/people hours ana@justicia.example 08:00-14:00", "Change the working hours of Ana Pérez from the NMRF's to 08:00-14:00?"),
        (f"/people timezone {users['ana']} Europe/Paris", "Change the time zone of Ana Pérez from America/Montevideo to Europe/Paris?"),
    ):
        await bot.handle(admin.says(command))
        [shown] = gateway.take()
        assert shown.text == summary
        assert await chat(bot, gateway, tap("Confirm", admin)) == ["people.changed"]
    ana = await person(sessions, "ana@justicia.example")
    assert ana is not None and (ana.role, ana.language, ana.working_hours, ana.timezone) == (
        FocalPointRole.VALIDATOR, "fr", "08:00-14:00", "Europe/Paris")
    # Cancel keeps things as they are; typed words while a summary waits are answered with it again.
    assert await chat(bot, gateway, admin.says("/people hours ana@justicia.example default"), admin.says("ok"), tap("Cancel", admin)) == [
        "people.confirm", "people.press", "update.cancelled"]
    ana = await person(sessions, "ana@justicia.example")
    assert ana is not None and ana.working_hours == "08:00-14:00"
    async with sessions() as session:
        changes = [e.changes for e in await session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "focal_points", AuditEntry.action == "update", AuditEntry.actor == f"secretariat:{users['mary']}"))]
    assert {"role": ["technical", "validator"]} in [{k: v for k, v in c.items() if k == "role"} for c in changes]


async def test_a_stale_confirm_is_refused(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    await bot.handle(admin.says("/people role ana@justicia.example senior"))
    old = gateway.action("Confirm", admin.user_id)
    assert await chat(bot, gateway, admin.says("/people language ana@justicia.example es")) == ["people.confirm", "people.confirm"]
    await bot.handle(admin.presses(old))
    [refusal] = gateway.take()
    assert refusal.key == "stale.other" and "a change to the network" in refusal.text
    ana = await person(sessions, "ana@justicia.example")
    assert ana is not None and ana.role == FocalPointRole.TECHNICAL


async def test_an_admin_ends_a_term_and_another_with_a_successor_who_is_handed_over(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await add_focal_point(session, FocalPointData("Olga Ruiz", "MOW", FocalPointRole.TECHNICAL, "es", "America/Montevideo",
                                                      date(2025, 3, 1), "olga@mujeres.example"))
    await bot.handle(admin.says("/people end olga@mujeres.example 2026-12-31"))
    [summary] = gateway.take()
    assert "End the term of Olga Ruiz (MOW) with 31 December 2026 as their last day?" in summary.text
    assert await chat(bot, gateway, tap("Confirm", admin)) == ["people.ended"]
    olga = await person(sessions, "olga@mujeres.example")
    assert olga is not None and olga.active_to == date(2026, 12, 31)

    # Ana is succeeded by Luis, with her role, language and time zone unless given.
    await bot.handle(admin.says('/people replace ana@justicia.example "Luis Gómez" luis@justicia.example'))
    [summary] = gateway.take()
    assert "End the term of Ana Pérez (MOJ) with 22 November 2026 as their last day" in summary.text
    assert "make Luis Gómez <luis@justicia.example> the technical focal point from 23 November 2026" in summary.text
    assert await chat(bot, gateway, tap("Confirm", admin)) == ["people.replaced", "people.invite"]
    ana, luis = await person(sessions, "ana@justicia.example"), await person(sessions, "luis@justicia.example")
    assert ana is not None and ana.active_to == date(2026, 11, 22)
    assert luis is not None and (luis.institution_id, luis.role, luis.language, luis.timezone, luis.active_from) == (
        ana.institution_id, FocalPointRole.TECHNICAL, "en", "America/Montevideo", date(2026, 11, 23))
    # The hand-over's own rule names Luis as Ana's successor.
    async with sessions() as session:
        found = {p.email: [b.email for b in before] for p, before in await successors(session, date(2026, 11, 23), 60)}
    assert found == {"luis@justicia.example": ["ana@justicia.example"]}
    # A term already ended is not ended again with a successor, and gets no invite.
    assert await chat(bot, gateway, admin.says("/people replace ana@justicia.example Eva eva@justicia.example"),
                      admin.says("/people invite ana@justicia.example")) == ["people.already_ended", "people.invite_ended"]
    # Nor ended later, which would bring her back in office beside Luis.
    assert await chat(bot, gateway, admin.says("/people end ana@justicia.example 2099-01-01")) == ["people.already_ended"]
    ana = await person(sessions, "ana@justicia.example")
    assert ana is not None and ana.active_to == date(2026, 11, 22)


async def test_lists_are_paged_and_institutions_are_added(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        for n in range(11):
            await add_focal_point(session, FocalPointData(f"Person {n:02}", "MOW", FocalPointRole.ALTERNATE, "en", "UTC",
                                                          date(2026, 1, 1), f"p{n}@mujeres.example"))
    await bot.handle(admin.says("/people"))
    [first] = gateway.take()
    assert first.text.startswith("12 focal points in office:") and len(first.text.splitlines()) == 11
    assert "Ana Pérez <ana@justicia.example>, MOJ" in first.text and "Person 10" not in first.text
    await bot.handle(tap("Next ›", admin)(gateway))
    [second] = gateway.take()
    assert len(second.text.splitlines()) == 3 and "Person 10" in second.text
    await bot.handle(admin.says("/people MOJ"))
    [moj] = gateway.take()
    assert moj.text.splitlines()[0] == "1 focal point in office:" and "Ana Pérez <ana@justicia.example>, MOJ, technical" in moj.text
    assert "(Telegram)" not in moj.text and "Telegram" in moj.text

    await bot.handle(admin.says('/institutions add INMUJERES "Instituto Nacional de las Mujeres" agency MOW'))
    [summary] = gateway.take()
    assert summary.text == "Add the institution INMUJERES: Instituto Nacional de las Mujeres (agency, under MOW)?"
    assert await chat(bot, gateway, tap("Confirm", admin)) == ["institutions.added"]
    async with sessions() as session:
        made = await session.scalar(select(Institution).where(Institution.code == "INMUJERES"))
        assert made is not None and made.kind == InstitutionKind.AGENCY and made.parent_id is not None
    await bot.handle(admin.says("/institutions"))
    [listing] = gateway.take()
    assert listing.text.splitlines()[0] == "3 institutions:"
    assert "MOW: Ministry of Women (ministry, under -), 11 focal points in office" in listing.text


async def test_without_telegram_the_invite_gives_the_code_for_start(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, users: dict[str, int]
) -> None:
    bot = ConversationEngine(sessions, gateway, clock)
    await bot.handle(admin.says("/people invite ana@justicia.example"))
    [invite] = gateway.take()
    assert invite.key == "people.invite" and "t.me" not in invite.text
    found = re.search(r"send /start (\S+)", invite.text)
    assert found is not None and f"start {found[1]} to the bot" in invite.text
    assert "until 7 December 2026" in invite.text


async def test_on_slack_the_bare_words_work_and_the_invite_names_slacks_start(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await add_secretariat_user(session, SecretariatUserData("Sam Okafor", "sam@mfa.example", "fr", "Europe/Paris", slack_user_id="USAM"))
    sam = Person("USAM", Platform.SLACK)
    await bot.handle(sam.says("people add MOJ Luis Gómez luis@justicia.example alternate"))
    [summary] = gateway.take()
    assert summary.text.startswith("Ajouter Luis Gómez <luis@justicia.example> à MOJ (Ministry of Justice) comme point focal suppléant, en Français")
    # While the summary waits, the bare word is not a new command: Confirm is asked for again.
    assert await chat(bot, gateway, sam.says("people"), tap("Confirmer", sam)) == ["people.press", "people.added", "people.invite"]
    [invite] = [m for _, m in gateway.history if m.key == "people.invite"]
    assert "Slack : écrire start " in invite.text and "https://t.me/nmrf_test_bot?start=" in invite.text
    await bot.handle(sam.says("people blah blah"))
    [usage] = gateway.take()
    # Slack spells the commands as bare words.
    assert usage.key == "people.usage" and "\npeople add MOJ" in usage.text and "/people" not in usage.text
