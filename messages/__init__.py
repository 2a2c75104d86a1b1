"""What the bot says, one gettext catalog per language (``locale/<lang>.po``).

Every message has a key (the msgid, e.g. ``update.ask_status``) and named
``{placeholders}``. Translators edit the .po files with any gettext tool;
the test suite fails if a language lacks a key or changes a placeholder.
Dates and numbers are formatted for the reader's locale by Babel.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "es")
DEFAULT_LANGUAGE = "en"
# The UN writes British English: "22 November 2026".
_LOCALES = {"en": "en_GB", "fr": "fr", "es": "es"}
# Each language by its own name, as a language picker shows them.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}
# Dates are typed as ISO everywhere: unambiguous whatever the reader's habits.
DATE_EXAMPLE = "2027-03-31"

log = logging.getLogger(__name__)


@cache
def catalog(language: str) -> dict[str, str]:
    """key -> text for one language, read once from its .po file."""
    source = resources.files(__package__).joinpath("locale", f"{language}.po")
    with source.open("rb") as fh:
        parsed = read_po(fh, locale=language)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string}


def t(key: str, language: str, /, **values: Any) -> str:
    """The message ``key`` in ``language``, English when that language lacks it."""
    if language not in SUPPORTED_LANGUAGES:
        language = DEFAULT_LANGUAGE
    text = catalog(language).get(key)
    if text is None:
        log.warning("message %r missing in %r; using English", key, language)
        text = catalog(DEFAULT_LANGUAGE)[key]
    return text.format(**values) if values else text


def local_date(day: date, language: str) -> str:
    """'22 November 2026', '22 novembre 2026', '22 de noviembre de 2026'."""
    return format_date(day, format="long", locale=_LOCALES.get(language, "en_GB"))


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, the last an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_number(value: float, language: str) -> str:
    return format_decimal(value, locale=_LOCALES.get(language, "en_GB"))
