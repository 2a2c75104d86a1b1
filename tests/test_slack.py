"""Slack end to end: the real slack-bolt AsyncApp and slack_sdk clients over
real HTTP and WebSocket against the local Slack stand-in."""

from __future__ import annotations

import asyncio
from datetime import date
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import Button, ChatAddress, DeliveryProbe, OutgoingMessage, RecipientUnreachable
from bot.gateway import PlatformRouter
from bot.standins.slack import SlackStandIn, sign
from bot.transports.slack_blocks import MAX_BLOCKS, MAX_SECTION_TEXT, render, unescape_incoming
from storage import pending
from storage.conversations import create_invite, first_delivery
from storage.enums import EvidenceKind, ImplementationStatus as S, Platform
from storage.models import ChatIdentity, ConversationState, ProcessedDelivery
from storage.status import history
from tests.factories import answered_before
from tests.chat_harness import ASSIGNED, LONG_ANSWER, TRICKY, SlackPerson
from tests.slack_harness import ANA, FailsOnce, SlackBot, help_failing_once, mine_held_in_the_lookup, running_slack_bot, slack_bot, spawn_nmrf_bot_run, started_with_ana, stop_run


@pytest.fixture
async def slack(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    async with running_slack_bot(sessions, "socket") as bot:
        yield bot


@pytest.fixture
async def slack_http(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    async with running_slack_bot(sessions, "http") as bot:
        yield bot


async def test_a_full_update_over_socket_mode_in_one_form(slack: SlackBot, world: dict[str, int]) -> None:
    ana = SlackPerson(slack.standin, ANA)
    header, *items = await ana.says("mine", expect=4)
    assert header.shown.startswith("Ministry of Justice: 3 recommendations")
    # Open, fill in, Submit: every field in one modal, saved at once.
    (saved,) = await ana.fills_form("Give an update", {
        "status": "partially implemented", "done": "Law 19.580 adopted; 1,200 officers trained.",
        "links": "https://www.impo.com.uy/bases/leyes/19580-2017", "next_step": "Regulatory decree", "next_date": "2027-03-31",
    }, on=items[0])
    assert saved.shown.startswith("Saved: #") and "Regulatory decree, by 31 March 2027" in saved.shown
    form = slack.standin.views[-1]
    assert [b["block_id"] for b in form["blocks"]] == ["status", "done", "links", "next_step", "next_date"]
    assert [b["element"]["type"] for b in form["blocks"]] == ["static_select", "plain_text_input", "plain_text_input", "plain_text_input", "datepicker"]
    # A file afterwards, as evidence of the same update.
    await ana.clicks("Add evidence")
    await ana.uploads("informe-2026.pdf", "application/pdf", 48213)
    (again,) = await ana.clicks("Done")
    assert "informe-2026.pdf" in again.shown

    async with slack.sessions() as session:
        first, update = await history(session, world["mine"])
    assert update.corrects_id == first.id
    assert (update.status, update.narrative, update.next_step, update.next_step_due_on) == (
        S.PARTIALLY_IMPLEMENTED, "Law 19.580 adopted; 1,200 officers trained.", "Regulatory decree", date(2027, 3, 31),
    )
    assert update.channel.value == "slack"
    assert [(e.kind, e.url or e.file_name, e.size_bytes) for e in update.evidence] == [
        (EvidenceKind.LINK, "https://www.impo.com.uy/bases/leyes/19580-2017", None),
        (EvidenceKind.FILE, "informe-2026.pdf", 48213),
    ]
    # Every envelope was acknowledged on the first attempt.
    await slack.standin.settle()
    assert {result for _, _, result in slack.standin.deliveries} == {"ack"}


async def test_from_a_reminder_no_change_is_one_click_and_an_update_three_on_slack(slack: SlackBot, world: dict[str, int]) -> None:
    """Counted as the person clicks: "#N: no change" once; #N, Give an update
    (the form opens), Submit for a full update."""
    one, two = world["mine_all"][0], world["mine_all"][1]
    await answered_before(slack.sessions, "MOJ", one)
    ana = SlackPerson(slack.standin, ANA)
    buttons = ((Button(f"#{one}", f"rec:{one}"), Button(f"#{one}: no change", f"same:{one}")),
               (Button(f"#{two}", f"rec:{two}"), Button(f"#{two}: no change", f"same:{two}")))
    before = len(ana.inbox)
    await slack.transport.send(ChatAddress(Platform.SLACK, ANA, slack.standin.dm_channel(ANA), slack.standin.team_id),
                               OutgoingMessage("reminder.digest", "Reminder: two items", buttons))
    (reminder,) = (await slack.standin.wait_for_messages(ANA, before + 1))[before:]

    def clicks() -> int:
        """What the person sent Slack's way: each click and each form submitted, as the stand-in delivered them."""
        return sum(1 for kind, attempt, _ in slack.standin.deliveries if kind == "interactive" and not attempt)

    start = clicks()
    (noted,) = await ana.clicks(f"#{one}: no change", on=reminder)
    await slack.standin.settle()
    assert noted.shown.startswith(f"Noted: no change on #{one}.") and clicks() - start == 1
    start = clicks()
    (detail,) = await ana.clicks(f"#{two}", on=reminder)
    (saved,) = await ana.fills_form("Give an update", {"status": "in progress", "done": "Bill drafted.", "next_date": "2027-03-15", "next_step": "The vote"}, on=detail)
    await slack.standin.settle()
    # #N, Give an update (the form opens), Submit.
    assert saved.shown.startswith(f"Saved: #{two} is “in progress”.") and clicks() - start == 3
    async with slack.sessions() as session:
        assert [u.status for u in await history(session, one)] == [S.IN_PROGRESS, S.IN_PROGRESS]
        (update,) = await history(session, two)
    assert (update.narrative, update.next_step, update.next_step_due_on) == ("Bill drafted.", "The vote", date(2027, 3, 15))


async def test_the_slash_command_and_dm_words(slack: SlackBot) -> None:
    ana = SlackPerson(slack.standin, ANA)
    assert len(await ana.runs("/nmrf", "mine", expect=4)) == 4
    (help_text,) = await ana.says("help")
    assert "/nmrf" in help_text.shown
    (picker,) = await ana.runs("/nmrf", "language")
    # Every language the bot speaks, each by its own name.
    assert list(picker.buttons) == ["English", "Français", "Español", "العربية", "中文", "Русский", "Português"]
    (done,) = await ana.clicks("Français")
    assert done.shown == "Désormais, je vous écrirai en français."


async def test_onboarding_by_workspace_email(slack: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    from datetime import date

    from storage.enums import FocalPointRole
    from storage.network import FocalPointData, add_focal_point

    async with sessions() as session, session.begin():
        await add_focal_point(session, FocalPointData("Bruno Silva", "MOJ", FocalPointRole.SENIOR, "es", "America/Montevideo", date(2025, 1, 1), "bruno@justicia.example"))
    slack.standin.add_user("U0BRUNO", "bruno", "Bruno@Justicia.example")
    bruno = SlackPerson(slack.standin, "U0BRUNO")
    (welcome,) = await bruno.says("hola")
    assert welcome.shown.startswith("Bienvenido/a, Bruno Silva.") and "Envíe mine para" in welcome.shown
    assert len(await bruno.says("mine", expect=4)) == 4
    # The invite command's path: the bot finds a member by e-mail.
    assert await slack.transport.lookup_by_email("bruno@justicia.example") == "U0BRUNO"
    assert await slack.transport.lookup_by_email("nobody@justicia.example") is None


async def test_onboarding_by_invite_code_on_slack(slack: SlackBot, world: dict[str, int]) -> None:
    async with slack.sessions() as session, session.begin():
        code = await create_invite(session, world["ana"], slack.clock())
    slack.standin.add_user("U0ANA2", "ana.personal", None)
    (welcome,) = await SlackPerson(slack.standin, "U0ANA2").says(f"start {code}")
    assert welcome.shown.startswith("Welcome, Ana Pérez.")


async def test_an_unknown_member_is_refused_and_not_stored(slack: SlackBot) -> None:
    slack.standin.add_user("U0EVE", "eve", "eve@elsewhere.example")
    (refusal,) = await SlackPerson(slack.standin, "U0EVE").says("mine")
    assert refusal.shown == "Sorry, I don't know you yet. Ask your NMRF secretariat for an invitation."
    async with slack.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatIdentity).where(ChatIdentity.platform_user_id == "U0EVE")) == 0
        assert await session.scalar(select(func.count()).select_from(ConversationState).where(ConversationState.platform_user_id == "U0EVE")) == 0


async def test_socket_mode_redelivery_is_handled_once(slack: SlackBot, world: dict[str, int]) -> None:
    ana = SlackPerson(slack.standin, ANA)
    items = (await ana.says("mine", expect=1 + ASSIGNED))[1:]
    await ana.fills_form("Give an update", {"status": "in progress", "done": "Protocol adopted."}, on=items[0])
    await ana.clicks("Add a next step")
    event_id = await ana.writes("Regulations by the ministry")
    # Slack thought the ack was lost: the same event again, retry_attempt 1 and 2.
    slack.standin.redeliver(event_id, reason="timeout")
    slack.standin.redeliver(event_id, reason="timeout")
    await slack.standin.settle()
    before = len(ana.inbox)
    trigger = slack.standin.user_clicks(ANA, ana.last_with("Skip"), "Skip")
    await slack.standin.wait_for_messages(ANA, before + 1)
    slack.standin.redeliver(trigger)
    await slack.standin.settle()
    await asyncio.sleep(0.2)
    assert len(ana.inbox) == before + 1
    async with slack.sessions() as session:
        first, update = await history(session, world["mine"])
    # Had the retry been handled, it would have been taken as the date, or a third update.
    assert (update.narrative, update.next_step, update.next_step_due_on, update.corrects_id) == ("Protocol adopted.", "Regulations by the ministry", None, first.id)
    retries = [(kind, n) for kind, n, _ in slack.standin.deliveries if n]
    assert ("events_api", 1) in retries and ("events_api", 2) in retries


async def test_unacknowledged_envelopes_are_redelivered_and_handled_once(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    bot = await slack_bot(sessions, "socket")
    # Every ack arrives late, so Slack retries each event 3 times; set as a
    # rule, not by a tiny timeout an idle machine could still beat.
    bot.standin.acks_late = True
    try:
        ana = SlackPerson(bot.standin, ANA)
        await ana.says("mine", expect=4)
        await bot.standin.settle()
        await asyncio.sleep(0.2)
        assert len(ana.inbox) == 4
        assert [(n, how) for kind, n, how in bot.standin.deliveries if kind == "events_api"] == [(n, "late ack") for n in range(4)]
    finally:
        await bot.stop()
        await bot.standin.stop()


async def test_a_full_update_over_the_http_events_api(slack_http: SlackBot, world: dict[str, int]) -> None:
    ana = SlackPerson(slack_http.standin, ANA)
    items = (await ana.says("mine", expect=1 + ASSIGNED))[1:]
    await ana.fills_form("Give an update", {"status": "fully implemented", "done": "Done in 2026."}, on=items[2])
    async with slack_http.sessions() as session:
        (update,) = await history(session, world["mine_all"][2])
    assert (update.status, update.narrative) == (S.FULLY_IMPLEMENTED, "Done in 2026.")
    await slack_http.standin.settle()
    assert {status for _, _, status in slack_http.standin.deliveries} == {"200"}


async def test_an_events_api_retry_is_handled_once(slack_http: SlackBot, world: dict[str, int]) -> None:
    ana = SlackPerson(slack_http.standin, ANA)
    items = (await ana.says("mine", expect=1 + ASSIGNED))[1:]
    await ana.fills_form("Give an update", {"status": "in progress"}, on=items[0])
    await ana.clicks("Add a next step")
    event_id = await ana.writes("Bill tabled.")
    replies = len(ana.inbox)
    slack_http.standin.redeliver(event_id)  # X-Slack-Retry-Num: 1, X-Slack-Retry-Reason: http_timeout
    await slack_http.standin.settle()
    await asyncio.sleep(0.2)
    assert len(ana.inbox) == replies
    await ana.clicks("Skip")
    async with slack_http.sessions() as session:
        _, update = await history(session, world["mine"])
    assert (update.next_step, update.evidence) == ("Bill tabled.", [])
    await slack_http.standin.settle()
    assert ("events_api", 1, "200") in slack_http.standin.deliveries


async def test_forged_and_stale_requests_are_rejected_and_nothing_is_stored(slack_http: SlackBot, world: dict[str, int]) -> None:
    import json

    secret = slack_http.standin.signing_secret
    body = json.dumps({
        "type": "event_callback", "team_id": "T0NMRF", "event_id": "EvFORGED", "event_time": 1,
        "event": {"type": "message", "channel": "DANA", "channel_type": "im", "user": ANA, "text": "mine", "ts": "1.1"},
    })
    now = str(int(slack_http.clock().timestamp()))
    stale = str(int(slack_http.clock().timestamp()) - 10 * 60)
    cases = [
        {},  # unsigned
        {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign("not-the-secret", now, body)},
        {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(secret, now, body + " ")},
        {"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": sign(secret, stale, body)},  # replayed
    ]
    async with aiohttp.ClientSession() as http:
        for headers in cases:
            async with http.post(str(slack_http.standin.request_url), data=body, headers={"Content-Type": "application/json", **headers}) as response:
                assert response.status == 401
    await asyncio.sleep(0.2)
    assert slack_http.standin.messages_to(ANA) == []
    async with slack_http.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0


async def test_a_restart_mid_conversation_resumes(slack: SlackBot, world: dict[str, int]) -> None:
    """The form opened before a restart is submitted to the new process."""
    ana = SlackPerson(slack.standin, ANA)
    items = (await ana.says("mine", expect=1 + ASSIGNED))[1:]
    views = len(slack.standin.views)
    slack.standin.user_clicks(ANA, items[1], "Give an update")
    while len(slack.standin.views) == views:
        await asyncio.sleep(0.01)
    await slack.stop()
    await slack.start("socket")
    before = len(ana.inbox)
    slack.standin.user_fills(ANA, slack.standin.views[-1], {"status": "not applicable", "done": "Covered by the 2019 reform."})
    await slack.standin.wait_for_messages(ANA, before + 1)
    async with slack.sessions() as session:
        (update,) = await history(session, world["mine_all"][1])
    assert (update.status, update.narrative) == (S.NOT_APPLICABLE, "Covered by the 2019 reform.")


async def test_a_long_answer_and_markup_kept_verbatim_shown_escaped(slack: SlackBot, world: dict[str, int]) -> None:
    ana = SlackPerson(slack.standin, ANA)
    tricky, long_answer = TRICKY, LONG_ANSWER[:3000]
    items = (await ana.says("mine", expect=1 + ASSIGNED))[1:]
    # Slack's text input holds 3,000 characters: the client refuses more.
    with pytest.raises(AssertionError, match="type that much"):
        await ana.fills_form("Give an update", {"status": "in progress", "done": LONG_ANSWER}, on=items[0])
    (saved,) = await ana.fills_form("Give an update", {"status": "in progress", "done": long_answer, "next_step": tricky}, on=items[0])
    sections = [b for b in saved.blocks if b["type"] == "section"]
    assert len(sections) == 2 and all(len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in sections)
    assert all(b["text"]["type"] == "plain_text" for b in sections)
    assert tricky in saved.shown and long_answer.strip()[:2500] in saved.shown
    assert "&lt;b&gt;bold&lt;/b&gt;" in saved.text and "&amp;amp;" in saved.text
    async with slack.sessions() as session:
        (update,) = await history(session, world["mine"])
    assert update.narrative == long_answer.strip() and update.next_step == tricky


async def test_429_retry_after_is_waited_out_and_the_message_delivered_once(slack: SlackBot) -> None:
    slack.standin.throttle("chat.postMessage", times=2, retry_after=1)
    ana = SlackPerson(slack.standin, ANA)
    (reply,) = await ana.says("help")
    assert reply.shown.startswith("I help you report")
    assert slack.standin.calls.count("chat.postMessage") == 3 and len(ana.inbox) == 1


async def test_a_member_who_left_is_unreachable(slack: SlackBot) -> None:
    slack.standin.add_user("U0GONE", "gone", "gone@justicia.example").deleted = True
    with pytest.raises(RecipientUnreachable, match="user_disabled"):
        await slack.transport.send(ChatAddress(Platform.SLACK, "U0GONE", "", "T0NMRF"), OutgoingMessage("x", "hello"))


@pytest.mark.parametrize("body", ["<html><body>502 Bad Gateway</body></html>", "", '{"ok": tr'])
async def test_an_answer_that_is_not_the_web_apis_json_is_a_failed_send_to_retry(slack: SlackBot, body: str) -> None:
    """Slack's edge in trouble answers an HTML page, nothing, or a cut-off
    body: the send failed, the outbox tries again; no AttributeError from a
    response that has no error field."""
    from handlers.chat_port import DeliveryFailed

    slack.standin.fail("chat.postMessage", 502, body, times=10)
    with pytest.raises(DeliveryFailed, match="HTTP 502"):
        await slack.transport.send(ChatAddress(Platform.SLACK, ANA, "", "T0NMRF"), OutgoingMessage("x", "hello"))


def test_block_kit_limits_are_respected() -> None:
    many_buttons = tuple((Button(f"Recommendation number {i} with a rather long label that goes on and on", f"rec:{i}"),) for i in range(60))
    huge = OutgoingMessage("x", ("A paragraph of a report. " * 200 + "\n\n") * 60, many_buttons)
    rendered = render(huge)
    assert len(rendered) > 1
    for _fallback, blocks in rendered:
        assert len(blocks) <= MAX_BLOCKS
        for block in blocks:
            if block["type"] == "section":
                assert 1 <= len(block["text"]["text"]) <= MAX_SECTION_TEXT
            else:
                assert len(block["elements"]) <= 25
                assert all(len(e["text"]["text"]) <= 75 for e in block["elements"])
                assert len({e["action_id"] for e in block["elements"]}) == len(block["elements"])
    shown = "".join(b["text"]["text"] for _, blocks in rendered for b in blocks if b["type"] == "section")
    assert shown.replace("\n", "").replace(" ", "") == huge.text.replace("\n", "").replace(" ", "")
    values = [e["value"] for _, blocks in rendered for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == [f"rec:{i}" for i in range(60)]


def test_incoming_slack_text_is_given_back_as_typed() -> None:
    assert unescape_incoming("&lt;b&gt;x&lt;/b&gt; &amp;amp; *y*") == "<b>x</b> &amp; *y*"
    assert unescape_incoming("see <https://a.example/x?y=1&amp;z=2|a.example>") == "see https://a.example/x?y=1&z=2"


async def test_after_a_crash_slack_is_asked_whether_the_interrupted_reminder_arrived(slack: SlackBot, sessions: async_sessionmaker[AsyncSession]) -> None:
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from bot.outbox_dispatch import OutboxDispatcher
    from handlers.reminders.working_time import WorkingTime
    from storage import outbox
    from storage.enums import OutboxKind, OutboxStatus
    from storage.models import OutboxMessage
    from tests.fakes import FakeClock

    now = datetime(2026, 11, 23, 13, tzinfo=timezone.utc)
    channel = slack.standin.dm_channel(ANA)
    async with sessions() as session, session.begin():
        for key in ("arrived", "lost"):
            await outbox.enqueue(session, outbox.NewMessage(
                key=key, kind=OutboxKind.REMINDER, platform=Platform.SLACK, workspace_id="T0NMRF", platform_user_id=ANA,
                chat_id=channel, timezone="UTC", message={"key": "x", "text": f"reminder {key}"}, due_at=now,
            ))
        # A process claimed both, began both sends, and died; Slack had taken one of them.
        for row in await outbox.claim(session, "dead:1", now, 10, timedelta(minutes=15)):
            await outbox.mark_started(session, row.id, "dead:1", now)
    address = ChatAddress(Platform.SLACK, ANA, channel, "T0NMRF")
    await slack.transport.send(address, replace(OutgoingMessage("x", "reminder arrived"), outbox_key="arrived"))
    assert await slack.transport.delivered(address, DeliveryProbe("arrived", OutgoingMessage("x", "reminder arrived"))) is True
    assert await slack.transport.delivered(address, DeliveryProbe("lost", OutgoingMessage("x", "reminder lost"))) is False

    clock = FakeClock(now + timedelta(minutes=16))
    router = PlatformRouter()
    router.register(slack.transport)
    await OutboxDispatcher(sessions, router, clock, lambda tz: WorkingTime(tz, working_days=frozenset(range(7)))).drain()
    shown = [m.shown for m in slack.standin.messages_to(ANA)]
    assert sorted(shown) == ["reminder arrived", "reminder lost"]
    async with sessions() as session:
        rows = {r.key: (r.status, r.ambiguous) for r in await session.scalars(select(OutboxMessage))}
    # Slack said which had arrived: each went out exactly once, nothing is left in doubt.
    assert rows == {"arrived": (OutboxStatus.SENT, False), "lost": (OutboxStatus.SENT, False)}


async def test_an_envelope_is_acked_only_after_its_handling_so_a_failure_is_redelivered(slack: SlackBot, caplog: pytest.LogCaptureFixture) -> None:
    # Acknowledged first, the event would have been lost with the failure.
    assert await help_failing_once(slack, caplog) == [(0, "timeout"), (1, "ack")]


@pytest.mark.parametrize(("kind", "payload"), [
    ("interactive", {"type": "block_actions", "user": {"id": ANA}, "trigger_id": "1.T0NMRF.x", "actions": [], "message": {"text": "Confidential"}}),
    ("events_api", {"type": "event_callback", "event_id": "Ev0BAD", "event": {"type": "message", "channel": "D0ANA", "channel_type": "im", "user": ANA, "text": ["Confidential"]}}),
    ("slash_commands", {"command": "/nmrf", "text": "Confidential", "team_id": "T0NMRF"}),
    ("events_api", {"type": "event_callback", "event_id": "Ev0BAD", "command": "/nmrf", "event": {"type": "message", "channel": "D0ANA", "channel_type": "im", "user": ANA, "text": "Confidential"}}),
    ("interactive", {"type": "block_actions", "user": {"id": ANA}, "trigger_id": "1.T0NMRF.x", "container": "Confidential", "actions": [{"action_id": "nmrf:help", "value": "help"}]}),
    ("interactive", {"type": "block_actions", "user": {"id": ANA}, "trigger_id": "1.T0NMRF.x", "actions": [{"action_id": "nmrf:help", "value": "help", "text": "Confidential"}]}),
], ids=["block_actions with no actions", "text that is not text", "a command with no user", "an event with a command key", "a container that is text", "an action text that is text"])
async def test_a_malformed_envelope_is_acked_and_ignored(slack: SlackBot, caplog: pytest.LogCaptureFixture, kind: str, payload: dict[str, object]) -> None:
    caplog.set_level(logging.INFO)
    slack.standin.sends(kind, payload)
    await slack.standin.settle()
    # Acknowledged: delivered again, it would be just as malformed.
    assert slack.standin.deliveries == [(kind, 0, "ack")]
    assert slack.standin.messages_to(ANA) == []
    async with slack.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedDelivery)) == 0
    assert not [r for r in caplog.records if r.exc_info or "Confidential" in r.getMessage()]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [m for m in [r.getMessage() for r in caplog.records] if m.startswith("slack socket: envelope ignored: malformed")]


async def _kept(bot: SlackBot) -> list[str]:
    async with bot.sessions() as session:
        return [row.delivery_id for row in await pending.waiting(session, Platform.SLACK)]


async def test_handling_past_slacks_3_seconds_is_kept_then_acked_in_time_and_done_once(slack: SlackBot) -> None:
    slack.transport._ack_within = 0.3
    slack.standin.ack_timeout = 2.0
    slack.standin.slow("users.info", 3.0)
    event_id = slack.standin.user_writes(ANA, "help")
    await asyncio.sleep(1.5)
    # Acknowledged (within the stand-in's 2 s) because it is kept, not yet handled.
    assert [(n, how) for kind, n, how in slack.standin.deliveries if kind == "events_api"] == [(0, "ack")]
    assert await _kept(slack) == [event_id] and slack.standin.messages_to(ANA) == []
    (reply,) = await slack.standin.wait_for_messages(ANA, 1)
    assert reply.shown.startswith("I help you report")
    await slack.standin.settle()
    await asyncio.sleep(0.1)
    assert await _kept(slack) == []
    assert len(slack.standin.deliveries) == 1


async def test_what_a_dead_process_kept_is_handled_once_at_the_next_start(slack: SlackBot) -> None:
    """Kept and acknowledged, then the process died: Slack will not send it
    again, so the next start handles it; one that had committed is not redone."""
    await slack.stop()
    body = {
        "type": "event_callback", "team_id": "T0NMRF", "event_id": "Ev0KEPT", "event_time": 1,
        "event": {"type": "message", "channel": "D0ANA", "channel_type": "im", "user": ANA, "text": "help", "ts": "1.000001"},
    }
    committed = {**body, "event_id": "Ev0DONE"}
    async with slack.sessions() as session, session.begin():
        for kept in (body, committed):
            await pending.keep(session, Platform.SLACK, str(kept["event_id"]), kept, slack.clock())
        await first_delivery(session, Platform.SLACK, "Ev0DONE", slack.clock())
    await slack.start("socket")
    (reply,) = slack.standin.messages_to(ANA)
    assert reply.shown.startswith("I help you report")
    assert await _kept(slack) == []


# --- the real process ------------------------------------------------------------

async def _run_bot(tmp_path: Path, db_url: str, standin: SlackStandIn) -> asyncio.subprocess.Process:
    process = await spawn_nmrf_bot_run(
        tmp_path, db_url, f'[slack]\napi_url = "{standin.api_url}"\n',
        {"NMRF_SLACK_BOT_TOKEN": standin.bot_token, "NMRF_SLACK_APP_TOKEN": standin.app_token},
    )
    await standin.wait_for_socket(timeout=60)
    return process


async def _killed(process: asyncio.subprocess.Process, standin: SlackStandIn) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()
    while standin.socket_connected:
        await asyncio.sleep(0.01)


@pytest.mark.fault
@pytest.mark.parametrize("kill_after", [0.5, 3.0], ids=["before the ack", "after the delivery was kept and acked"])
async def test_sigkill_while_a_message_is_handled_then_a_restart_handles_it_exactly_once(
    tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], kill_after: float,
) -> None:
    standin = await started_with_ana(SlackStandIn(), sessions, world["ana"])
    process = await _run_bot(tmp_path, db_url, standin)
    try:
        event_id = await mine_held_in_the_lookup(standin, kill_after)
        await _killed(process, standin)
        process = await _run_bot(tmp_path, db_url, standin)
        replies = await standin.wait_for_messages(ANA, 4, timeout=60)
        assert replies[0].shown.startswith("Ministry of Justice: 3 recommendations")

        # Held after it committed, while the reply is being posted.
        standin.slow("chat.postMessage", 2)
        posts = standin.calls.count("chat.postMessage")
        standin.user_writes(ANA, "help")
        while standin.calls.count("chat.postMessage") == posts:
            await asyncio.sleep(0.01)
        await _killed(process, standin)
        process = await _run_bot(tmp_path, db_url, standin)
        await standin.settle()
        await asyncio.sleep(0.5)
        shown = [m.shown for m in standin.messages_to(ANA)]
        assert len(shown) == 5 and shown[4].startswith("I help you report"), shown
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedDelivery).where(ProcessedDelivery.delivery_id == event_id)) == 1
            assert await pending.waiting(session, Platform.SLACK) == []
    finally:
        await stop_run(process, standin)


