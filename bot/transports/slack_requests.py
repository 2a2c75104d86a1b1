"""What arrives from Slack, checked before the bot believes or reads it.

Over HTTP, anyone can post to the request URL, so the signature and the
timestamp are checked on the raw bytes first: nothing of an unsigned body is
decoded, parsed or logged. A signed body is then parsed and its shape checked
against what the listeners read, so a malformed one is refused here (400)
rather than failing inside a listener (500, and a traceback holding what the
person typed). Socket Mode payloads come over an authenticated socket but get
the same shape check. Refusal reasons are ours, never text from the request.

bolt is then handed what was parsed here, re-encoded as JSON (for_bolt), not
the raw body: its own parser sniffs a body for "{" and "payload" and would
read some sound forms otherwise (a 500, or a command dropped as unhandled).
The fields bolt reads on its own, to build its context before any listener,
are checked too (_BoltReads).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from bot.transports.slack_blocks import ACTION_PREFIX, MODAL_CALLBACK, UPDATE_CALLBACK

COMMAND = "/nmrf"
# Slack's own rule: a request older (or newer) than five minutes may be a replay.
MAX_CLOCK_SKEW_SECONDS = 5 * 60
# Ten digits today; twelve leave room and keep int() away from 400-digit strings.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
JSON_TYPE, FORM_TYPE = "application/json", "application/x-www-form-urlencoded"
FOR_BOLT_TYPE = JSON_TYPE


class Refused(Exception):
    """A request the bot will not act on: the HTTP status and a reason fit for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class Route(enum.Enum):
    DISPATCH = "dispatch"  # to the bolt listeners
    CHALLENGE = "challenge"  # url_verification: answered with its challenge
    IGNORE = "ignore"  # well formed, not for this bot: 200 so Slack does not retry


def verify(secret: str, headers: Mapping[str, str], raw: bytes, clock: Callable[[], datetime]) -> None:
    """Refused(401) unless the request is signed with the signing secret
    within five minutes of the clock."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if timestamp is None or signature is None:
        raise Refused(401, "unsigned")
    # A non-numeric timestamp is simply invalid (slack_sdk's int() would raise on it).
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Refused(401, "malformed timestamp")
    if abs(clock().timestamp() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise Refused(401, "stale timestamp")
    # ASCII hex only: hmac.compare_digest raises on a non-ASCII str.
    if not _SIGNATURE.fullmatch(signature):
        raise Refused(401, "malformed signature")
    # hmac itself, not slack_sdk's SignatureVerifier: that decodes the body
    # as UTF-8 before hashing, so invalid bytes raised before any check.
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Refused(401, "bad signature")


def parse(content_type: str, raw: bytes) -> dict[str, Any]:
    """The body of a verified request as a dict."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if content_type == JSON_TYPE:
        return _json_object(text, "body")
    if content_type == FORM_TYPE:
        try:
            fields = urllib.parse.parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "form is malformed") from None
        if any(len(values) != 1 for values in fields.values()):
            raise Refused(400, "form repeats a field")
        form = {key: values[0] for key, values in fields.items()}
        if "payload" in form:
            return _json_object(form["payload"], "form payload")
        return form
    raise Refused(400, "unexpected content type")


def for_bolt(body: dict[str, Any]) -> str:
    """A routed body as the JSON text bolt is given (with FOR_BOLT_TYPE):
    bolt's parser reads a JSON body as it is, whatever it holds."""
    return json.dumps(body)


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")
    return value


# --- the shapes the listeners read ------------------------------------------------


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Id(_Shape):
    id: StrictStr = Field(min_length=1)


class _File(_Shape):
    id: StrictStr
    name: StrictStr | None = None
    title: StrictStr | None = None
    mimetype: StrictStr | None = None
    size: StrictInt | None = None


class _Event(_Shape):
    type: StrictStr


