"""No way in through an invite: a code is spent by the first account linked
for its focal point on a platform (an e-mail match included), a second
account there needs a new invite, which moves the access and tells the old
account; the audit log names who really acted. Over the real adapters and
the stand-ins, and `focal-points invite` as a real process."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, UTC
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.gateway import PlatformRouter
from bot.invites import invite
from bot.outbox_dispatch import OutboxDispatcher
from bot.standins.slack import SlackStandIn
from bot.standins.telegram import TelegramStandIn
from bot.transports.slack import SlackTransport
from handlers.chat_port import OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from storage.audit import acting_as, current_actor
from storage.conversations import create_invite
from storage.database import create_engine, session_factory
from storage import outbox
from storage.enums import FocalPointRole, OutboxKind, Platform
from storage.models import AuditEntry, ChatIdentity, ConversationState, Invite, OutboxMessage
from storage.network import FocalPointData, add_focal_point
from tests.chat_harness import TELEGRAM_TOKEN, LiveTelegram, SlackPerson, TelegramPerson, live_telegram
from tests.fakes import FakeClock

NMRF_BOT = str(Path(sys.executable).with_name("nmrf-bot"))
ANA = "U0ANA"
USED = "This invitation is not valid, has been used or has expired. Ask the secretariat for a new one."


@dataclass
class SlackBot:
    standin: SlackStandIn
    transport: SlackTransport
    engine: ConversationEngine


@pytest.fixture
async def slack(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    """The bot on Socket Mode, Ana in the workspace but not linked on Slack
    yet; started as `nmrf-bot run` starts it, under the CLI user's name."""
    standin = SlackStandIn()
    await standin.start()
    standin.add_user(ANA, "ana.perez", "ana@justicia.example")
    router = PlatformRouter()
    engine = ConversationEngine(sessions, router, FakeClock())
    transport = SlackTransport(standin.bot_token, engine.handle, app_token=standin.app_token, api_url=standin.api_url)
    router.register(transport)
    with acting_as("cli:root"):
        await transport.start()
    await standin.wait_for_socket()
    yield SlackBot(standin, transport, engine)
    await transport.stop()
    await standin.stop()


async def _bruno(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session, session.begin():
        bruno = await add_focal_point(session, FocalPointData(
            "Bruno Silva", "MOJ", FocalPointRole.SENIOR, "es", "America/Montevideo", date(2025, 1, 1), "bruno@justicia.example",
        ))
        return bruno.id


@asynccontextmanager
async def _bruno_on_two_phones(sessions: async_sessionmaker[AsyncSession], bruno: int, clock: FakeClock) -> AsyncIterator[tuple[LiveTelegram, TelegramPerson, TelegramPerson]]:
    """Bruno linked by a first invite on his old phone (4242), a new one (4343) not yet."""
    async with sessions() as session, session.begin():
        first = await create_invite(session, bruno, clock())
    async with live_telegram(sessions, clock) as live:
        old, new = TelegramPerson(live.standin, 4242), TelegramPerson(live.standin, 4343)
        live.standin.add_user(4242, "Bruno")
        live.standin.add_user(4343, "Bruno, new phone")
        await old.says(f"/start {first}")
        yield live, old, new


async def _accounts(sessions: async_sessionmaker[AsyncSession], focal_point_id: int, platform: Platform) -> list[str]:
    async with sessions() as session:
        return sorted((await session.scalars(
            select(ChatIdentity.platform_user_id).where(ChatIdentity.focal_point_id == focal_point_id, ChatIdentity.platform == platform)
        )).all())


async def _stored_about(sessions: async_sessionmaker[AsyncSession], user_id: str) -> int:
    async with sessions() as session:
        identities = await session.scalar(select(func.count()).select_from(ChatIdentity).where(ChatIdentity.platform_user_id == user_id))
        states = await session.scalar(select(func.count()).select_from(ConversationState).where(ConversationState.platform_user_id == user_id))
    return int(identities or 0) + int(states or 0)


async def _actors(sessions: async_sessionmaker[AsyncSession], entity: str) -> list[str]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEntry.actor).where(AuditEntry.entity == entity).order_by(AuditEntry.id))).all())


# --- one-time ------------------------------------------------------------------