async def test_a_kept_delivery_whose_handling_fails_is_tried_again(slack: SlackBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.transports.slack.KEPT_RETRY_SECONDS", (0.2, 0.2))
    slack.transport._ack_within = 0.3
    slack.standin.slow("users.info", 0.6)
    # The e-mail look-up outlasts the budget, so the failure comes after the ack.
    flaky = FailsOnce(slack)
    slack.standin.user_writes(ANA, "help")
    (reply,) = await slack.standin.wait_for_messages(ANA, 1)
    assert reply.shown.startswith("I help you report")
    await slack.standin.settle()
    await asyncio.sleep(0.3)
    assert flaky.calls == 2 and await _kept(slack) == []
    assert [(n, how) for kind, n, how in slack.standin.deliveries if kind == "events_api"] == [(0, "ack")]


async def test_web_api_calls_share_kept_alive_connections(slack: SlackBot) -> None:
    """One HTTP session for the Web API: a turn's users.info, chat.postMessage
    and views.publish go over connections already open, not one new TCP
    connection (and session) per call as slack_sdk makes without one."""
    ana = SlackPerson(slack.standin, ANA)
    slack.standin.api_connections.clear()
    before = len(slack.standin.calls)
    for _ in range(4):
        (reply,) = await ana.says("help")
        assert reply.shown.startswith("I help you report")
    await slack.standin.settle()
    calls = len(slack.standin.calls) - before
    assert calls >= 5
    # Two at most: a Home publish may run beside a reply.
    assert len(slack.standin.api_connections) <= 2, (calls, slack.standin.api_connections)


async def test_a_web_api_call_still_times_out_over_the_shared_session(slack: SlackBot) -> None:
    """The shared session keeps slack_sdk's per-call limit (client.timeout):
    an answer that does not come is given up on, not waited for for ever."""
    await slack.transport.stop()
    slack.transport.client.timeout = 1
    await slack.transport.start()
    slack.standin.slow("chat.postMessage", 5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(asyncio.TimeoutError):
        await slack.transport.send(ChatAddress(Platform.SLACK, ANA, "", "T0NMRF"), OutgoingMessage("x", "hello"))
    assert loop.time() - started < 4


async def test_a_stop_closes_the_web_api_session(slack: SlackBot) -> None:
    session = slack.transport.client.session
    assert session is not None and not session.closed
    await slack.transport.stop()
    assert session.closed and slack.transport.client.session is None
    await slack.transport.start()
    assert slack.transport.client.session is not None and not slack.transport.client.session.closed