class _MessageEvent(_Event):
    channel: StrictStr = Field(min_length=1)
    channel_type: StrictStr | None = None
    user: StrictStr | None = None
    text: StrictStr | None = None
    ts: StrictStr | None = None
    subtype: StrictStr | None = None
    bot_id: StrictStr | None = None
    team: StrictStr | None = None
    files: list[_File] = []


class _HomeOpened(_Event):
    user: StrictStr = Field(min_length=1)
    # "home" or "messages": Slack tells of either tab being opened.
    tab: StrictStr = ""
    channel: StrictStr | None = None


class _EventCallback(_Shape):
    event_id: StrictStr = Field(min_length=1)
    team_id: StrictStr | None = None
    event: _Event


class _Text(_Shape):
    text: StrictStr = ""


class _Action(_Shape):
    action_id: StrictStr
    value: StrictStr = ""
    # The clicked button's label, shown beneath the settled message.
    text: _Text | None = None


class _Block(_Shape):
    type: StrictStr | None = None


class _ActionMessage(_Shape):
    ts: StrictStr | None = None
    blocks: list[_Block] = []


class _Container(_Shape):
    type: StrictStr = "message"
    message_ts: StrictStr | None = None
    channel_id: StrictStr | None = None
    is_ephemeral: StrictBool | None = None


class _BlockActions(_Shape):
    user: _Id
    trigger_id: StrictStr = Field(min_length=1)
    actions: list[_Action] = Field(min_length=1)
    team: _Id | None = None
    channel: _Id | None = None
    message: _ActionMessage | None = None
    container: _Container | None = None


class _State(_Shape):
    values: dict[str, dict[str, dict[str, Any]]]


class _View(_Shape):
    id: StrictStr = Field(min_length=1)
    # bolt reads it to tell a workflow step's view from a modal.
    type: StrictStr
    callback_id: StrictStr = ""
    private_metadata: StrictStr = ""
    state: _State


class _ViewSubmission(_Shape):
    user: _Id
    team: _Id | None = None
    view: _View


class _Command(_Shape):
    command: StrictStr
    user_id: StrictStr = Field(min_length=1)
    trigger_id: StrictStr = Field(min_length=1)
    text: StrictStr = ""
    team_id: StrictStr = ""


class _Challenge(_Shape):
    challenge: StrictStr = Field(min_length=1)


# What bolt's context building (slack_bolt.request.internals) and middleware
# read of any body it is given, wherever they look: each either absent, null
# or of the type they take it to be, so none of them raises on it.


class _Who(_Shape):
    id: StrictStr | None = None
    team_id: StrictStr | None = None


class _ResponseUrl(_Shape):
    response_url: StrictStr | None = None


class _FunctionData(_Shape):
    execution_id: StrictStr | None = None
    inputs: dict[str, Any] | None = None


class _ViewIds(_Shape):
    app_installed_team_id: StrictStr | None = None
    team_id: StrictStr | None = None


class _BoltReads(_Shape):
    enterprise: StrictStr | _Who | None = None
    team: StrictStr | _Who | None = None
    user: StrictStr | _Who | None = None
    channel: StrictStr | _Who | None = None
    enterprise_id: StrictStr | None = None
    team_id: StrictStr | None = None
    user_id: StrictStr | None = None
    channel_id: StrictStr | None = None
    user_team: StrictStr | None = None
    context_team_id: StrictStr | None = None
    context_enterprise_id: StrictStr | None = None
    bot_id: StrictStr | None = None
    thread_ts: StrictStr | None = None
    function_execution_id: StrictStr | None = None
    bot_access_token: StrictStr | None = None
    response_url: StrictStr | None = None
    response_urls: list[_ResponseUrl] | None = None
    is_enterprise_install: StrictBool | StrictStr | None = None
    is_ext_shared_channel: StrictBool | None = None
    authorizations: list[_BoltReads] | None = None
    event: _BoltReads | None = None
    message: _BoltReads | None = None
    previous_message: _BoltReads | None = None
    item: _BoltReads | None = None
    assistant_thread: _BoltReads | None = None
    function_data: _FunctionData | None = None
    view: _ViewIds | None = None


