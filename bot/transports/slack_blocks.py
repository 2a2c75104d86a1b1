"""An OutgoingMessage as Slack messages: Block Kit within Slack's limits.

The text goes in ``plain_text`` sections: nothing a person typed (``*bold*``,
a backtick, ``<b>``, ``&amp;``) is ever interpreted as formatting, it shows as
typed. The ``text`` field beside the blocks, which Slack shows in
notifications and reads as mrkdwn, is escaped as Slack asks (``&``, ``<``,
``>``). Limits: 3,000 characters a section, 50 blocks a message, 25 buttons
an actions block, 75 characters a button label.
"""

from __future__ import annotations

from typing import Any

from handlers.chat_port import Button, OutgoingMessage
from bot.transports.text import split_text
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


def _buttons(rows: tuple[tuple[Button, ...], ...], language: str, asks_for_text: bool) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    if asks_for_text:
        # A modal is easier than the message field for a paragraph of text.
        elements.append({"type": "button", "text": _label(t("button.write_answer", language)), "value": f"{MODAL_ACTION}:{language}", "style": "primary"})
    for row in rows:
        for button in row:
            element: dict[str, Any] = {"type": "button", "text": _label(button.label), "value": button.action}
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
        for piece in split_text(message.text, MAX_SECTION_TEXT)
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
