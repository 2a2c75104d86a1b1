"""An OutgoingMessage as Slack messages: Block Kit within Slack's limits.

The text goes in ``plain_text`` sections: nothing a person typed (``*bold*``,
a backtick, ``<b>``, ``&amp;``) is ever interpreted as formatting, it shows as
typed. The ``text`` field beside the blocks, which Slack shows in
notifications and reads as mrkdwn, is escaped as Slack asks (``&``, ``<``,
``>``). Limits: 3,000 characters a section, 50 blocks a message, 25 buttons
an actions block, 75 characters a button label.
"""

from __future__ import annotations

import json
from typing import Any

from handlers.chat_port import Button, OutgoingMessage
from bot.transports.text import split_for_reader, split_text
from messages import shorten, t

MAX_SECTION_TEXT = 3000
MAX_BLOCKS = 50
MAX_ACTIONS = 25
MAX_LABEL = 75
# Slack cuts a notification's text; the blocks carry everything.
MAX_FALLBACK = 3000
ACTION_PREFIX = "nmrf:"
MODAL_ACTION = "modal"
MODAL_CALLBACK = "nmrf_answer"
# A button that opens a form: form:NAME:LANGUAGE:ACTION, then the form's title
# after a line break when the button gives one (an action never holds a line
# break); Slack's value holds 2,000 characters.
FORM_ACTION = "form"
MAX_VALUE = 2000
UPDATE_CALLBACK = "nmrf_update"
# A modal's title takes 24 characters.
MAX_MODAL_TITLE = 24


def escape_mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_incoming(text: str) -> str:
    """Slack sends typed text escaped and links wrapped: give back what was typed."""
    out: list[str] = []
    position = 0
    while position < len(text):
        start = text.find("<", position)
        if start < 0:
            out.append(text[position:])
            break
        end = text.find(">", start)
        if end < 0:
            out.append(text[position:])
            break
        out.append(text[position:start])
        inner = text[start + 1:end]
        # <https://x|label> shows the label, but the link is what matters as evidence.
        out.append(inner.split("|", 1)[0] if inner.startswith(("http://", "https://", "mailto:")) else f"<{inner}>")
        position = end + 1
    return "".join(out).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _label(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, MAX_LABEL), "emoji": True}


def form_value(button: Button, language: str) -> str:
    """The value of a button that opens a form; the title is cut, never the action."""
    head = f"{FORM_ACTION}:{button.form}:{language}:{button.action}"
    if not button.form_title:
        return head
    return head + "\n" + shorten(button.form_title, MAX_VALUE - len(head) - 1)


def read_form_value(value: str) -> tuple[str, str, str, str | None] | None:
    """(form, language, action, title or None) of a form button's value; None
    when it is not one. A button posted before titles were carried has none."""
    head, _, title = value.partition("\n")
    parts = head.split(":", 3)
    if len(parts) != 4 or parts[0] != FORM_ACTION:
        return None
    _, form, language, action = parts
    return form, language, action, title.strip() or None


def _buttons(rows: tuple[tuple[Button, ...], ...], language: str, asks_for_text: bool) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    if asks_for_text:
        # A modal is easier than the message field for a paragraph of text.
        elements.append({"type": "button", "text": _label(t("button.write_answer", language)), "value": f"{MODAL_ACTION}:{language}", "style": "primary"})
    for row in rows:
        for button in row:
            value = form_value(button, language) if button.form else button.action
            element: dict[str, Any] = {"type": "button", "text": _label(button.label), "value": value}
            # A dialogue's button names its step after "|" (handlers.buttons).
            if button.action.partition("|")[0] == "save":
                element["style"] = "primary"
            elements.append(element)
    blocks = []
    for start in range(0, len(elements), MAX_ACTIONS):
        chunk = elements[start:start + MAX_ACTIONS]
        for i, element in enumerate(chunk):
            element["action_id"] = f"{ACTION_PREFIX}{start + i}"
        blocks.append({"type": "actions", "elements": chunk})
    return blocks


