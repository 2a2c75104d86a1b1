"""Slack's HTTP Events API at the door: every request is verified on its raw
body before anything reads it, and a bad one is refused with 401 or 400,
never a 500, with nothing stored and nothing it said written to the log.
Over real HTTP: an aiohttp client against the bot's own WebServer and the
real SlackTransport."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.standins.slack import SlackStandIn, sign
from bot.web import SLACK_PATH
from storage import pending
from storage.enums import Platform
from storage.models import ChatIdentity, ConversationState, ProcessedDelivery
from tests.slack_harness import ANA, SlackBot, help_failing_once, mine_held_in_the_lookup, running_slack_bot, spawn_nmrf_bot_run, started_with_ana, stop_run

# What the person typed: it must never reach a log line.
TYPED = "Confidential: the draft law on detention"


@pytest.fixture
async def slack_http(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    async with running_slack_bot(sessions, "http") as bot:
        yield bot


def _event(**changes: object) -> dict[str, object]:
    event = {"type": "message", "channel": "D0ANA", "channel_type": "im", "user": ANA, "text": TYPED, "ts": "1.000001", "team": "T0NMRF"}
    body: dict[str, object] = {"type": "event_callback", "team_id": "T0NMRF", "api_app_id": "A0NMRF", "event_id": "Ev0MALFORMED", "event_time": 1, "event": event}
    body.update(changes)
    return body


def _form(payload: object) -> bytes:
    return urllib.parse.urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()


ACTIONS = {
    "type": "block_actions", "user": {"id": ANA}, "team": {"id": "T0NMRF"}, "trigger_id": "1.T0NMRF.x",
    "channel": {"id": "D0ANA"}, "message": {"text": TYPED, "blocks": []}, "actions": [],
}
SUBMISSION = {
    "type": "view_submission", "user": {"id": ANA}, "team": {"id": "T0NMRF"},
    "view": {"id": "V1", "type": "modal", "callback_id": "nmrf_answer", "private_metadata": '{"channel": 5}',
             "state": {"values": {"answer": {"answer": {"type": "plain_text_input", "value": TYPED}}}}},
}
JSON, FORM = "application/json", "application/x-www-form-urlencoded"

# (what is wrong, content type, raw body): each signed with the right secret.
MALFORMED = [
    ("truncated JSON", JSON, json.dumps(_event()).encode()[:-7]),
    ("a JSON array", JSON, json.dumps([_event()]).encode()),
    ("a JSON string", JSON, json.dumps(TYPED).encode()),
    ("invalid UTF-8", JSON, json.dumps(_event()).encode().replace(b"Confidential", b"Confidenti\xff\xfe")),
    ("a form payload that is not JSON", FORM, _form("{" + TYPED)),
    ("a form payload that is a JSON array", FORM, _form([ACTIONS])),
    ("block_actions with no actions", FORM, _form(ACTIONS)),
    ("block_actions whose action is not an object", FORM, _form({**ACTIONS, "actions": [TYPED]})),
    ("block_actions with nobody pressing", FORM, _form({**ACTIONS, "user": None, "actions": [{"action_id": "nmrf:1", "value": TYPED}]})),
    ("a view_submission with no view", FORM, _form({"type": "view_submission", "user": {"id": ANA}, "team": {"id": "T0NMRF"}, "trigger_id": "t", "text": TYPED})),
    ("an event_callback with no event", JSON, json.dumps({**_event(), "event": TYPED}).encode()),
    ("an event_callback with no event_id", JSON, json.dumps({k: v for k, v in _event().items() if k != "event_id"}).encode()),
    ("a message event whose text is not text", JSON, json.dumps(_event(event={**_event()["event"], "text": {"t": TYPED}})).encode()),  # type: ignore[dict-item]
    ("a slash command with no user", FORM, urllib.parse.urlencode({"command": "/nmrf", "text": TYPED, "trigger_id": "t", "team_id": "T0NMRF"}).encode()),
    ("no type at all", JSON, json.dumps({"text": TYPED}).encode()),
    ("an unknown type", JSON, json.dumps({"type": "surprise", "text": TYPED}).encode()),
    ("url_verification without a challenge", JSON, json.dumps({"type": "url_verification", "token": TYPED}).encode()),
    ("an empty body", JSON, b""),
    ("JSON nested past the parser's depth", JSON, b'{"type": "event_callback", "event": ' + b"[" * 100_000 + TYPED.encode()),
    ("a number too long to read", JSON, b'{"type": "event_callback", "event_time": ' + b"9" * 5000 + b', "text": "' + TYPED.encode() + b'"}'),
    ("a form field given twice", FORM, _form(ACTIONS) + b"&" + _form(ACTIONS)),
    ("a view whose metadata is not JSON", FORM, _form({
        "type": "view_submission", "user": {"id": ANA}, "team": {"id": "T0NMRF"},
        "view": {"id": "V1", "callback_id": "nmrf_answer", "private_metadata": TYPED, "state": {"values": {}}},
    })),
    ("a content type Slack never sends", "text/plain", TYPED.encode()),
    ("a form that is not a form", FORM, b"\xff" + TYPED.encode()),
    # What bolt reads on its own, before and besides the listeners:
    ("a view with no type", FORM, _form({**SUBMISSION, "view": {k: v for k, v in SUBMISSION["view"].items() if k != "type"}})),  # type: ignore[attr-defined]
    ("a view_submission whose response_urls is not a list", FORM, _form({**SUBMISSION, "response_urls": 5})),
    ("an event_callback whose enterprise is a number", JSON, json.dumps(_event(enterprise=5)).encode()),
    ("an event_callback whose authorizations are not a list", JSON, json.dumps(_event(authorizations=5)).encode()),
    ("a block_actions whose event is text", FORM, _form({**ACTIONS, "actions": [{"action_id": "nmrf:1", "value": "v"}], "event": TYPED})),
    # JSON escapes one half of a surrogate pair; no UTF-8 or database holds it.
    ("a lone surrogate in the message's user", JSON, json.dumps(_event(event={**_event()["event"], "user": "\ud800"})).encode()),  # type: ignore[dict-item]
    # A payload of one kind carrying another kind's keys, or a field the listeners read of another type:
    ("an event_callback with a command key", JSON, json.dumps(_event(command="/nmrf")).encode()),
    ("a block_actions with a command key", FORM, _form({**ACTIONS, "actions": [{"action_id": "nmrf:1", "value": "v"}], "command": "/nmrf"})),
    ("a view_submission with a command key", FORM, _form({**SUBMISSION, "command": "/nmrf"})),
    ("a block_actions whose container is text", FORM, _form({**ACTIONS, "actions": [{"action_id": "nmrf:help", "value": "help"}], "container": TYPED})),
    ("a block_actions whose action text is text", FORM, _form({
        **ACTIONS, "actions": [{"action_id": "nmrf:help", "value": "help", "text": TYPED}], "container": {"type": "message", "message_ts": "1.1"},
    })),
    ("a block_actions whose message ts is a number", FORM, _form({**ACTIONS, "actions": [{"action_id": "nmrf:help", "value": "help"}], "message": {"ts": 5, "blocks": []}})),
    ("a block_actions whose message blocks are text", FORM, _form({**ACTIONS, "actions": [{"action_id": "nmrf:help", "value": "help"}], "message": {"blocks": [TYPED]}})),
]


async def _post(bot: SlackBot, body: bytes, content_type: str, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.post(str(bot.standin.request_url), data=body, headers={"Content-Type": content_type, **headers}) as response:
            return response.status, await response.text()


def _signed(bot: SlackBot, body: bytes, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or str(int(bot.clock().timestamp()))
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sign(bot.standin.signing_secret, timestamp, body)}


async def _nothing_stored(bot: SlackBot) -> None:
    async with bot.sessions() as session:
        for table in (ConversationState, ProcessedDelivery):
            assert await session.scalar(select(func.count()).select_from(table)) == 0, table.__name__
        slack_identities = select(func.count()).select_from(ChatIdentity).where(ChatIdentity.platform == Platform.SLACK)
        assert await session.scalar(slack_identities) == 1  # Ana's, from the fixture
    assert bot.standin.messages_to(ANA) == []


def _assert_quiet(caplog: pytest.LogCaptureFixture, body: bytes) -> None:
    """No record at any level holds the body, a piece of it, or what was typed."""
    for record in caplog.records:
        line = record.getMessage() + " " + (record.exc_text or "")
        assert record.exc_info is None, f"a traceback was logged: {line}"
        assert "Confidenti" not in line and "draft law" not in line, f"typed text logged: {line}"
        assert body.decode("utf-8", "replace")[:40] not in line or not body, f"body logged: {line}"


@pytest.mark.parametrize(("what", "content_type", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_a_signed_malformed_request_gets_400(
    slack_http: SlackBot, caplog: pytest.LogCaptureFixture, what: str, content_type: str, body: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = await _post(slack_http, body, content_type, _signed(slack_http, body))
    assert status == 400, what
    await _nothing_stored(slack_http)
    _assert_quiet(caplog, body)
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "127.0.0.1" in warning.getMessage()


def _unsigned_cases(bot: SlackBot, body: bytes) -> list[tuple[str, dict[str, str]]]:
    now = int(bot.clock().timestamp())
    secret = bot.standin.signing_secret

    def headers(timestamp: str, signature: str) -> dict[str, str]:
        return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}

    return [
        ("unsigned", {}),
        ("no timestamp", {"X-Slack-Signature": sign(secret, str(now), body)}),
        ("no signature", {"X-Slack-Request-Timestamp": str(now)}),
        ("another secret", headers(str(now), sign("not-the-secret", str(now), body))),
        ("a tampered body", headers(str(now), sign(secret, str(now), body + b" "))),
        ("stale, 6 minutes old", headers(str(now - 360), sign(secret, str(now - 360), body))),
        ("from the future", headers(str(now + 360), sign(secret, str(now + 360), body))),
        ("timestamp abc", headers("abc", sign(secret, "abc", body))),
        ("timestamp with underscores", headers(f"{now:_}", sign(secret, f"{now:_}", body))),
        ("timestamp with a sign", headers(f"+{now}", sign(secret, f"+{now}", body))),
        ("a huge timestamp", headers("9" * 400, sign(secret, "9" * 400, body))),
        ("another scheme", headers(str(now), sign(secret, str(now), body).replace("v0=", "v1="))),
        ("a signature that is not hex", headers(str(now), "v0=" + "z" * 64)),
    ]


async def test_unsigned_forged_or_stale_requests_get_401_before_anything_is_read(
    slack_http: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies = [(JSON, json.dumps(_event()).encode()), (JSON, json.dumps(_event()).encode()[:-3]), (FORM, _form(ACTIONS)),
              (JSON, b"\xff\xfe" + TYPED.encode())]
    for content_type, body in bodies:
        for what, headers in _unsigned_cases(slack_http, body):
            caplog.clear()
            status, text = await _post(slack_http, body, content_type, headers)
            assert status == 401, what
            assert TYPED not in text
            _assert_quiet(caplog, body)
            (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert "127.0.0.1" in warning.getMessage(), what
    await _nothing_stored(slack_http)


async def test_a_non_ascii_signature_is_refused(slack_http: SlackBot, caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps(_event()).encode()
    now = str(int(slack_http.clock().timestamp()))
    # hmac.compare_digest raises on a non-ASCII str: the header is compared as bytes.
    raw_headers = {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "é" * 64}
    status, _ = await _post(slack_http, body, JSON, raw_headers)
    assert status == 401
    await _nothing_stored(slack_http)
    _assert_quiet(caplog, body)


async def test_url_verification_is_answered_with_its_challenge(slack_http: SlackBot) -> None:
    body = json.dumps({"token": "unused", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}).encode()
    status, text = await _post(slack_http, body, JSON, _signed(slack_http, body))
    assert status == 200
    assert json.loads(text) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    status, _ = await _post(slack_http, body, JSON, {})
    assert status == 401


@pytest.mark.parametrize("body", [
    _event(event={"type": "app_mention", "user": ANA, "text": TYPED, "ts": "1.1", "channel": "C0GENERAL"}),
    _event(event={"type": "message", "subtype": "message_changed", "channel": "D0ANA", "channel_type": "im", "ts": "1.2"}),
    {"type": "app_rate_limited", "token": "unused", "team_id": "T0NMRF", "minute_rate_limited": 1518467820, "api_app_id": "A0NMRF"},
    {"type": "block_actions", "user": {"id": ANA}, "trigger_id": "1.T0NMRF.x", "actions": [{"action_id": "someone_elses_app", "value": TYPED}]},
], ids=["an event the bot does not listen to", "an edit", "app_rate_limited", "a button that is not the bot's"])
async def test_events_the_bot_does_not_handle_get_200_and_are_ignored(
    slack_http: SlackBot, caplog: pytest.LogCaptureFixture, body: dict[str, object]
) -> None:
    caplog.set_level(logging.DEBUG)
    raw, content_type = (_form(body), FORM) if body["type"] == "block_actions" else (json.dumps(body).encode(), JSON)
    status, _ = await _post(slack_http, raw, content_type, _signed(slack_http, raw))
    # Any other answer would make Slack retry it, and in the end switch the app's events off.
    assert status == 200
    await _nothing_stored(slack_http)
    _assert_quiet(caplog, raw)


async def test_slacks_ssl_check_gets_200(slack_http: SlackBot) -> None:
    body = b"ssl_check=1&token=unused"
    assert (await _post(slack_http, body, FORM, _signed(slack_http, body)))[0] == 200
    await _nothing_stored(slack_http)


async def test_a_signed_valid_message_is_handled(slack_http: SlackBot) -> None:
    body = json.dumps(_event(event={**_event()["event"], "text": "help"})).encode()  # type: ignore[dict-item]
    status, _ = await _post(slack_http, body, JSON, _signed(slack_http, body))
    assert status == 200
    (reply,) = slack_http.standin.messages_to(ANA)
    assert reply.shown.startswith("I help you report")


def _help_command(trigger: str, **extra: str) -> str:
    return urllib.parse.urlencode({"command": "/nmrf", "user_id": ANA, "trigger_id": trigger, "text": "help", "team_id": "T0NMRF", **extra})


@pytest.mark.parametrize("body", [
    "{x=1&" + _help_command("1.T0NMRF.brace"),
    _help_command("1.T0NMRF.payload", channel_name="payload-review"),
], ids=["a form that starts with a brace", "a form with 'payload' in a value"])
async def test_a_signed_slash_command_bolt_would_misread_is_handled(slack_http: SlackBot, caplog: pytest.LogCaptureFixture, body: str) -> None:
    # bolt sniffs a body for "{" (JSON) and "payload" (interactivity): it is
    # handed what was parsed here, so it cannot read the form otherwise.
    status, _ = await _post(slack_http, body.encode(), FORM, _signed(slack_http, body.encode()))
    assert status == 200
    (reply,) = await slack_http.standin.wait_for_messages(ANA, 1)
    assert reply.shown.startswith("I help you report")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_request_whose_handling_fails_gets_500_and_slacks_retry_is_handled_once(slack_http: SlackBot, caplog: pytest.LogCaptureFixture) -> None:
    # A 200 sent before the handling, as bolt does by default, would have lost it.
    assert await help_failing_once(slack_http, caplog) == [(0, "500"), (1, "200")]


# --- the real process ------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _run_http_bot(tmp_path: Path, db_url: str, standin: SlackStandIn, port: int) -> asyncio.subprocess.Process:
    process = await spawn_nmrf_bot_run(
        tmp_path, db_url, f'[slack]\napi_url = "{standin.api_url}"\nmode = "http"\n[http]\nhost = "127.0.0.1"\nport = {port}\n',
        {"NMRF_SLACK_BOT_TOKEN": standin.bot_token, "NMRF_SLACK_SIGNING_SECRET": standin.signing_secret},
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.post(f"http://127.0.0.1:{port}{SLACK_PATH}", data=b"") as response:
                    if response.status == 401:
                        return process
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the bot never served the Slack route")


@pytest.mark.fault
@pytest.mark.parametrize("kill_after", [0.5, 3.0], ids=["before the 200", "after the delivery was kept and answered 200"])
async def test_sigkill_while_an_http_event_is_handled_then_a_restart_handles_it_exactly_once(
    tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], kill_after: float,
) -> None:
    # Slack retries at once, then after about a minute: time enough for the restart.
    standin = await started_with_ana(SlackStandIn(retry_delays=(0.0, 8.0, 8.0)), sessions, world["ana"])
    port = _free_port()
    standin.request_url = f"http://127.0.0.1:{port}{SLACK_PATH}"
    process = await _run_http_bot(tmp_path, db_url, standin, port)
    try:
        event_id = await mine_held_in_the_lookup(standin, kill_after)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        process = await _run_http_bot(tmp_path, db_url, standin, port)
        replies = await standin.wait_for_messages(ANA, 4, timeout=60)
        assert replies[0].shown.startswith("Ministry of Justice: 3 recommendations")
        await standin.settle()
        await asyncio.sleep(0.5)
        assert len(standin.messages_to(ANA)) == 4
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedDelivery).where(ProcessedDelivery.delivery_id == event_id)) == 1
            assert await pending.waiting(session, Platform.SLACK) == []
    finally:
        await stop_run(process, standin)
