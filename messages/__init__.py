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

from babel import Locale
from babel.dates import format_date
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from messages import bidi

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "ar", "zh", "ru", "pt")
# Languages whose catalogs are being written: everything below knows them
# (locale, name, direction), tests check their catalogs as far as they go,
# and they join SUPPORTED_LANGUAGES (what a person may choose and t()
# speaks) once their catalog is complete. Issue 17's four have joined.
UPCOMING_LANGUAGES: tuple[str, ...] = ()
DEFAULT_LANGUAGE = "en"
# Each language's Babel locale, for its dates and numbers.
# The UN writes British English: "22 November 2026".
# Arabic is ar_EG, not CLDR's bare "ar" (ar_001): the bare one counts in
# Latin digits, as the Maghreb does; ar_EG (like ar_SA) in Arabic-Indic
# digits, "٢٢ نوفمبر ٢٠٢٦", as the UN's Arabic documents and the Mashriq do,
# with the same month names. A reader typing either kind is understood
# (messages.numbers.read_number). Chinese is Simplified, the UN's; Portuguese
# is CLDR's "pt" (Brazil's habits: 1.234,5; 0 and 1 singular).
_LOCALES = {"en": "en_GB", "fr": "fr", "es": "es", "ar": "ar_EG", "zh": "zh_Hans_CN", "ru": "ru", "pt": "pt"}
# Each language by its own name, as a language picker shows them.
LANGUAGE_NAMES = {
    "en": "English", "fr": "Français", "es": "Español",
    "ar": "العربية", "zh": "中文", "ru": "Русский", "pt": "Português",
}
# Written right to left: t() marks their paragraphs and isolates their values (messages.bidi).
RIGHT_TO_LEFT_LANGUAGES = frozenset({"ar"})
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
    source = resources.files(__package__).joinpath("locale", f"{language}.po")
    if not source.is_file():
        # A language whose catalog is not written yet: every key falls back to
        # English, with CLDR's plural forms ready for when it comes.
        rule = get_plural(language)
        return Catalog({}, PluralRule(f"nplurals={rule.num_plurals}; plural={rule.plural_expr};", rule.num_plurals, rule.plural_expr))
    with source.open("rb") as fh:
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
    if language in RIGHT_TO_LEFT_LANGUAGES:
        # The one place right-to-left text is made to read so on every platform.
        return bidi.fill_right_to_left(text, values)
    if not values:
        return text
    return text.format(**{name: bidi.isolate_in_left_to_right(value) for name, value in values.items()})


def language_of_locale(tag: str | None) -> str | None:
    """The supported language a platform's locale names (Telegram's
    ``language_code`` "pt-BR", "zh-hans", "ar"; Slack's "ar-SA", "zh-CN"),
    or None when the bot does not speak it."""
    if not tag:
        return None
    # zh-TW, zh-HK and zh-Hant (Traditional) are proposed Chinese too: the
    # catalog is Simplified, the UN's, and a reader of Traditional reads it
    # far more readily than English; the proposal is one they may decline.
    code = tag.replace("_", "-").split("-")[0].lower()
    return code if code in SUPPORTED_LANGUAGES else None


def for_reader(text: str, language: str) -> str:
    """Text put together from lines already rendered (a list), each of its
    paragraphs marked right to left for a reader of such a language."""
    return bidi.mark_paragraphs(text) if language in RIGHT_TO_LEFT_LANGUAGES else text


def locale_of(language: str) -> str:
    """The Babel locale a language's dates and numbers are written in."""
    return _LOCALES.get(language, "en_GB")


# The digits of the numbering systems our locales count in, beyond Latin;
# Babel gives a locale's symbols in them (٫ ٬) but writes every digit in Latin.
_ZEROS = {"arab": 0x0660, "arabext": 0x06F0}


@cache
def _digit_table(locale: str) -> dict[int, str]:
    zero = _ZEROS.get(Locale.parse(locale).default_numbering_system)
    return {} if zero is None else {ord("0") + d: chr(zero + d) for d in range(10)}


def native_digits(text: str, language: str) -> str:
    """``text`` (a number or date Babel wrote) in the digits its locale counts in: ١٢٣ in Arabic."""
    table = _digit_table(locale_of(language))
    return text.translate(table) if table else text


def local_date(day: date, language: str) -> str:
    """'22 November 2026', '22 novembre 2026', '22 de noviembre de 2026', '٢٢ نوفمبر ٢٠٢٦'."""
    return native_digits(format_date(day, format="long", locale=locale_of(language)), language)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, the last an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_number(value: float, language: str) -> str:
    """1,234.5 / 1 234,5 / ١٬٢٣٤٫٥: the locale's own numbering system, symbols and digits."""
    return native_digits(format_decimal(value, locale=locale_of(language), numbering_system="default"), language)
