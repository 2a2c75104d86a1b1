"""A focal point's /help names every command their menu offers (Telegram's
setMyCommands, Slack's /nmrf usage hint), in every language, so the plan's
/actions and /pledges are found where the rest are; a secretariat user's
menu names a command both menus have once, as the secretariat's; and
`nmrf-bot import template --help` names every sheet the template takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bot.transports.slack as slack_module
from bot.transports.telegram import COMMANDS, SECRETARIAT_COMMANDS, secretariat_menu
from messages import SUPPORTED_LANGUAGES, t
from messages.bidi import strip_controls
from storage.importers.template import ORDER
from tests.cli_harness import Cli

MANIFEST = Path(slack_module.__file__).with_name("slack-app-manifest.json")
FOCAL_POINT_COMMANDS = [c.command for c in COMMANDS]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_help_names_each_command_of_the_menu_on_both_platforms(language: str) -> None:
    # Read as the person sees it: without an Arabic text's direction marks,
    # a command's colon full-width in Chinese.
    def lines(key: str) -> list[str]:
        return strip_controls(t(key, language)).replace("：", ": ").splitlines()

    telegram = [line.split()[0].rstrip(":") for line in lines("help.telegram") if line.startswith("/")]
    assert sorted(telegram) == sorted(f"/{c}" for c in FOCAL_POINT_COMMANDS)
    # On Slack a DM holds the bare word: each command leads a line of its own.
    slack = {line.split()[0].rstrip(":") for line in lines("help.slack")[3:] if line.strip()}
    assert set(FOCAL_POINT_COMMANDS) <= slack


def test_the_slack_commands_usage_hint_lists_the_focal_points_words() -> None:
    [nmrf] = json.loads(MANIFEST.read_text(encoding="utf-8"))["features"]["slash_commands"]
    assert [w.strip() for w in nmrf["usage_hint"].split("|")] == FOCAL_POINT_COMMANDS
    assert "actions" in nmrf["description"]


def test_a_secretariat_users_menu_holds_each_command_once_as_the_secretariats() -> None:
    menu = secretariat_menu(SECRETARIAT_COMMANDS)
    names = [c.command for c in menu]
    assert len(names) == len(set(names)) and {"mine", "actions", "pledges", "report"} <= set(names)
    [actions] = [c for c in menu if c.command == "actions"]
    assert actions == next(c for c in SECRETARIAT_COMMANDS if c.command == "actions")


def test_import_template_help_names_every_sheet(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = Cli(capsys)("import", "template", "--help")
    said = " ".join(out.split())
    assert [sheet for sheet in ORDER if sheet not in said] == []
