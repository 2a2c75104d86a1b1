"""Secretariat users and their roles: kept in the database, seeded from the
configuration only while no admin exists, managed with `nmrf-bot
secretariat` and by an admin in chat; every chat command, button and
dialogue of the secretariat checks the role and names the one it needs."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.gateway import PlatformRouter
from bot.standins.slack import SlackStandIn
from bot.transports.slack import SlackTransport
from handlers.engine import ConversationEngine
from storage.database import writing
from storage.enums import Platform, SecretariatRole
from storage.errors import Conflict
from storage.models import AuditEntry, ChatIdentity, SecretariatUser
from storage.secretariat import SecretariatUserData, add_secretariat_user, edit_secretariat_user, seed_secretariat_users
from storage.secretariat_invites import create_secretariat_invite
from tests.cli_harness import Cli
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

admin, coordinator, viewer = Person("900"), Person("901"), Person("902")


@pytest.fixture
async def users(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> dict[str, int]:
    """Mary seeds the database as its first admin; she has added Colin, a
    coordinator, and Vera, a viewer."""
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        colin = await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "UTC", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        vera = await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "en", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))
        mary = await session.scalar(select(SecretariatUser).where(SecretariatUser.email == "mary@mfa.example"))
        assert mary is not None and mary.role == SecretariatRole.ADMIN
    return {"mary": mary.id, "colin": colin.id, "vera": vera.id}


def texts(gateway: FakeGateway) -> list[str]:
    return [m.text for m in gateway.take()]


async def test_a_viewer_reads_summaries_and_is_refused_the_rest_naming_the_role(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int]
) -> None:
    assert await chat(bot, gateway, viewer.says("/progress")) == ["secretariat.progress"]
    await bot.handle(viewer.says("/request"))
    [refusal] = gateway.take()
    assert refusal.key == "role.needed"
    assert "coordinator role" in refusal.text and "yours is viewer" in refusal.text
    # Refused before anything started: no dialogue is open, typed words are not a request's text.
    assert await chat(bot, gateway, viewer.says("Please send your figures")) == ["secretariat.help"]
    await bot.handle(viewer.says("/secretariat"))
    [refusal] = gateway.take()
    assert refusal.key == "role.needed" and "admin role" in refusal.text
    # A button of a coordinator's capability, pressed by a viewer (a forwarded or old message).
    await bot.handle(viewer.presses("track:1"))
    [refusal] = gateway.take()
    assert refusal.key == "role.needed" and "coordinator role" in refusal.text


async def test_the_help_lists_what_the_role_may_do(bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int]) -> None:
    await bot.handle(viewer.says("hello"))
    [viewer_help] = texts(gateway)
    await bot.handle(coordinator.says("hello"))
    [coordinator_help] = texts(gateway)
    await bot.handle(admin.says("hello"))
    [admin_help] = texts(gateway)
    assert "(your role: viewer)" in viewer_help and "/progress" in viewer_help and "/report" in viewer_help
    assert "/request:" not in viewer_help and "/secretariat" not in viewer_help
    assert "/request:" in coordinator_help and "/secretariat" not in coordinator_help
    assert "/request:" in admin_help and "/secretariat" in admin_help


async def test_a_coordinator_composes_a_request(bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int]) -> None:
    assert await chat(bot, gateway, coordinator.says("/request")) == ["compose.ask_text"]


async def test_an_admin_adds_a_coordinator_in_chat_after_a_summary(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    await bot.handle(admin.says("/secretariat add Ana Pérez ana@mfa.example coordinator es America/Montevideo"))
    [summary] = gateway.take()
    assert summary.key == "secretariat_users.confirm"
    assert "Ana Pérez <ana@mfa.example>" in summary.text and "as coordinator" in summary.text and "America/Montevideo" in summary.text
    async with sessions() as session:
        assert await session.scalar(select(SecretariatUser).where(SecretariatUser.email == "ana@mfa.example")) is None
    assert await chat(bot, gateway, tap("Confirm", admin)) == ["secretariat_users.added", "secretariat_users.invite"]
    async with sessions() as session:
        ana = await session.scalar(select(SecretariatUser).where(SecretariatUser.email == "ana@mfa.example"))
        assert ana is not None and (ana.role, ana.language, ana.timezone, ana.active) == (
            SecretariatRole.COORDINATOR, "es", "America/Montevideo", True)
        # Recorded as Mary's doing, not the system's.
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.entity == "secretariat_users", AuditEntry.action == "insert")
                                     .order_by(AuditEntry.id.desc()))
        assert entry is not None and entry.actor == f"secretariat:{users['mary']}"
    # The list shows her, with her role.
    await bot.handle(admin.says("/secretariat"))
    [listing] = texts(gateway)
    assert "Ana Pérez <ana@mfa.example>: coordinator (no chat account linked yet)" in listing
    assert "Mary Grant <mary@mfa.example>: admin (Telegram)" in listing


@pytest.mark.parametrize(("command", "key"), [
    ("/secretariat add Ana ana-at-mfa coordinator", "secretariat_users.usage"),
    ("/secretariat add Ana ana@mfa coordinator", "secretariat_users.bad_email"),
    ("/secretariat add Ana ana@mfa.example chief", "secretariat_users.bad_role"),
    ("/secretariat add Ana ana@mfa.example viewer xx", "secretariat_users.bad_language"),
    ("/secretariat add Ana ana@mfa.example viewer es Mars/Olympus", "secretariat_users.bad_timezone"),
    ("/secretariat add Colin colin@mfa.example viewer", "secretariat_users.exists"),
    ("/secretariat role nobody@mfa.example viewer", "secretariat_users.unknown"),
    ("/secretariat promote colin@mfa.example", "secretariat_users.usage"),
])
async def test_bad_input_is_told_specifically_and_nothing_is_proposed(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], command: str, key: str
) -> None:
    assert await chat(bot, gateway, admin.says(command)) == [key]
    # Nothing waits for a Confirm.
    assert await chat(bot, gateway, admin.says("yes")) == ["secretariat.help"]


async def test_the_last_admin_cannot_demote_themselves(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert await chat(bot, gateway, admin.says("/secretariat role mary@mfa.example viewer"), tap("Confirm", admin)) == [
        "secretariat_users.confirm", "secretariat_users.last_admin"]
    async with sessions() as session:
        mary = await session.get(SecretariatUser, users["mary"])
        assert mary is not None and mary.role == SecretariatRole.ADMIN
    # With a second admin, she can; and a removed user no longer reaches the secretariat's commands.
    assert await chat(bot, gateway, admin.says("/secretariat role colin@mfa.example admin"), tap("Confirm", admin),
                      admin.says("/secretariat remove vera@mfa.example"), tap("Confirm", admin)) == [
        "secretariat_users.confirm", "secretariat_users.changed", "secretariat_users.confirm", "secretariat_users.changed"]
    await bot.handle(viewer.says("/progress"))
    assert [m.key for m in gateway.take()] == ["refuse.unknown_user"]


async def test_a_stale_confirm_is_refused(bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int],
                                          sessions: async_sessionmaker[AsyncSession]) -> None:
    await bot.handle(admin.says("/secretariat remove vera@mfa.example"))
    old = gateway.action("Confirm", admin.user_id)
    gateway.take()
    assert await chat(bot, gateway, admin.says("/secretariat remove colin@mfa.example")) == ["secretariat_users.confirm"]
    await bot.handle(admin.presses(old))
    [refusal] = gateway.take()
    # Both confirmations are "a change to the secretariat's users": named once.
    assert refusal.key == "stale.same" and refusal.text.count("a change to the secretariat's users") == 1, refusal.text
    async with sessions() as session:
        assert all(u.active for u in await session.scalars(select(SecretariatUser)))


async def test_the_storage_guards_hold_for_every_caller(sessions: async_sessionmaker[AsyncSession], users: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        with pytest.raises(Conflict, match="last active admin"):
            await edit_secretariat_user(session, "mary@mfa.example", active=False)
        with pytest.raises(Conflict, match="exists already"):
            await add_secretariat_user(session, SecretariatUserData("M", "MARY@mfa.example", "en", "UTC"))
        with pytest.raises(Conflict, match="telegram account 901"):
            await add_secretariat_user(session, SecretariatUserData("X", "x@mfa.example", "en", "UTC", telegram_user_id=901))


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def test_the_cli_manages_users_and_roles(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[[secretariat.users]]\nname = "Mary Grant"\nemail = "mary@mfa.example"\ntelegram_user_id = 900\n', encoding="utf-8")
    cli("db", "upgrade")
    out, _ = cli("secretariat", "add", "Colin Reyes", "colin@mfa.example", "--role", "coordinator", "--timezone", "Europe/Madrid")
    assert "colin@mfa.example>, coordinator" in out
    _, err = cli("secretariat", "add", "Colin Again", "colin@mfa.example", "--role", "viewer", expect=1)
    assert "exists already" in err
    _, err = cli("secretariat", "add", "Nobody", "nobody@mfa.example", "--role", "chief", expect=2)
    assert "chief" in err
    _, err = cli("secretariat", "remove", "mary@mfa.example", expect=1)
    assert "last active admin" in err
    cli("secretariat", "edit", "colin@mfa.example", "--role", "admin")
    out, _ = cli("secretariat", "remove", "mary@mfa.example")
    assert "removed" in out
    out, _ = cli("secretariat", "list", "--format", "json")
    assert [(u["email"], u["role"], u["active"], u["timezone"]) for u in json.loads(out)] == [
        ("colin@mfa.example", "admin", True, "Europe/Madrid"), ("mary@mfa.example", "admin", False, "UTC")]
    # Mary is not seeded back by the configuration that still lists her: Colin is an active admin.
    out, _ = cli("db", "upgrade")
    out, _ = cli("secretariat", "list", "--format", "json", "--active-only")
    assert [u["email"] for u in json.loads(out)] == ["colin@mfa.example"]


def _code(text: str) -> str:
    found = re.search(r"/start (\S+);", text)
    assert found is not None, text
    return found.group(1)


async def test_a_user_added_in_chat_joins_with_their_one_time_invite(
    bot: ConversationEngine, gateway: FakeGateway, clock: FakeClock, users: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    await bot.handle(admin.says("/secretariat add Ana Pérez ana@mfa.example coordinator es"))
    gateway.take()
    await bot.handle(admin.presses(_confirm(gateway)))
    added, invite = gateway.take()
    assert (added.key, invite.key) == ("secretariat_users.added", "secretariat_users.invite")
    code = _code(invite.text)
    ana, intruder = Person("5501"), Person("5502")
    await bot.handle(ana.says(f"/start {code}"))
    [welcome] = gateway.take()
    assert welcome.key == "secretariat_users.welcome" and "Ana Pérez" in welcome.text and "coordinador" in welcome.text
    assert await chat(bot, gateway, ana.says("/request")) == ["compose.ask_text"]
    # Spent: nobody else gets in with it, on any platform.
    assert await chat(bot, gateway, intruder.says(f"/start {code}")) == ["onboarding.bad_code"]
    slack_intruder = Person("U0INTRUDER", platform=Platform.SLACK)
    assert await chat(bot, gateway, slack_intruder.says(f"/start {code}")) == ["onboarding.bad_code"]
    async with sessions() as session:
        holders = (await session.scalars(select(ChatIdentity.platform_user_id).join(SecretariatUser)
                                         .where(SecretariatUser.email == "ana@mfa.example"))).all()
    assert holders == ["5501"]


def _confirm(gateway: FakeGateway) -> str:
    return gateway.action("Confirm", admin.user_id)


async def test_an_invite_expires_and_a_removed_users_invite_is_void(
    bot: ConversationEngine, gateway: FakeGateway, clock: FakeClock, users: dict[str, int]
) -> None:
    await bot.handle(admin.says("/secretariat invite colin@mfa.example"))
    [first] = gateway.take()
    await bot.handle(admin.says("/secretariat invite vera@mfa.example"))
    [second] = gateway.take()
    assert await chat(bot, gateway, admin.says("/secretariat remove vera@mfa.example"), tap("Confirm", admin)) == [
        "secretariat_users.confirm", "secretariat_users.changed"]
    assert await chat(bot, gateway, Person("6601").says(f"/start {_code(second.text)}")) == ["onboarding.bad_code"]
    clock.advance(days=15)
    assert await chat(bot, gateway, Person("6602").says(f"/start {_code(first.text)}")) == ["onboarding.bad_code"]
    assert await chat(bot, gateway, admin.says("/secretariat invite vera@mfa.example")) == ["secretariat_users.invite_removed"]


async def test_two_accounts_sending_one_code_at_once_link_exactly_one(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, users: dict[str, int], gateway: FakeGateway
) -> None:
    async with sessions() as session, session.begin():
        colin = await session.get(SecretariatUser, users["colin"])
        assert colin is not None
        code = await create_secretariat_invite(session, colin, clock())
    engines = [ConversationEngine(sessions, gateway, clock) for _ in range(2)]
    await asyncio.gather(*(e.handle(Person(str(7700 + n)).says(f"/start {code}")) for n, e in enumerate(engines)))
    assert sorted(m.key for m in gateway.take()) == ["onboarding.bad_code", "secretariat_users.welcome"]


def test_the_cli_invites_a_secretariat_user(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[[secretariat.users]]\nname = "Mary Grant"\nemail = "mary@mfa.example"\n', encoding="utf-8")
    cli("db", "upgrade")
    cli("secretariat", "add", "Colin Reyes", "colin@mfa.example", "--role", "viewer")
    out, _ = cli("secretariat", "invite", "colin@mfa.example")
    assert "Telegram: /start " in out and "Slack (a DM to the bot): start " in out
    _, err = cli("secretariat", "invite", "nobody@mfa.example", expect=1)
    assert "no secretariat user" in err


async def test_on_slack_an_admin_invites_in_bare_words_and_the_invitee_joins(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, users: dict[str, int]
) -> None:
    async with sessions() as session, session.begin():
        await edit_secretariat_user(session, "mary@mfa.example", slack_user_id="U0MARY")
    standin = SlackStandIn()
    await standin.start()
    standin.add_user("U0MARY", "mary", "mary@mfa.example")
    standin.add_user("U0COLIN", "colin", "colin.personal@example.org")
    router = PlatformRouter()
    engine = ConversationEngine(sessions, router, clock)
    transport = SlackTransport(standin.bot_token, engine.handle, app_token=standin.app_token, api_url=standin.api_url, mode="socket")
    router.register(transport)
    await transport.start()
    try:
        await standin.wait_for_socket()
        standin.user_writes("U0MARY", "secretariat invite colin@mfa.example")
        (invite,) = await standin.wait_for_messages("U0MARY", 1)
        code = re.search(r"start (\S+) to the bot", invite.shown)
        assert code is not None, invite.shown
        standin.user_writes("U0COLIN", f"start {code.group(1)}")
        (welcome,) = await standin.wait_for_messages("U0COLIN", 1)
        assert "Welcome, Colin Reyes: you are in the NMRF secretariat as coordinator" in welcome.shown
        standin.user_writes("U0COLIN", "secretariat")
        (refusal,) = (await standin.wait_for_messages("U0COLIN", 2))[1:]
        assert "That needs the admin role; yours is coordinator" in refusal.shown
    finally:
        await transport.stop()
        await standin.stop()


async def test_each_secretariat_users_telegram_menu_holds_what_their_role_may_do(
    sessions: async_sessionmaker[AsyncSession], users: dict[str, int]
) -> None:
    from bot.app import BotApp
    from bot.config import Config
    from bot.standins.telegram import TelegramStandIn
    from tests.chat_harness import TELEGRAM_TOKEN

    standin = TelegramStandIn(TELEGRAM_TOKEN)
    await standin.start()
    for user in (900, 901, 902):
        standin.add_user(user, str(user)).started = True
    try:
        app = BotApp(Config.model_validate({"telegram": {"token": TELEGRAM_TOKEN, "base_url": standin.base_url}}), sessions)
        assert app.telegram is not None
        await app.telegram.connect()
        menus = standin.command_menus
        assert {"progress", "report", "request", "secretariat", "mine"} <= set(menus["chat:900"])
        assert {"progress", "request"} <= set(menus["chat:901"]) and "secretariat" not in menus["chat:901"]
        assert "progress" in menus["chat:902"] and not {"request", "requests", "secretariat"} & set(menus["chat:902"])
        assert "progress" not in menus["default"]
        await app.telegram.application.shutdown()
    finally:
        await standin.stop()


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(sessions: async_sessionmaker[AsyncSession], users: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        await edit_secretariat_user(session, "colin@mfa.example", role=SecretariatRole.ADMIN)
    first_locked = asyncio.Event()

    async def demote(who: str, *, hold: bool) -> str:
        try:
            if not hold:
                await first_locked.wait()
            async with writing(sessions) as session:
                await edit_secretariat_user(session, who, role=SecretariatRole.VIEWER)
                if hold:
                    # The first keeps its transaction open while the second tries.
                    first_locked.set()
                    await asyncio.sleep(0.5)
            return "demoted"
        except Conflict as exc:
            return str(exc)

    results = await asyncio.gather(demote("mary@mfa.example", hold=True), demote("colin@mfa.example", hold=False))
    assert results[0] == "demoted" and "last active admin" in results[1]
    async with sessions() as session:
        admins = (await session.scalars(select(SecretariatUser.email).where(SecretariatUser.role == SecretariatRole.ADMIN))).all()
    assert admins == ["colin@mfa.example"]


async def test_a_new_invite_or_a_removal_ends_the_codes_not_yet_used(
    bot: ConversationEngine, gateway: FakeGateway, users: dict[str, int]
) -> None:
    await bot.handle(admin.says("/secretariat invite colin@mfa.example"))
    [leaked] = gateway.take()
    await bot.handle(admin.says("/secretariat invite colin@mfa.example"))
    [latest] = gateway.take()
    assert await chat(bot, gateway, Person("8801").says(f"/start {_code(leaked.text)}")) == ["onboarding.bad_code"]
    await bot.handle(admin.says("/secretariat invite vera@mfa.example"))
    [before_removal] = gateway.take()
    assert await chat(bot, gateway, admin.says("/secretariat remove vera@mfa.example"), tap("Confirm", admin),
                      admin.says("/secretariat restore vera@mfa.example"), tap("Confirm", admin)) == [
        "secretariat_users.confirm", "secretariat_users.changed", "secretariat_users.confirm", "secretariat_users.changed"]
    assert await chat(bot, gateway, Person("8802").says(f"/start {_code(before_removal.text)}")) == ["onboarding.bad_code"]
    assert await chat(bot, gateway, Person("8803").says(f"/start {_code(latest.text)}")) == ["secretariat_users.welcome"]
