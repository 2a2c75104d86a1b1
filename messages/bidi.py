"""Right-to-left messages that read right on Telegram and Slack (issue 17).

Neither platform lets a bot say "this message is right to left": each client
picks a paragraph's direction from its first strong character (the Unicode
bidirectional algorithm's rule P2, what Telegram's clients and a browser's
``dir="auto"`` do; tdesktop#3845 and Khaled Hosny's comment on it). An Arabic
message that begins with ``#4`` or a placeholder holding ``A/HRC/26/7`` would
be laid out left to right, and a Latin fragment in the middle of an Arabic
line drags the neutral characters around it (the ``#``, the slashes, a
trailing full stop) to the wrong side. So, for a right-to-left language:

- every paragraph (every line: the clients break paragraphs at a line break)
  begins with RIGHT-TO-LEFT MARK U+200F, a strong R character that shows
  nothing. Not RLI..PDI around the whole: rule P2 skips what an isolate
  holds, so a message wrapped so would have no first strong character and
  fall back to left to right;
- every value filled into a ``{placeholder}`` is a directional isolate:
  LRI U+2066 .. PDI U+2069 when it holds no right-to-left letter (``#4``,
  document symbols, URLs, ISO dates, institution codes, numbers), and FSI
  U+2068 .. PDI, which takes the direction of its own first strong
  character, when it does (an institution's Arabic name, a person's reply
  that may be in either script). An isolate is a neutral to the text around
  it, so nothing inside moves anything outside.

The marks are plain characters: Telegram's HTML escaping leaves them as they
are, they never split an entity (the bot sends no markup of its own), and
Telegram ends a link at them (TDLib's ``is_url_path_symbol`` refuses the
General Punctuation block but for ZWJ, ZWNJ and dashes). They count towards
a platform's length limits like any character, which the splitters measure.
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Any

RLM = "\u200f"
LRM = "\u200e"
LRI = "\u2066"
RLI = "\u2067"
FSI = "\u2068"
PDI = "\u2069"
# Every invisible directional control: stripped from what a person types
# (some keyboards put an RLM before Arabic text) and from catalog word lists.
CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CONTROLS_TABLE = {ord(c): None for c in CONTROLS}

_RIGHT_TO_LEFT = frozenset({"R", "AL"})
# What makes a value need its own isolate: a left-to-right letter, a number
# (European or Arabic-Indic digits, whose order the algorithm resolves by
# their neighbours), or the separators and terminators a number or symbol
# carries (2027-03-31, A/HRC, #4, 50%).
_NEEDS_ISOLATE = frozenset({"L", "EN", "AN", "ES", "ET", "CS"})


def is_right_to_left(text: str) -> bool:
    """Whether ``text`` holds a right-to-left letter (Arabic, Hebrew...)."""
    return any(unicodedata.bidirectional(c) in _RIGHT_TO_LEFT for c in text)


# Right-to-left scripts' blocks (Hebrew, Arabic, Syriac, Thaana, NKo...,
# their presentation forms): a quick look before the exact one.
_RIGHT_TO_LEFT_BLOCKS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def isolate_in_left_to_right(value: object) -> object:
    """A value for a left-to-right message: a text that holds right-to-left
    letters (an Arabic reply quoted to the secretariat, an institution's
    Arabic name) as an FSI isolate, so its numbers and final full stop do not
    take the English words after it along; anything else as it is."""
    if isinstance(value, str) and _RIGHT_TO_LEFT_BLOCKS.search(value) and is_right_to_left(value):
        return "\n".join(FSI + line + PDI if line.strip() else line for line in value.split("\n"))
    return value


def strip_controls(text: str) -> str:
    """``text`` without directional marks and isolates: what a person meant to type."""
    return text.translate(_CONTROLS_TABLE)


def isolate(value: str) -> str:
    """``value`` as a directional isolate, line by line (an isolate ends at
    a paragraph's end whatever it holds); unchanged when it needs none (an
    Arabic word, an empty text)."""
    if not value:
        return value
    if is_right_to_left(value) and not any(unicodedata.bidirectional(c) in _NEEDS_ISOLATE for c in value):
        return value
    return "\n".join(_isolate_line(line) for line in value.split("\n"))


def _isolate_line(line: str) -> str:
    if not line.strip():
        return line
    return (FSI if is_right_to_left(line) else LRI) + line + PDI


def mark_paragraphs(text: str) -> str:
    """Every non-empty line of ``text`` begins with an RLM (once)."""
    return "\n".join(RLM + line if line.strip() and not line.startswith(RLM) else line for line in text.split("\n"))


# Signs a catalog text writes right before a placeholder as part of what it
# shows ("#{id}"): inside the value's isolate, so "#4" reads as one piece.
_STICKY = "#№"
_FORMATTER = string.Formatter()


def fill_right_to_left(template: str, values: dict[str, Any]) -> str:
    """A right-to-left catalog text with its ``{placeholders}`` filled: each
    value isolated (after its format spec, with a "#" written just before
    it), each paragraph marked right to left."""
    if not values:
        return mark_paragraphs(template)
    out: list[str] = []
    for literal, field, spec, conversion in _FORMATTER.parse(template):
        if field is None:
            out.append(literal)
            continue
        kept = literal.rstrip(_STICKY)
        value, _ = _FORMATTER.get_field(field, (), values)
        shown = _FORMATTER.format_field(_FORMATTER.convert_field(value, conversion), spec or "")
        out.append(kept)
        out.append(isolate(literal[len(kept):] + shown))
    return mark_paragraphs("".join(out))


def mark_pieces(pieces: list[str]) -> list[str]:
    """Pieces of a right-to-left message split for a platform's limit, each
    beginning with an RLM: a piece cut inside a paragraph lost its mark.
    The splitter is to leave one character of room for it."""
    return [piece if not piece.strip() or piece.startswith(RLM) else RLM + piece for piece in pieces]
