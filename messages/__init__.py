"""What the bot says, one gettext catalog per language (``locale/<lang>.po``).

Every message has a key (the msgid, e.g. ``update.ask_status``) and named
``{placeholders}``. Translators edit the .po files with any gettext tool;
the test suite fails if a language lacks a key or changes a placeholder.
Dates and numbers are formatted for the reader's locale by Babel.

A message with a count is a gettext plural entry: ``msgid`` and
``msgid_plural`` are its key, and ``msgstr[0]``, ``msgstr[1]``... its forms,
as many as the catalog's ``Plural-Forms`` header says, in the order of the
header's expression. Each header is the one Babel gives from CLDR for that
language (``babel.messages.plurals.get_plural``: English and Spanish 1 alone
singular, French 0 and 1; French and Spanish also have CLDR's "many" form,
for whole millions: "1 000 000 de recommandations"). ``t(key, lang,
count=n)`` picks the form for ``n`` by that header and fills ``{count}``
with ``n`` written in the reader's locale. A message with two counts names
the second through a plural entry of its own (``count.institutions``).
"""

from __future__ import annotations

import gettext
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, BinaryIO

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

# A message: its text, or a plural entry's forms.
Text = str | tuple[str, ...]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluralRule:
    """A catalog's ``Plural-Forms`` header, read by Babel: how many forms a
    plural entry has, and which of them a count takes."""

    header: str
    forms: int
    expression: str

    def index(self, n: int) -> int:
        return _compiled(self.expression)(n)


@cache
def _compiled(expression: str) -> Callable[[int], int]:
    return gettext.c2py(expression)


@dataclass(frozen=True)
class Catalog:
    messages: dict[str, Text]
    plural: PluralRule

    def form(self, key: str, count: int) -> str:
        """The form of the plural entry ``key`` that ``count`` takes."""
        forms = self.messages[key]
        if isinstance(forms, str):
            return forms
        return forms[min(self.plural.index(abs(count)), len(forms) - 1)]


def parse_catalog(source: BinaryIO, language: str) -> Catalog:
    """One .po file, read by Babel: its messages and its plural forms."""
    parsed = read_po(source, locale=language)
    messages: dict[str, Text] = {}
    for m in parsed:
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            forms = tuple(str(s) for s in m.string)
            if forms and all(forms):  # an entry with a form left empty is missing
                messages[str(m.id[0])] = forms
        elif m.string:
            messages[str(m.id)] = str(m.string)
    return Catalog(messages, PluralRule(parsed.plural_forms, parsed.num_plurals, parsed.plural_expr))


@cache
def _load(language: str) -> Catalog:
    with resources.files(__package__).joinpath("locale", f"{language}.po").open("rb") as fh:
        return parse_catalog(fh, language)


def catalog(language: str) -> dict[str, Text]:
    """key -> text (a plural entry: its forms) for one language, read once from its .po file."""
    return _load(language).messages


def plural_rule(language: str) -> PluralRule:
    """The plural forms of one language's catalog, from its header."""
    return _load(language).plural


def t(key: str, language: str, /, **values: Any) -> str:
    """The message ``key`` in ``language``, English when that language lacks it.

    A plural entry takes the form for ``count`` (an int) in that language,
    and its ``{count}`` is that number in the reader's locale ("1 000 000").
    """
    if language not in SUPPORTED_LANGUAGES:
        language = DEFAULT_LANGUAGE
    text = catalog(language).get(key)
    if text is None:
        log.warning("message %r missing in %r; using English", key, language)
        language = DEFAULT_LANGUAGE
        text = catalog(DEFAULT_LANGUAGE)[key]
    if isinstance(text, tuple):
        count = values.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise TypeError(f"message {key!r} has plural forms: give count= as a whole number, not {count!r}")
        text = _load(language).form(key, count)
        values = {**values, "count": local_number(count, language)}
    return text.format(**values) if values else text


def local_date(day: date, language: str) -> str:
    """'22 November 2026', '22 novembre 2026', '22 de noviembre de 2026'."""
    return format_date(day, format="long", locale=_LOCALES.get(language, "en_GB"))


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, the last an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_number(value: float, language: str) -> str:
    return format_decimal(value, locale=_LOCALES.get(language, "en_GB"))
