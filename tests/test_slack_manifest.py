"""The Slack app manifest asks for exactly the scopes the adapter uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bot.transports.slack as slack_module

MANIFEST = Path(slack_module.__file__).with_name("slack-app-manifest.json")
# What each Web API method and event needs (api.slack.com/methods, /events).
NEEDS = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "conversations_open": {"im:write"},
    "users_info": {"users:read", "users:read.email"},
    "users_lookupByEmail": {"users:read", "users:read.email"},
    "views_open": set(),
    # The Home tab: no scope, but the app's Home tab on (features.app_home).
    "views_publish": set(),
    "conversations_history": {"im:history"},
    "auth_test": set(),
    # files.getUploadURLExternal and files.completeUploadExternal.
    "files_upload_v2": {"files:write"},
    # Evidence files: files.info gives url_private, fetched with the bot token.
    "files_info": {"files:read"},
}


def test_scopes_are_exactly_what_the_adapter_calls_for() -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    source = Path(slack_module.__file__).read_text(encoding="utf-8")
    called = set(re.findall(r"self\.client\.(\w+)\(", source)) | set(re.findall(r"slack\.client\.(\w+)\(", source))
    assert called <= set(NEEDS), f"a Web API method without a known scope: {called - set(NEEDS)}"
    needed = set().union(*(NEEDS[m] for m in called))
    # message.im events need im:history; /nmrf needs commands.
    needed |= {"im:history", "commands"}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed
    # app_home_opened needs no scope; the Home tab must be on for views.publish.
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened", "message.im"]
    # Each event the adapter listens to is subscribed (a DM's message is message.im).
    listened = {"message.im" if e == "message" else e for e in re.findall(r'self\.app\.event\("(\w+)"\)', source)}
    assert listened == set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [slack_module.COMMAND]
