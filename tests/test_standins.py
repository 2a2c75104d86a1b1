"""The stand-ins answer as the real APIs do, seen through the real clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Bot
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken, RetryAfter

from bot.standins.slack import SlackStandIn
from bot.standins.telegram import TelegramStandIn
from tests.chat_harness import TELEGRAM_TOKEN


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStandIn]:
    standin = TelegramStandIn(TELEGRAM_TOKEN)
    await standin.start()
    standin.add_user(111, "Ana").started = True
    yield standin
    await standin.stop()


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    standin = SlackStandIn()
    await standin.start()
    standin.add_user("U0ANA", "ana", "ana@justicia.example")
    yield standin
    await standin.stop()


async def test_get_updates_offset_limit_and_timeout(telegram: TelegramStandIn) -> None:
    ids = [telegram.user_sends(111, f"message {i}") for i in range(5)]
    async with Bot(TELEGRAM_TOKEN, base_url=telegram.base_url) as bot:
        first = await bot.get_updates(limit=2)
        assert [u.update_id for u in first] == ids[:2]
        # Not confirmed yet: asked again, the same ones come back.
        assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
        # An offset confirms everything below it.
        assert [u.update_id for u in await bot.get_updates(offset=ids[2])] == ids[2:]
        # A negative offset keeps only the last ones.
        assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[4:]
        assert await bot.get_updates(offset=ids[4] + 1, timeout=0) == ()
        # Long polling: an update arriving during the wait is returned at once.
        import asyncio

        later = asyncio.get_running_loop().call_later(0.2, telegram.user_sends, 111, "late")
        waited = await bot.get_updates(offset=ids[4] + 1, timeout=5)
        assert [u.message.text for u in waited] == ["late"]  # type: ignore[union-attr]
        later.cancel()


async def test_telegram_errors_have_the_published_shape(telegram: TelegramStandIn) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{telegram.base_url}{TELEGRAM_TOKEN}/sendMessage", data={"chat_id": "999", "text": "x"}) as response:
            assert response.status == 400
            assert await response.json() == {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
        telegram.throttle("sendMessage", 1, retry_after=7)
        async with http.post(f"{telegram.base_url}{TELEGRAM_TOKEN}/sendMessage", data={"chat_id": "111", "text": "x"}) as response:
            assert response.status == 429
            assert await response.json() == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}
        # A JSON body, and a button whose callback_data is over 64 bytes.
        markup = {"inline_keyboard": [[{"text": "a", "callback_data": "é" * 33}]]}
        async with http.post(f"{telegram.base_url}{TELEGRAM_TOKEN}/sendMessage", json={"chat_id": 111, "text": "x", "reply_markup": markup}) as response:
            assert await response.json() == {"ok": False, "error_code": 400, "description": "Bad Request: BUTTON_DATA_INVALID"}
        # Multipart bodies are read like forms.
        form = aiohttp.FormData({"chat_id": "111", "text": "from a multipart form"})
        form.add_field("document", b"%PDF-1.4", filename="a.pdf", content_type="application/pdf")
        async with http.post(f"{telegram.base_url}{TELEGRAM_TOKEN}/sendMessage", data=form) as response:
            assert (await response.json())["result"]["text"] == "from a multipart form"
    async with Bot(TELEGRAM_TOKEN, base_url=telegram.base_url) as bot:
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(111, "<b>unclosed", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(111, "a < b", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(111, "x" * 4097)
        await bot.send_message(111, "&lt;" * 4096, parse_mode="HTML")  # 4,096 after parsing: fits
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
        await bot.set_webhook("http://127.0.0.1:1/hook", secret_token="abc")
        with pytest.raises(Conflict, match="(?i)webhook is active"):
            await bot.get_updates()
        await bot.delete_webhook()
        telegram.throttle("getMe", 1, retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.get_me()
    with pytest.raises(InvalidToken):
        async with Bot("123:wrongwrongwrongwrongwrong", base_url=telegram.base_url):
            pass


async def test_slack_web_api_errors_have_the_published_shape(slack: SlackStandIn) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    client.retry_handlers.clear()
    assert (await client.auth_test())["team_id"] == "T0NMRF"
    for token, error in ((None, "not_authed"), ("xoxb-forged", "invalid_auth"), (slack.app_token, "not_allowed_token_type")):
        with pytest.raises(SlackApiError) as caught:
            await AsyncWebClient(token=token, base_url=slack.api_url).auth_test()
        assert caught.value.response["error"] == error and caught.value.response.status_code == 200
    channel = (await client.conversations_open(users="U0ANA"))["channel"]["id"]
    slack.throttle("chat.postMessage", 1, retry_after=4)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=channel, text="x")
    assert caught.value.response.status_code == 429 and caught.value.response.headers["Retry-After"] == "4"
    assert caught.value.response["error"] == "ratelimited"
    too_many = [{"type": "section", "text": {"type": "plain_text", "text": "x"}}] * 51
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=channel, text="x", blocks=too_many)
    assert caught.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=channel, text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}])
    assert "3000" in json.dumps(caught.value.response.data)
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id="never-issued", view={"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []})
    assert caught.value.response["error"] == "invalid_trigger_id"
    with pytest.raises(SlackApiError) as caught:
        await client.users_lookupByEmail(email="nobody@example.org")
    assert caught.value.response["error"] == "users_not_found"
    url = (await AsyncWebClient(token=slack.app_token, base_url=slack.api_url).apps_connections_open(app_token=slack.app_token))["url"]
    assert url.startswith("ws://127.0.0.1:")


async def test_telegram_send_document_takes_uploads_within_the_published_limits(telegram: TelegramStandIn) -> None:
    from telegram.error import NetworkError

    from bot.standins.telegram import MAX_UPLOAD_BYTES

    async with Bot(TELEGRAM_TOKEN, base_url=telegram.base_url) as bot:
        sent = await bot.send_document(111, b"a,b\n1,2\n", filename="export.csv", caption="<b>x</b> &amp;", parse_mode="HTML")
        assert sent.document is not None and sent.document.file_name == "export.csv" and sent.caption == "x &"
        assert telegram.sent[-1].document is not None and telegram.sent[-1].document["data"] == b"a,b\n1,2\n"
        with pytest.raises(BadRequest, match="(?i)caption is too long"):
            await bot.send_document(111, b"x", filename="a.txt", caption="c" * 1025)
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_document(999, b"x", filename="a.txt")
        # Over 50 MB: Telegram answers 413, which python-telegram-bot raises as a NetworkError.
        with pytest.raises(NetworkError, match="Request Entity Too Large"):
            await bot.send_document(111, b"\0" * (MAX_UPLOAD_BYTES + 1), filename="big.bin")


async def test_slack_external_upload_needs_each_step(slack: SlackStandIn) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    channel = (await client.conversations_open(users="U0ANA"))["channel"]["id"]
    with pytest.raises(SlackApiError) as caught:
        await client.files_getUploadURLExternal(filename="a.csv", length=0)
    assert caught.value.response["error"] == "invalid_arguments"
    ticket = await client.files_getUploadURLExternal(filename="a.csv", length=4)
    # Completing before the bytes arrived: the file is not there yet.
    with pytest.raises(SlackApiError) as caught:
        await client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "a"}], channel_id=channel)
    assert caught.value.response["error"] == "file_not_found"
    async with aiohttp.ClientSession() as http:
        async with http.post(ticket["upload_url"], data=b"abc") as response:
            assert response.status == 200
    with pytest.raises(SlackApiError) as caught:
        await client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "a"}], channel_id=channel)
    assert caught.value.response["error"] == "file_upload_size_mismatch"
    done = await client.files_upload_v2(channel=channel, content=b"a,b\n", filename="b.csv", title="b.csv", initial_comment="here")
    assert done["file"]["name"] == "b.csv"
    (posted,) = slack.messages_to("U0ANA")
    assert posted.text == "here" and posted.files[0]["data"] == b"a,b\n"


async def test_telegram_forwards_by_id_to_a_channel_and_deletes(telegram: TelegramStandIn) -> None:
    from telegram import MessageOriginUser

    telegram.add_channel(-1001234567890, "delivery checks")
    user_message_id = telegram.user_sends(111, "hello")
    async with Bot(TELEGRAM_TOKEN, base_url=telegram.base_url) as bot:
        sent = await bot.send_message(111, "reminder <b>1</b>", parse_mode="HTML")
        copy = await bot.forward_message(-1001234567890, from_chat_id=111, message_id=sent.message_id)
        assert copy.text == "reminder 1" and isinstance(copy.forward_origin, MessageOriginUser)
        assert copy.forward_origin.sender_user.id == bot.id
        assert await bot.delete_message(-1001234567890, copy.message_id) is True
        with pytest.raises(BadRequest, match="(?i)message to delete not found"):
            await bot.delete_message(-1001234567890, copy.message_id)
        with pytest.raises(BadRequest, match="(?i)message to forward not found"):
            await bot.forward_message(-1001234567890, from_chat_id=111, message_id=sent.message_id + 5)
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.forward_message(-1009, from_chat_id=111, message_id=sent.message_id)
    assert user_message_id > 0
