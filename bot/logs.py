"""Logging for ``nmrf-bot run``: plain lines or one JSON object a line, and
never a secret. The tokens, signing secret and database password from the
configuration are masked in every line and traceback (bot.redaction gives the
rule, for secrets of any length), whatever logged them (a library printing a
request URL with the Telegram token in its path included); libraries that log each request are kept at
WARNING unless the level is DEBUG. At INFO the bot's own lines name people by id and messages by
their catalog key, never by what was typed."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO


from bot.redaction import mask, remember

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log every HTTP request (URLs hold the Telegram token) or
# every job run: useful only when debugging them.
CHATTY = ("httpx", "httpcore", "telegram.ext.Updater", "telegram.ext.ExtBot", "slack_sdk", "slack_bolt",
          "apscheduler", "aiohttp.access", "alembic", "aiosqlite", "asyncio")


class Redacting(logging.Formatter):
    """Formats with ``inner``, masking (by the rule in bot.redaction) the
    message, the exception and stack text before ``inner`` lays them out, so a
    JSON formatter's escaping cannot hide a secret from the mask, and then the
    whole line, so a library's extra fields are covered too."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = [s for s in secrets if s]
        remember(self.secrets)

    def format(self, record: logging.LogRecord) -> str:
        # A copy: the other handlers (and a cached exc_text) keep the record as it came.
        masked = logging.makeLogRecord(record.__dict__)
        if not isinstance(record.msg, dict):  # a dict is JSON fields, masked in the line below
            masked.msg, masked.args = mask(record.getMessage(), self.secrets), None
        exc_text = record.exc_text or (self.inner.formatException(record.exc_info) if record.exc_info else None)
        masked.exc_info, masked.exc_text = None, mask(exc_text, self.secrets) if exc_text else None
        masked.stack_info = mask(record.stack_info, self.secrets) if record.stack_info else None
        return mask(self.inner.format(masked), self.secrets)


def configure(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """Send every log line to ``stream`` (stderr) in ``fmt`` ("text" or "json")."""
    inner: logging.Formatter
    if fmt == "json":
        # Imported for JSON logs only: every command loads this module, few log JSON.
        from pythonjsonlogger.json import JsonFormatter

        inner = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    else:
        inner = logging.Formatter(TEXT_FORMAT)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(Redacting(inner, secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # At DEBUG they speak too (the masking covers their URLs); else only warnings.
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in CHATTY:
        logging.getLogger(name).setLevel(quiet)
    return handler


def config_secrets(config: Any) -> list[str]:
    """Every secret the configuration holds, as text."""
    values = [
        config.telegram.token, config.slack.bot_token, config.slack.app_token, config.slack.signing_secret,
    ]
    found = [v.get_secret_value() for v in values if v is not None]
    if config.telegram.token is not None:
        # The part after the bot's id is the secret one, and may be printed alone.
        found.append(config.telegram.token.get_secret_value().partition(":")[2])
    password = _url_password(config.database.url)
    return found + ([password] if password else [])


def _url_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password  # type: ignore[return-value]
    except Exception:  # noqa: BLE001 - an unparsable URL has no password to hide
        return None