async def test_a_code_the_email_match_spent_lets_no_other_slack_account_in(slack: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    clock = FakeClock()
    # What `focal-points invite` does: the member found by e-mail is linked and welcomed.
    invitation = await invite(sessions, "ana@justicia.example", clock(), slack=slack.transport)
    assert invitation.slack_user_id == ANA
    assert slack.standin.messages_to(ANA)[0].shown.startswith("Welcome, Ana Pérez.")
    slack.standin.add_user("U0EVE", "eve", "eve@elsewhere.example")
    (refusal,) = await SlackPerson(slack.standin, "U0EVE").says(f"start {invitation.code}")
    assert refusal.shown == USED
    assert await _accounts(sessions, world["ana"], Platform.SLACK) == [ANA]
    assert await _stored_about(sessions, "U0EVE") == 0
    # The slash command is the same way in, and just as closed.
    (refusal,) = await SlackPerson(slack.standin, "U0EVE").runs("/nmrf", f"start {invitation.code}")
    assert refusal.shown == USED
    assert await _stored_about(sessions, "U0EVE") == 0
    assert len(await SlackPerson(slack.standin, ANA).says("mine", expect=4)) == 4


async def test_an_email_match_spends_the_pending_slack_invite(slack: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        code = await create_invite(session, world["ana"], FakeClock()())
    (welcome,) = await SlackPerson(slack.standin, ANA).says("hello")
    assert welcome.shown.startswith("Welcome, Ana Pérez.")
    slack.standin.add_user("U0EVE", "eve", None)
    (refusal,) = await SlackPerson(slack.standin, "U0EVE").says(f"start {code}")
    assert refusal.shown == USED
    assert await _accounts(sessions, world["ana"], Platform.SLACK) == [ANA]
    assert await _stored_about(sessions, "U0EVE") == 0


async def test_a_second_account_with_the_same_email_needs_a_new_invite(slack: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    await SlackPerson(slack.standin, ANA).says("hello")
    # Another workspace account showing Ana's address (a renamed or shared mailbox).
    slack.standin.add_user("U0ANA2", "ana.two", "ana@justicia.example")
    (refusal,) = await SlackPerson(slack.standin, "U0ANA2").says("hello")
    assert refusal.shown == (
        "This e-mail address already belongs to a focal point connected from another account. "
        "To move the access to this account, ask the secretariat for a new invitation."
    )
    assert await _accounts(sessions, world["ana"], Platform.SLACK) == [ANA]
    assert await _stored_about(sessions, "U0ANA2") == 0


async def test_a_reused_telegram_deep_link_or_an_older_invite_lets_no_other_account_in(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    bruno, clock = await _bruno(sessions), FakeClock()
    async with sessions() as session, session.begin():
        older = await create_invite(session, bruno, clock())
        code = await create_invite(session, bruno, clock())
    async with live_telegram(sessions, clock) as live:
        for user in (4242, 4343, 4444):
            live.standin.add_user(user, str(user))
        (welcome,) = await TelegramPerson(live.standin, 4242).says(f"/start {code}")
        assert welcome.text.startswith("Bienvenido/a, Bruno Silva.")
        (refusal,) = await TelegramPerson(live.standin, 4343).says(f"/start {code}")
        assert refusal.text == USED
        # An invite made before the account was linked is spent by that link too.
        (refusal,) = await TelegramPerson(live.standin, 4444).says(f"/start {older}")
        assert refusal.text == USED
    assert await _accounts(sessions, bruno, Platform.TELEGRAM) == ["4242"]
    assert await _stored_about(sessions, "4343") + await _stored_about(sessions, "4444") == 0


# --- a new invite moves the access -------------------------------------------------


async def test_a_new_invite_moves_the_access_and_tells_the_old_account_once_in_its_hours(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    bruno = await _bruno(sessions)
    # Monday 19:00 in Montevideo: after Bruno's working hours.
    clock = FakeClock(datetime(2026, 11, 23, 22, 0, tzinfo=UTC))
    async with _bruno_on_two_phones(sessions, bruno, clock) as (live, old, new):
        async with sessions() as session, session.begin():
            second = await create_invite(session, bruno, clock())
        (welcome,) = await new.says(f"/start {second}")
        assert welcome.text.startswith("Bienvenido/a, Bruno Silva.")
        assert await _accounts(sessions, bruno, Platform.TELEGRAM) == ["4343"]
        # The old account is a stranger now.
        (refusal,) = await old.says("/mine")
        assert refusal.text == "Sorry, I don't know you yet. Ask your NMRF secretariat for an invitation."
        dispatcher = live.dispatcher(sessions, clock, Policy().working_time)
        told_before = len(old.inbox)
        assert await dispatcher.drain() == 0
        clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
        assert await dispatcher.drain() == 1
        assert await dispatcher.drain() == 0
        (notice,) = old.inbox[told_before:]
        assert notice.text == (
            "Su acceso como Bruno Silva (Ministry of Justice) fue trasladado a otra cuenta por la secretaría. "
            "Esta cuenta ya no recibirá mensajes del bot. Si usted no lo pidió, comuníquese con la secretaría del mecanismo nacional."
        )
        assert [m.text for m in new.inbox] == [welcome.text]


async def test_the_invite_command_moves_a_slack_access_to_the_member_found_by_email(slack: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    clock = FakeClock()
    await invite(sessions, "ana@justicia.example", clock(), slack=slack.transport)
    # Ana's address now belongs to her new account; the old one left the address behind.
    slack.standin.users[ANA].email = "ana.old@justicia.example"
    slack.standin.add_user("U0ANANEW", "ana.new", "ana@justicia.example")
    invitation = await invite(sessions, "ana@justicia.example", clock(), slack=slack.transport)
    assert invitation.slack_user_id == "U0ANANEW"
    assert await _accounts(sessions, world["ana"], Platform.SLACK) == ["U0ANANEW"]
    async with sessions() as session:
        (notice,) = (await session.scalars(select(OutboxMessage).where(OutboxMessage.platform_user_id == ANA))).all()
    assert notice.message["key"] == "onboarding.moved"
    assert notice.message["text"].startswith("Your access as Ana Pérez (Ministry of Justice) was moved to another account by the secretariat.")


# --- who acted --------------------------------------------------------------------


async def test_the_audit_log_names_the_account_and_focal_point_not_the_cli_user(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    bruno, clock = await _bruno(sessions), FakeClock()
    async with sessions() as session, session.begin():
        code = await create_invite(session, bruno, clock())
    # `nmrf-bot run` is a CLI command: the whole process runs as its user.
    with acting_as("cli:root"):
        async with live_telegram(sessions, clock, users=(111,)) as live:
            ana = TelegramPerson(live.standin, 111)
            await ana.presses("Español", on=(await ana.says("/language"))[0])
            live.standin.add_user(4242, "Bruno")
            await TelegramPerson(live.standin, 4242).says(f"/start {code}")
    assert (await _actors(sessions, "focal_points"))[-1] == f"telegram:111 focal_point:{world['ana']}"
    assert (await _actors(sessions, "chat_identities"))[-1] == f"telegram:4242 focal_point:{bruno}"


async def test_the_audit_log_names_the_slack_account(slack: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    ana = SlackPerson(slack.standin, ANA)
    await ana.says("hello")
    await ana.clicks("Español", on=(await ana.says("language"))[0])
    actor = f"slack:T0NMRF/{ANA} focal_point:{world['ana']}"
    assert (await _actors(sessions, "chat_identities"))[-1] == actor
    assert (await _actors(sessions, "focal_points"))[-1] == actor


# --- `focal-points invite` when Slack fails -------------------------------------------------

FAULTS = {
    "html 502 on lookup": ("users.lookupByEmail", 502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "empty body on lookup": ("users.lookupByEmail", 200, "application/json", ""),
    "truncated json on lookup": ("users.lookupByEmail", 200, "application/json", '{"ok": true, "user": {"id": "U0'),
    "json 503 on lookup": ("users.lookupByEmail", 503, "application/json", '{"ok": false, "error": "service_unavailable"}'),
    "html 500 on conversations.open": ("conversations.open", 500, "text/html", "<html>Internal Server Error</html>"),
    "html 502 on the welcome": ("chat.postMessage", 502, "text/html", "<html><body>502</body></html>"),
    # ok, and not what the Web API says it answers:
    "ok with no user on lookup": ("users.lookupByEmail", 200, "application/json", '{"ok": true}'),
    "ok with a user id that is a number": ("users.lookupByEmail", 200, "application/json", '{"ok": true, "user": {"id": 5}}'),
    "ok with no channel on conversations.open": ("conversations.open", 200, "application/json", '{"ok": true}'),
    "ok with a channel that is text": ("conversations.open", 200, "application/json", '{"ok": true, "channel": "D1"}'),
}


async def _run_invite(tmp_path: Path, db_url: str, api_url: str, bot_token: str) -> tuple[int, str, str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[slack]\napi_url = "{api_url}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NMRF_")}
    env.update({"NMRF_DATABASE_URL": db_url, "NMRF_SLACK_BOT_TOKEN": bot_token, "NMRF_SLACK_APP_TOKEN": "xapp-1-A0NMRF-3333-standinapptoken"})
    process = await asyncio.create_subprocess_exec(
        NMRF_BOT, "--config", str(config), "focal-points", "invite", "ana@justicia.example",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 90)
    return int(process.returncode or 0), stdout.decode(), stderr.decode()


async def _nothing_left(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invite)) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert await _accounts(sessions, world["ana"], Platform.SLACK) == []


async def _refused_line(tmp_path: Path, db_url: str, standin: SlackStandIn, trouble: Callable[[SlackStandIn], object]) -> tuple[str, str, str]:
    """`focal-points invite` for Ana against the stand-in, in the ``trouble``
    given: it must fail in one line; (that line, stdout, stderr)."""
    await standin.start()
    standin.add_user(ANA, "ana.perez", "ana@justicia.example")
    trouble(standin)
    try:
        code, out, err = await _run_invite(tmp_path, db_url, standin.api_url, standin.bot_token)
    finally:
        await standin.stop()
    assert code == 1, out + err
    (line,) = err.splitlines()
    return line, out, err


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_invite_says_in_one_line_what_slack_answered_and_leaves_nothing(fault: str, tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    method, status, content_type, body = FAULTS[fault]
    standin = SlackStandIn()
    line, out, err = await _refused_line(tmp_path, db_url, standin, lambda s: s.fail(method, status, body, content_type=content_type))
    assert line.startswith("error: Slack ") and f"HTTP {status}" in line and method in line, line
    assert line.endswith("no invitation was made"), line
    assert "Traceback" not in err and standin.bot_token not in err and out == ""
    await _nothing_left(sessions, world)


async def test_invite_when_slack_keeps_saying_429(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    line, _, _ = await _refused_line(tmp_path, db_url, SlackStandIn(), lambda s: s.throttle("users.lookupByEmail", 50, retry_after=1))
    assert line == "error: Slack refused users.lookupByEmail (HTTP 429: ratelimited); no invitation was made"
    await _nothing_left(sessions, world)


async def test_invite_when_slack_is_unreachable(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    standin = SlackStandIn()
    await standin.start()
    api_url = standin.api_url
    await standin.stop()  # nothing listens there any more
    code, out, err = await _run_invite(tmp_path, db_url, api_url, standin.bot_token)
    assert code == 1, out + err
    (line,) = err.splitlines()
    assert line.startswith("error: cannot reach Slack at http://127.0.0.1:") and line.endswith("; no invitation was made"), line
    assert "database" not in line
    await _nothing_left(sessions, world)


async def test_invite_still_links_and_welcomes_when_slack_answers(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    standin = SlackStandIn()
    await standin.start()
    standin.add_user(ANA, "ana.perez", "ana@justicia.example")
    try:
        code, out, err = await _run_invite(tmp_path, db_url, standin.api_url, standin.bot_token)
        assert code == 0, err
        (welcome,) = standin.messages_to(ANA)
    finally:
        await standin.stop()
    assert "matched by e-mail as U0ANA; linked and welcomed" in out and welcome.shown.startswith("Welcome, Ana Pérez.")
    assert await _accounts(sessions, world["ana"], Platform.SLACK) == [ANA]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invite)) == 1
        # The CLI user sent the invite; the audit says so.
        actor = await session.scalar(select(AuditEntry.actor).where(AuditEntry.entity == "chat_identities").order_by(AuditEntry.id.desc()))
    assert actor is not None and actor.startswith("cli")


async def test_what_the_bot_starts_on_its_own_acts_as_the_system(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    seen: list[str] = []

    def watched() -> AsyncSession:
        # Who the audit would name for anything written in this session.
        seen.append(current_actor())
        return sessions()

    clock = FakeClock()
    watched_sessions = cast(async_sessionmaker[AsyncSession], watched)
    engine = ConversationEngine(watched_sessions, PlatformRouter(), clock)
    reminders = ReminderService(watched_sessions, Policy(), clock)
    dispatcher = OutboxDispatcher(watched_sessions, PlatformRouter(), clock, Policy().working_time)
    # `nmrf-bot run` starts the scheduler's jobs and the outbox as its CLI user.
    with acting_as("cli:root"):
        await engine.expire_abandoned()
        await engine.forget_old_deliveries()
        await reminders.tick()
        await dispatcher.recover()
        await dispatcher.run_once()
    assert seen and set(seen) == {"system:dialogues", "system:deliveries", "system:reminders", "system:outbox"}


def test_the_terminal_chat_names_who_typed_and_as_whom(db_url: str, world: dict[str, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.setattr("getpass.getuser", lambda: "maria")
    # /language, then the third button: Español.
    monkeypatch.setattr("sys.stdin", io.StringIO("/language\n3\n/quit\n"))
    main(["chat", "--as", "ana@justicia.example"], clock=FakeClock())
    assert "A partir de ahora le escribiré en español." in capsys.readouterr().out
    assert asyncio.run(_last_actor(db_url, "focal_points")) == f"terminal:cli:maria focal_point:{world['ana']}"


async def _last_actor(db_url: str, entity: str) -> str | None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            return await session.scalar(select(AuditEntry.actor).where(AuditEntry.entity == entity).order_by(AuditEntry.id.desc()))
    finally:
        await engine.dispose()


async def test_invite_with_telegram_refusing_the_token_or_unreachable(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    telegram = TelegramStandIn(TELEGRAM_TOKEN)
    await telegram.start()
    wrong = "987654321:AAwrongwrongwrongwrongwrongwrongwrong"
    config = tmp_path / "config.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NMRF_")}
    try:
        results = []
        for base_url, token in ((telegram.base_url, wrong), ("http://127.0.0.1:9/bot", TELEGRAM_TOKEN)):
            config.write_text(f'[telegram]\nbase_url = "{base_url}"\n', encoding="utf-8")
            process = await asyncio.create_subprocess_exec(
                NMRF_BOT, "--config", str(config), "focal-points", "invite", "ana@justicia.example",
                env={**env, "NMRF_DATABASE_URL": db_url, "NMRF_TELEGRAM_TOKEN": token},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            _, stderr = await asyncio.wait_for(process.communicate(), 90)
            results.append((process.returncode, stderr.decode()))
    finally:
        await telegram.stop()
    (refused_code, refused), (unreachable_code, unreachable) = results
    assert refused_code == unreachable_code == 1
    assert refused == "error: Telegram rejected the bot token (getMe answered 401/404); no invitation was made\n"
    (line,) = unreachable.splitlines()
    assert line.startswith("error: cannot reach Telegram at http://127.0.0.1:9/bot") and line.endswith("; no invitation was made"), line
    for secret in (wrong, wrong.split(":")[1], TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1]):
        assert secret not in refused + unreachable
    await _nothing_left(sessions, world)


async def test_what_was_queued_for_the_old_account_goes_to_the_new_one(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    bruno, clock = await _bruno(sessions), FakeClock()
    async with _bruno_on_two_phones(sessions, bruno, clock) as (live, old, new):
        async with sessions() as session, session.begin():
            identity = await session.scalar(select(ChatIdentity.id).where(ChatIdentity.platform_user_id == "4242"))
            await outbox.enqueue(session, outbox.NewMessage(
                key="digest:test", kind=OutboxKind.REMINDER, platform=Platform.TELEGRAM, workspace_id="", platform_user_id="4242",
                chat_id="4242", timezone="America/Montevideo", message=OutgoingMessage("test.digest", "Tres recomendaciones vencen.").to_dict(),
                due_at=clock(), identity_id=identity, focal_point_id=bruno,
            ))
            second = await create_invite(session, bruno, clock())
        await new.says(f"/start {second}")
        assert await live.dispatcher(sessions, clock, Policy().working_time).drain() == 2
    assert [m.text for m in new.inbox][-1] == "Tres recomendaciones vencen."
    assert [m.text for m in old.inbox][-1].startswith("Su acceso como Bruno Silva")
    assert "Tres recomendaciones vencen." not in [m.text for m in old.inbox]
