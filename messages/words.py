"""The words a person types as a command's arguments (yes, no, high,
priority:, by:sdg-goal...), in their own language as well as in English
(issue 15 review): each list is a catalog message of its own, ``words.*``,
its words separated by commas (or "|", as the older ``words.next`` and
``words.skip`` are), so a translator adds a language's words without
touching code, and a reader of Spanish may type ``alta`` where the English
reader types ``high``.

A word is matched without regard to case, directional marks (an Arabic
reader's client adds them), "_" for "-" or the accents of Latin letters
("si" is "sí", "priorite" is "priorité"); the reader's language is tried first, then
English, which every reader may always type."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache

from messages import DEFAULT_LANGUAGE, catalog
from messages.bidi import strip_controls

_SEPARATORS = re.compile(r"[,|]")


def fold(word: str) -> str:
    """A typed word as it is compared: lower case, no marks, no accents on
    Latin letters, "_" as "-" (in_progress or in-progress, as a phone types it)."""
    text = unicodedata.normalize("NFD", strip_controls(word).strip().casefold().replace("_", "-"))
    out: list[str] = []
    for ch in text:
        # Only a Latin letter's accent goes: a Cyrillic й is not и.
        if unicodedata.combining(ch) and out and out[-1].isascii():
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@cache
def _own(key: str, language: str) -> tuple[str, ...]:
    text = catalog(language).get(key)
    if not isinstance(text, str):
        return ()
    return tuple(w.strip() for w in _SEPARATORS.split(strip_controls(text)) if w.strip())


def words(key: str, language: str) -> tuple[str, ...]:
    """The words of ``key`` a reader of ``language`` may type, theirs first, then English's."""
    found = list(_own(key, language))
    if language != DEFAULT_LANGUAGE:
        found += _own(key, DEFAULT_LANGUAGE)
    return tuple(dict.fromkeys(found))


def first_word(key: str, language: str) -> str:
    """The word to show a reader of ``language`` (their first; else English's)."""
    own = _own(key, language) or _own(key, DEFAULT_LANGUAGE)
    return own[0] if own else key.rsplit(".", 1)[-1]


def read_word(typed: str, choices: Mapping[str, str], language: str) -> str | None:
    """Which of ``choices`` (value -> its ``words.*`` key) ``typed`` names:
    the value, or None. The reader's own words win over English's, so a
    word that is one thing in English and another in theirs reads as theirs."""
    wanted = fold(typed)
    if not wanted:
        return None
    for source in ((language, DEFAULT_LANGUAGE) if language != DEFAULT_LANGUAGE else (DEFAULT_LANGUAGE,)):
        for value, key in choices.items():
            if any(fold(w) == wanted for w in _own(key, source)):
                return value
    return None


def shown(choices: Mapping[str, str] | Iterable[str], language: str, separator: str = "|") -> str:
    """The choices as a reader of ``language`` is told them: "alta|media|baja"."""
    keys = choices.values() if isinstance(choices, Mapping) else choices
    return separator.join(first_word(key, language) for key in keys)
