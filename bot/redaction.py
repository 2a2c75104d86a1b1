"""Secrets masked in whatever the bot prints: log lines, tracebacks, error lines.

The rule, so that a secret of any length is hidden and nothing else is:

1. A password in a URL is masked where it stands, whether it is known or not
   and whatever its length: the userinfo of ``scheme://user:PASSWORD@host``
   and a ``password=`` or ``sslpassword=`` parameter (in a query string or
   a libpq DSN). This is how a one-character database password is hidden:
   by its place, not by searching the text for that character.
2. A known secret that is distinctive (8 characters or more, or a Slack
   token with its ``xox.-`` / ``xapp-`` prefix) is masked wherever it
   appears, also percent-encoded (as a URL renders it) and escaped (as repr()
   and JSON write it).
3. A shorter known secret could be part of any word ("a" is in "database"),
   so it is masked only where it stands as a whole quoted value: 'x', "x" or
   `x`, the way error messages and reprs quote what they were given.
4. A string shaped like a token is masked wherever it appears, known or
   not: a Slack token (``xoxb-...``, ``xapp-...``) or a Telegram one (the
   bot's id, a colon, 30 or more characters). A token put under the wrong key
   of a configuration is never remembered as a secret, and is echoed back by
   the error that says the key's value is wrong.

The secrets of every configuration this process has loaded are remembered
(``remember``), so an error line or a crash's traceback is masked even when it
is printed far from the code that knew the configuration.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote

MASK = "***"
DISTINCTIVE_LENGTH = 8
_SLACK_PREFIXES = ("xoxb-", "xoxp-", "xoxa-", "xoxe-", "xoxs-", "xapp-")

# scheme://user:PASSWORD@ ; the password runs to the '@' and holds no space.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)[^\s@]*(?=@)")
_PASSWORD_PARAMETER = re.compile(r"(?P<head>(?<![A-Za-z0-9_])(?:ssl)?password=)(?!\*\*\*)[^\s&'\"]+", re.IGNORECASE)
_QUOTES = ("'", '"', "`")
# Left-bounded so "bot<token>" in a Bot API URL is masked; the colon may be percent-encoded.
_TELEGRAM_TOKEN = re.compile(r"(?<![0-9])[0-9]+(?::|%3[Aa])[A-Za-z0-9_-]{30,}")
# Slack's prefixes (xoxe.xoxp- for a rotating token); "xoxb-" alone only names the kind.
_SLACK_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?:xox[a-z](?:\.xox[a-z])?|xapp)-[A-Za-z0-9-]*[A-Za-z0-9]")

_remembered: set[str] = set()


def remember(secrets: Iterable[str]) -> None:
    """Mask these in every later ``mask()`` of this process."""
    _remembered.update(s for s in secrets if s)


def mask(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every remembered secret, and ``extra``, masked."""
    return _masker(frozenset([*_remembered, *extra]))(text)


@lru_cache(maxsize=16)
def _masker(secrets: frozenset[str]) -> Masker:
    # Built once per set of secrets: a log line is masked many times a second.
    return Masker(secrets)


def is_distinctive(secret: str) -> bool:
    return len(secret) >= DISTINCTIVE_LENGTH or secret.startswith(_SLACK_PREFIXES)


def _written_forms(secret: str) -> set[str]:
    """How a secret may appear once written out: percent-encoded, escaped."""
    forms = {secret, quote(secret, safe=""), quote(secret), repr(secret)[1:-1]}
    forms |= {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    return {f for f in forms if f}


class Masker:
    """Masks URL passwords and the given secrets in a text, by the rule above."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        known = {s for s in secrets if s and s != MASK}
        # Longest first: a secret containing another is masked whole.
        self.anywhere = sorted(
            {form for s in known if is_distinctive(s) for form in _written_forms(s)}, key=len, reverse=True
        )
        short = sorted({form for s in known if not is_distinctive(s) for form in _written_forms(s)}, key=len, reverse=True)
        self.quoted = (
            re.compile("|".join(f"(?<={re.escape(q)}){re.escape(s)}(?={re.escape(q)})" for s in short for q in _QUOTES))
            if short else None
        )

    def __call__(self, text: str) -> str:
        for secret in self.anywhere:
            text = text.replace(secret, MASK)
        text = _TELEGRAM_TOKEN.sub(MASK, text)
        text = _SLACK_TOKEN.sub(MASK, text)
        text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)
        text = _PASSWORD_PARAMETER.sub(lambda m: m["head"] + MASK, text)
        if self.quoted is not None:
            text = self.quoted.sub(MASK, text)
        return text
