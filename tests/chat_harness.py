"""Driving a simulated person on a stand-in platform, one turn at a time."""

from __future__ import annotations

from bot.standins.people import SlackPerson, TelegramPerson

__all__ = ["ASSIGNED", "LONG_ANSWER", "SlackPerson", "TELEGRAM_TOKEN", "TRICKY", "TelegramPerson"]

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
# What a person may type that a careless bot would format, decode or run.
TRICKY = "<b>bold</b> *bold* `code` &amp; =HYPERLINK(\"http://evil.example\",\"x\")"
LONG_ANSWER = (TRICKY + " The ministry trained 1,200 police officers in 2026. " * 80)[:5000]
# The world fixture assigns three recommendations to Ana's ministry.
ASSIGNED = 3
