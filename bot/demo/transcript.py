"""What ``nmrf-bot demo`` prints as the story goes: each day, what people
do, and what the bot says to whom, a few lines of each message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.standins.slack import SlackStandIn
from bot.standins.telegram import TelegramStandIn
from messages import shorten

# Lines of a bot message shown; the rest is counted.
SHOWN_LINES = 3
WIDTH = 110


def _clip(line: str) -> str:
    return shorten(line, WIDTH)


class Transcript:
    def __init__(self, echo: Callable[[str], None], timezone: str = "America/Montevideo") -> None:
        self.echo = echo
        self.zone = ZoneInfo(timezone)
        self._telegram: TelegramStandIn | None = None
        self._slack: SlackStandIn | None = None
        self._seen_telegram = 0
        self._seen_slack = 0
        self._who: dict[object, str] = {}
        self.sent = 0

    def attach(self, telegram: TelegramStandIn, slack: SlackStandIn) -> None:
        self._telegram, self._slack = telegram, slack

    def names(self, who: dict[object, str]) -> None:
        """Chat ids (Telegram) and member ids (Slack) to people's names."""
        for key, name in who.items():
            self._who[key] = name
            if isinstance(key, str) and self._slack is not None:
                self._who[self._slack.dm_channel(key)] = name

    def day(self, moment: datetime, title: str) -> None:
        local = moment.astimezone(self.zone)
        self.echo("")
        self.echo(f"── {local:%a %d %b %Y}, {local:%H:%M} in Montevideo · {title}")

    def note(self, text: str) -> None:
        self.echo(f"   · {text}")

    def action(self, name: str, what: str) -> None:
        self.echo(_clip(f"  {name} {what}"))

    def _message(self, to: str, platform: str, text: str, buttons: list[str], file_name: str | None) -> None:
        self.sent += 1
        lines = [line for line in text.splitlines() if line.strip()] or [""]
        head = f"    bot → {to} ({platform}): "
        if file_name:
            lines.insert(0, f"[file {file_name}]")
        self.echo(_clip(head + lines[0]))
        for line in lines[1:SHOWN_LINES]:
            self.echo(_clip(" " * len(head) + line))
        if len(lines) > SHOWN_LINES:
            self.echo(" " * len(head) + f"(+{len(lines) - SHOWN_LINES})")
        if buttons:
            self.echo(_clip(" " * len(head) + " ".join(f"[{b}]" for b in buttons)))

    def flush(self) -> None:
        """Print what the bot sent since the last flush."""
        if self._telegram is not None:
            for m in self._telegram.sent[self._seen_telegram:]:
                rows = (m.reply_markup or {}).get("inline_keyboard", [])
                labels = [b["text"] for row in rows for b in row]
                self._message(self._who.get(m.chat_id, str(m.chat_id)), "Telegram", m.text, labels, (m.document or {}).get("file_name"))
            self._seen_telegram = len(self._telegram.sent)
        if self._slack is not None:
            for p in self._slack.posted[self._seen_slack:]:
                name = (p.files[0]["name"] if p.files else None)
                self._message(self._who.get(p.channel, p.channel), "Slack", p.shown or p.text, list(p.buttons), name)
            self._seen_slack = len(self._slack.posted)
