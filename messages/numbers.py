"""Numbers as a reader types and reads them: "1 234,5" in French, "1.234,5"
in Spanish, "1,234.5" in English, "١٬٢٣٤٫٥" in Arabic; and periods as they
read them (Babel, from CLDR)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from babel.dates import format_interval
from babel import Locale
from babel.numbers import NumberFormatError, format_decimal, format_percent, get_decimal_symbol, get_group_symbol, parse_decimal

from messages import bidi, locale_of, native_digits

# Digits, the locale's separators and a sign; anything else (letters, an
# exponent, a unit) is not a number typed alone.
_SHAPE = re.compile(r"[+-]?[0-9][0-9\s\u00a0\u202f.,]*|[+-]?[.,][0-9]+")
# Where a locale groups with a (narrow) no-break space, people type any space.
_SPACES = re.compile(r"[\s\u00a0\u202f]")
# What a number is shown with, as an example of the format expected.
EXAMPLE = Decimal("1234.5")


def _locale(language: str) -> str:
    return locale_of(language)


def latin_digits(text: str) -> str:
    """Every decimal digit of any script as its Latin digit: an Arabic reader
    types ٢٠٢٧ (or, on a Persian keyboard, ۲۰۲۷), a Chinese one may type
    full-width ２０２７; each is 2027. Other characters are kept."""
    return "".join(str(unicodedata.decimal(c)) if not c.isascii() and unicodedata.decimal(c, None) is not None else c for c in text)


def _latin_symbols(text: str, locale: str) -> str:
    """The separators of the locale's own numbering system (Arabic's ٫ and ٬)
    as those of its Latin one, which the typed digits are now in: ١٬٢٣٤٫٥ is
    1,234.5 to ar_EG. Full-width ones (，．) as their ASCII forms."""
    text = text.replace("\uff0c", ",").replace("\uff0e", ".")
    native = (get_decimal_symbol(locale, numbering_system="default"), get_group_symbol(locale, numbering_system="default"))
    latin = (get_decimal_symbol(locale, numbering_system="latn"), get_group_symbol(locale, numbering_system="latn"))
    if native == latin:
        return text
    # Arabic keyboards give the Arabic decimal and thousands separators as
    # ٫ and ٬ whatever the locale's own symbols; take those too.
    for typed, meant in ((native[0], latin[0]), (native[1], latin[1]), ("\u066b", latin[0]), ("\u066c", latin[1])):
        text = text.replace(typed, meant)
    return text


def read_number(text: str, language: str) -> Decimal | None:
    """The number typed in the reader's locale's format, or None when it is
    not one written that way ("1.234,5" from an English reader, "12 abc").
    Digits of any script count as theirs; an Arabic reader's ٫ and ٬ as the
    locale's decimal and group separators."""
    typed = latin_digits(bidi.strip_controls(text).strip()).replace("\u2212", "-")
    typed = _latin_symbols(typed, _locale(language))
    if not _SHAPE.fullmatch(typed):
        return None
    group = get_group_symbol(_locale(language), numbering_system="latn")
    if _SPACES.fullmatch(group):
        # French groups with a narrow no-break space, Russian with a no-break one.
        typed = _SPACES.sub(group, typed)
    try:
        # Strict: "1.234,5" is refused in English rather than read as 1.2345.
        value = parse_decimal(typed, locale=_locale(language), strict=True, numbering_system="latn")
    except NumberFormatError:
        return None
    return value if value.is_finite() else None


def local_decimal(value: Decimal, language: str, *, signed: bool = False) -> str:
    """Every decimal kept (12,3456 stays so), the locale's separators; ``signed``
    shows a plus on a positive change (+2,5)."""
    shown = native_digits(format_decimal(
        abs(value) if signed else value, locale=_locale(language), decimal_quantization=False, numbering_system="default",
    ), language)
    if not signed:
        return shown
    return ("+" if value > 0 else "−" if value < 0 else "±") + shown


def number_example(language: str) -> str:
    """1 234,5 / 1.234,5 / 1,234.5: how the reader is to type a number."""
    return local_decimal(EXAMPLE, language)


def local_period(start: date, end: date, language: str) -> str:
    """'1 Oct – 31 Dec 2026', '1 oct. – 31 déc. 2026', '1 oct – 31 dic 2026'."""
    return native_digits(format_interval(start, end, "yMMMd", locale=_locale(language)), language)


def local_amount(value: Decimal, language: str) -> str:
    """A sum of money to the cent, the locale's separators: 150 000,50 / 150.000,50 / 150,000.50."""
    return native_digits(format_decimal(value, format="#,##0.00", locale=_locale(language), numbering_system="default"), language)


def local_percent(share: float, language: str) -> str:
    """``share`` (0.125) as a percentage, to a decimal at most, in the
    locale's pattern, digits and sign: 12.5% / 12,5 % / ١٢٫٥٪. Babel writes
    the pattern's "%" whatever the locale's own sign, so that sign (Arabic's
    ٪, with its letter mark) is put in here."""
    locale = Locale.parse(_locale(language))
    shown = format_percent(
        Decimal(str(round(100 * share, 1))) / 100, locale=locale, decimal_quantization=False, numbering_system="default",
    )
    sign = locale.number_symbols.get(locale.default_numbering_system, {}).get("percentSign", "%")
    return native_digits(shown.replace("%", sign), language)
