"""Splitting long text for platforms that cap a message or a block."""

from __future__ import annotations

from collections.abc import Callable

from messages import RIGHT_TO_LEFT_LANGUAGES
from messages.bidi import RLM, mark_pieces

# Break where a reader would: between paragraphs, then lines, then words;
# but not so early that a piece is left mostly empty.
_BREAKS = ("\n\n", "\n", " ")
_LEAST_FILL = 0.5


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Pieces of ``text``, each at most ``limit`` by ``measure``, that joined
    with the separators they were cut at give back the text. A word longer
    than ``limit`` is cut inside."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text
    while measure(rest) > limit:
        cut = _fit(rest, limit, measure)
        head = rest[:cut]
        for separator in _BREAKS:
            at = head.rfind(separator)
            if at > 0 and (at >= len(head) * _LEAST_FILL or separator == " "):
                pieces.append(rest[:at])
                rest = rest[at + len(separator):]
                break
        else:
            pieces.append(head)
            rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _fit(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """The longest prefix length whose measure is within ``limit``."""
    low, high = 1, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_for_reader(text: str, limit: int, language: str, measure: Callable[[str], int] = len) -> list[str]:
    """``split_text`` for a reader of ``language``: a right-to-left message's
    pieces each begin with the RLM that makes it read so (messages.bidi), a
    piece cut inside a paragraph too, with room left for it within ``limit``."""
    if language not in RIGHT_TO_LEFT_LANGUAGES:
        return split_text(text, limit, measure)
    return mark_pieces(split_text(text, limit - measure(RLM), measure))
