"""An OutgoingMessage as Telegram messages: escaped HTML, split at 4,096."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.chat_port import OutgoingMessage
from bot.transports.text import split_for_reader, utf16_length

# "1-4096 characters after entities parsing" (Bot API, sendMessage).
MAX_MESSAGE = 4096
PARSE_MODE = "HTML"


def escape(text: str) -> str:
    """Plain text made safe for parse_mode HTML: what the person typed,
    ``<b>`` included, is shown as typed and never interpreted."""
    return html.escape(text, quote=False)


def render(message: OutgoingMessage) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """(html text, keyboard) per Telegram message; the buttons ride on the last.

    The text is split before escaping: Telegram measures the text after
    parsing, so the escaped ``&lt;`` counts as the one ``<`` it shows."""
    pieces = split_for_reader(message.text, MAX_MESSAGE, message.language, utf16_length)
    keyboard = (
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in message.buttons]
        )
        if message.buttons
        else None
    )
    return [(escape(piece), keyboard if i == len(pieces) - 1 else None) for i, piece in enumerate(pieces)]