# Sent to the request URL, to be acknowledged and nothing more.
_IGNORED_TYPES = {"app_rate_limited", "view_closed", "shortcut", "message_action", "block_suggestion", "interactive_message"}
_DM_MESSAGES = (None, "file_share")


def route(body: dict[str, Any]) -> Route:
    """What to do with a parsed body; Refused(400) when it is malformed."""
    where = _route(body)
    if where is Route.DISPATCH:
        _check(_BoltReads, body, "body")
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            # Half a surrogate pair, escaped in JSON: no database or Web API call takes it.
            raise Refused(400, "body holds a lone surrogate") from None
    return where


def kind_of(body: dict[str, Any]) -> str | None:
    """Which payload a body is: "command" for a slash command (a form with a
    command and no type), else its type. The one place that decides, for
    the shape check, the listeners and the delivery id alike."""
    kind = body.get("type")
    if kind is None and "command" in body:
        return "command"
    return kind if isinstance(kind, str) else None


def _route(body: dict[str, Any]) -> Route:
    kind = body.get("type")
    if "command" in body and kind is not None:
        # Slack sends a command as a form without a type; a typed payload
        # carrying one is neither, and bolt would take it for a command.
        raise Refused(400, "malformed payload (a command key on a typed payload)")
    if "command" in body:
        command = _check(_Command, body, "slash command")
        return Route.DISPATCH if command.command == COMMAND else Route.IGNORE
    if kind is None and body.get("ssl_check") == "1":
        # Slack checking the slash command URL's certificate: a 200 is all it wants.
        return Route.IGNORE
    if not isinstance(kind, str):
        raise Refused(400, "no type")
    if kind == "url_verification":
        _check(_Challenge, body, kind)
        return Route.CHALLENGE
    if kind == "event_callback":
        event = _check(_EventCallback, body, kind).event
        if event.type == "app_home_opened":
            # Only the Home tab has a view to publish; the Messages tab is the DM.
            return Route.DISPATCH if _check(_HomeOpened, body["event"], "app_home_opened event").tab == "home" else Route.IGNORE
        if event.type != "message":
            return Route.IGNORE
        message = _check(_MessageEvent, body["event"], "message event")
        # Edits, deletions, joins and bots' own posts are not a person writing to the bot.
        if message.subtype not in _DM_MESSAGES or message.bot_id or message.channel_type != "im" or not message.user:
            return Route.IGNORE
        return Route.DISPATCH
    if kind == "block_actions":
        actions = _check(_BlockActions, body, kind).actions
        return Route.DISPATCH if actions[0].action_id.startswith(ACTION_PREFIX) else Route.IGNORE
    if kind == "view_submission":
        view = _check(_ViewSubmission, body, kind).view
        if view.callback_id not in (MODAL_CALLBACK, UPDATE_CALLBACK) or view.type != "modal":
            return Route.IGNORE
        if view.private_metadata:
            _json_object(view.private_metadata, "view metadata")
        return Route.DISPATCH
    if kind in _IGNORED_TYPES:
        return Route.IGNORE
    raise Refused(400, "unknown type")


def delivery_id(body: dict[str, Any]) -> str:
    """The id the engine records a checked delivery under, which Slack's
    redelivery repeats: the event_id, or the trigger_id of a click or a
    slash command, or the id of the submitted view."""
    kind = kind_of(body)
    if kind == "command":
        return f"command:{body['trigger_id']}"
    if kind == "event_callback":
        return str(body["event_id"])
    if kind == "block_actions":
        return f"action:{body['trigger_id']}"
    return f"view:{body['view']['id']}"


def _check(shape: type[_Shape], body: Any, what: str) -> Any:
    try:
        return shape.model_validate(body)
    except ValidationError as exc:
        # Field names from the shape only: a key of the body itself could be anything.
        where = ".".join(str(part) for part in exc.errors(include_input=False)[0]["loc"][:2])
        raise Refused(400, f"malformed {what} ({where})") from None
