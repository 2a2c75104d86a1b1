"""One typed message read as an update: what was done, its links, and
optionally the next step and its date.

A focal point on a phone writes one message, not four answers:

    Law 19.580 adopted; see https://impo.com.uy/ley-19580
    Next: the implementing decree, by 2027-03-31

Every link is taken as evidence and stays in the text. A line that starts
with a next-step word of any catalog ("Next:", "Prochaine étape :",
"Próximo paso:") is the next step, and an ISO date in it is that step's
date. The words come from the catalogs (``words.next``, ``words.skip``), so
a new language brings its own and a reader may type in any of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from messages import SUPPORTED_LANGUAGES, t
from messages.bidi import strip_controls
from messages.numbers import latin_digits

URL = re.compile(r"https?://[^\s<>\"']+")
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
# A narrative is free text, but not a book: long enough for a paragraph of a report.
MAX_TEXT = 10_000


@dataclass(frozen=True)
class ReadUpdate:
    narrative: str | None
    links: tuple[str, ...] = ()
    next_step: str | None = None
    next_date: date | None = None
    # A date typed in the next-step line that is no day of the calendar (2027-02-30).
    bad_date: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _plain(text: str) -> str:
    """A word as it is compared: without direction marks (messages.bidi), in
    its case-folded form, and without Arabic's short vowels and shadda
    (combining marks a reader may or may not type: تخطٍّ is تخط). Letters
    with their accent (é, ñ) are single characters and keep it."""
    return "".join(c for c in strip_controls(text).casefold() if unicodedata.category(c) != "Mn")


def _words(key: str, compare: Callable[[str], str]) -> tuple[str, ...]:
    found: list[str] = []
    for language in SUPPORTED_LANGUAGES:
        found.extend(compare(w).strip() for w in t(key, language).split("|") if strip_controls(w).strip())
    return tuple(dict.fromkeys(found))


@cache
def skip_words() -> frozenset[str]:
    return frozenset(_words("words.skip", _plain))


@cache
def _next_line() -> re.Pattern[str]:
    # Matched against the line as typed (case aside), marks only taken out.
    words = sorted(_words("words.next", lambda w: strip_controls(w).casefold()), key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return re.compile(rf"^\s*(?:{alternatives})\s*[:：–—]\s*(?P<step>.+?)\s*$", re.IGNORECASE)


def is_skip(text: str) -> bool:
    """"skip", "passer", "omitir"...: typed where the Skip button is."""
    # The full stop and exclamation mark of Arabic and Chinese keyboards too (؟ 。 ！).
    return _plain(text).strip().strip(".!؟\u3002\uff01").strip() in skip_words()


def links_in(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(u.rstrip(".,;:)") for u in URL.findall(text)))


def read_date(text: str) -> date | None:
    """An ISO date, or None when it is none (2027-02-30, "soon"); in any
    script's digits (٢٠٢٧-٠٣-٣١ from an Arabic reader)."""
    try:
        return date.fromisoformat(latin_digits(strip_controls(text)).strip())
    except ValueError:
        return None


def read_update(text: str) -> ReadUpdate:
    text = text.strip()[:MAX_TEXT]
    narrative_lines: list[str] = []
    next_step: str | None = None
    next_date: date | None = None
    bad_date: str | None = None
    for line in text.splitlines():
        found = _next_line().match(strip_controls(line)) if next_step is None else None
        if found is None:
            narrative_lines.append(line)
            continue
        step = found["step"]
        typed = _ISO_DATE.search(step)
        if typed is not None:
            next_date = read_date(typed[1])
            if next_date is None:
                bad_date = typed[1]
        next_step = step
    narrative = "\n".join(narrative_lines).strip() or None
    return ReadUpdate(narrative, links_in(text), next_step, next_date, bad_date)