def render(message: OutgoingMessage) -> list[tuple[str, list[dict[str, Any]]]]:
    """(fallback text, blocks) per Slack message; buttons follow the last text."""
    sections = [
        {"type": "section", "text": {"type": "plain_text", "text": piece, "emoji": False}}
        for piece in split_for_reader(message.text, MAX_SECTION_TEXT, message.language)
        if piece.strip()
    ]
    blocks = sections + _buttons(message.buttons, message.language, message.asks_for_text)
    out = []
    for start in range(0, len(blocks), MAX_BLOCKS):
        chunk = blocks[start:start + MAX_BLOCKS]
        shown = "\n".join(b["text"]["text"] for b in chunk if b["type"] == "section")
        fallback = escape_mrkdwn(shown[:MAX_FALLBACK] or message.text[:MAX_FALLBACK])
        out.append((fallback, chunk))
    return out


def update_form(
    action: str, recommendation_id: int | None, channel: str, language: str, statuses: list[tuple[str, str]], title: str | None = None,
    links: bool = True,
) -> dict[str, Any]:
    """The update in one modal: status, what was done, evidence links (not
    with ``links`` False: an action's form), next step and its date.
    ``statuses`` is (value, label) in the reader's language.
    ``title``, the button's (a linked group's title and its numbers): its
    first line titles the modal, and the whole heads it, since a modal's
    title is cut at 24 characters; without it, "Update #N" for a
    recommendation, and the Update button's own words for anything else (a
    group's button posted before buttons carried titles)."""
    def text_input(block: str, key: str, multiline: bool, optional: bool = True) -> dict[str, Any]:
        return {
            "type": "input", "block_id": block, "optional": optional, "label": _label(t(key, language)),
            "element": {"type": "plain_text_input", "action_id": block, "multiline": multiline, "max_length": 3000},
        }

    heading = [{"type": "section", "text": {"type": "plain_text", "text": shorten(title, MAX_SECTION_TEXT), "emoji": False}}] if title else []
    named = (title.strip().splitlines() or [""])[0].strip() if title else ""
    if not named:
        named = t("button.update", language) if recommendation_id is None else t("slack.update_title", language, id=recommendation_id)
    return {
        "type": "modal",
        "callback_id": UPDATE_CALLBACK,
        "private_metadata": json.dumps({"channel": channel, "action": action}),
        "title": {"type": "plain_text", "text": shorten(named, MAX_MODAL_TITLE)},
        "submit": {"type": "plain_text", "text": shorten(t("slack.update_submit", language), MAX_MODAL_TITLE)},
        "close": {"type": "plain_text", "text": shorten(t("button.cancel", language), MAX_MODAL_TITLE)},
        "blocks": heading + [
            {
                "type": "input", "block_id": "status", "label": _label(t("slack.update_status", language)),
                "element": {
                    "type": "static_select", "action_id": "status",
                    "options": [{"text": _label(label), "value": value} for value, label in statuses],
                },
            },
            text_input("done", "slack.update_done", True),
            *([text_input("links", "slack.update_links", True)] if links else []),
            text_input("next_step", "slack.update_next_step", False),
            {
                "type": "input", "block_id": "next_date", "optional": True, "label": _label(t("slack.update_next_date", language)),
                "element": {"type": "datepicker", "action_id": "next_date"},
            },
        ],
    }


def form_values(state: dict[str, dict[str, dict[str, Any]]]) -> dict[str, str]:
    """A submitted update form's fields as text: what was chosen, typed or picked."""
    out: dict[str, str] = {}
    for block, elements in state.items():
        for element in elements.values() if isinstance(elements, dict) else ():
            if not isinstance(element, dict):
                continue
            kind = element.get("type")
            if kind == "static_select":
                option = element.get("selected_option")
                value = option.get("value") if isinstance(option, dict) else None
            elif kind == "datepicker":
                value = element.get("selected_date")
            else:
                value = element.get("value")
            if isinstance(value, str) and value.strip():
                out[block] = value.strip()
    return out


def settled(text: str, choice: str) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of a message whose step button was pressed: its
    text as it was, the choice beneath in a context block, and no buttons."""
    sections = [
        {"type": "section", "text": {"type": "plain_text", "text": piece, "emoji": False}}
        for piece in split_text(text, MAX_SECTION_TEXT)
        if piece.strip()
    ][:MAX_BLOCKS - 1]
    blocks = sections + ([{"type": "context", "elements": [{"type": "plain_text", "text": choice, "emoji": True}]}] if choice else [])
    fallback = "\n".join(part for part in (text, choice) if part)
    return escape_mrkdwn(fallback[:MAX_FALLBACK]), blocks
