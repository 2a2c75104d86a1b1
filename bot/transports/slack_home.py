"""A person's Home (handlers.home.HomeView) as a Slack Home tab view, within Block Kit's limits.

A Home view takes at most 100 blocks; a section's text 3,000 characters; a
button's label 75; an actions block 25 elements; a button's value 2,000.
Each line is a plain_text section (nothing typed is read as formatting),
its buttons an actions block beneath. Lines are dealt out to the sections
in turn, one each, while blocks remain, so a long list of items does not
push the requests out; a section that could not show every line ends with
its "and N more" (handlers.home's ``more_key``).

The buttons carry the payloads the DM's carry (a form button opens the
update form), so a press from the Home takes the engine's usual path; the
adapter sends the replies to the person's DM.
"""

from __future__ import annotations

from typing import Any

from bot.transports.slack_blocks import ACTION_PREFIX, MAX_ACTIONS, MAX_LABEL, MAX_SECTION_TEXT, form_value
from bot.transports.text import split_text
from handlers.chat_port import Button, command_words
from handlers.home import HomeLine, HomeView
from messages import shorten, t
from storage.enums import Platform

MAX_HOME_BLOCKS = 100
# Slack's header block takes 150 characters of plain text.
MAX_HEADER = 150
MAX_VALUE = 2000
HOME_CALLBACK = "nmrf_home"


def _plain(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit) or " ", "emoji": False}


class _Actions:
    """Action ids unique in the whole view, and every one under the prefix the adapter listens to."""

    def __init__(self, language: str) -> None:
        self.language, self.count = language, 0

    def blocks(self, buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
        elements = []
        for button in buttons:
            value = form_value(button, self.language) if button.form else button.action
            elements.append({
                "type": "button", "action_id": f"{ACTION_PREFIX}home{self.count}",
                "text": {"type": "plain_text", "text": shorten(button.label, MAX_LABEL), "emoji": True}, "value": value[:MAX_VALUE],
            })
            self.count += 1
        return [{"type": "actions", "elements": elements[i:i + MAX_ACTIONS]} for i in range(0, len(elements), MAX_ACTIONS)]


def _line_blocks(line: HomeLine, actions: _Actions) -> list[dict[str, Any]]:
    # A line is short by construction; one section, cut if it is not.
    text = split_text(line.text, MAX_SECTION_TEXT)[0] if line.text.strip() else " "
    return [{"type": "section", "text": _plain(text)}] + (actions.blocks(line.buttons) if line.buttons else [])


def render_home(view: HomeView) -> dict[str, Any]:
    """The view for views.publish: ``{"type": "home", "blocks": [...]}``, at most 100 blocks."""
    actions = _Actions(view.language)
    head = [{"type": "header", "text": _plain(view.title, MAX_HEADER)}]
    foot = [{"type": "context", "elements": [_plain(view.as_of)]}] if view.as_of.strip() else []
    # Per section: its title and divider, its own buttons, and room kept for its
    # "empty" or "and N more" line; what is left is dealt out line by line.
    fixed = [
        [{"type": "divider"}, {"type": "section", "text": _plain(section.title)}] + (actions.blocks(section.buttons) if section.buttons else [])
        for section in view.sections
    ]
    budget = MAX_HOME_BLOCKS - len(head) - len(foot) - sum(len(f) + 1 for f in fixed)
    shown: list[list[list[dict[str, Any]]]] = [[] for _ in view.sections]
    waiting = [list(section.lines) for section in view.sections]
    progress = True
    while progress and budget > 0:
        progress = False
        for index, lines in enumerate(waiting):
            if not lines:
                continue
            blocks = _line_blocks(lines[0], actions)
            if len(blocks) > budget:
                continue
            lines.pop(0)
            shown[index].append(blocks)
            budget -= len(blocks)
            progress = True
    body: list[dict[str, Any]] = []
    words = command_words(Platform.SLACK)
    for index, section in enumerate(view.sections):
        body += fixed[index]
        for blocks in shown[index]:
            body += blocks
        left = len(waiting[index]) + section.unread
        if left:
            body.append({"type": "context", "elements": [_plain(t(section.more_key, view.language, count=left, **words))]})
        elif not section.lines and section.empty:
            body.append({"type": "context", "elements": [_plain(section.empty)]})
    return {"type": "home", "callback_id": HOME_CALLBACK, "blocks": head + body + foot}
