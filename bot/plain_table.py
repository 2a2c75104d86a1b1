"""The CLI's tables as rich draws them, for output without colours (a file,
a pipe, a pager), in a fraction of rich's time.

rich lays out and renders every cell through its general machinery
(measurement, padding, segments), about a third of a millisecond a cell:
three seconds for `recommendations list` on a national registry's 3,000
recommendations. The CLI's tables are all one shape (bot.output.RowWriter):
one line of plain text a cell, rich's default heavy-headed box, one space of
padding each side, left-justified columns that wrap at spaces and end a word
too long for its column with an ellipsis. For that shape this module computes
the same column widths as rich's Table and the same lines as rich's Text.wrap,
with rich's own pieces for what is not arithmetic (cell widths, the word
breaks, the width reductions), and tests/test_plain_table.py checks it against
rich itself. Anything else (colours, a non-UTF-8 stream, a very narrow table)
is left to rich.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from rich._ratio import ratio_reduce
from rich._wrap import divide_line, words
from rich.cells import _SINGLE_CELLS, cell_len, get_character_cell_size, set_cell_size
from rich.table import Table

# rich's box.HEAVY_HEAD, edge by edge.
_TOP = ("┏", "━", "┳", "┓")
_HEAD = ("┃", "┃", "┃")
_HEAD_RULE = ("┡", "━", "╇", "┩")
_BODY = ("│", "│", "│")
_BOTTOM = ("└", "─", "┴", "┘")
# One space either side of each cell (rich's Table padding (0, 1)).
_PADDING = 2


# Characters rich gives one cell each, the ellipsis included: bot.output ends
# every cut text with one, which rich's own fast check does not list, and its
# count character by character was half the drawing of a national registry.
_SINGLE = _SINGLE_CELLS | {c for c in "…" if get_character_cell_size(c) == 1}


def _single(text: str) -> bool:
    """Whether every character of ``text`` takes one cell (so cells == len)."""
    return (text.isascii() and text.isprintable()) or _SINGLE.issuperset(text)


def _cells(text: str) -> int:
    """rich's cell_len, counted at once where every character is one cell."""
    return len(text) if _single(text) else cell_len(text)


def _divide(text: str, width: int) -> list[int]:
    """rich's divide_line(text, width, fold=False) for text whose characters
    are one cell each: the same walk over the same words, measured by len."""
    breaks: list[int] = []
    offset = 0
    for start, _end, word in words(text):
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if start:
                breaks.append(start)
            offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def _column_width(longest: int, width: int) -> int:
    """rich's Table._measure_column maximum, in ``width`` cells, for a column
    whose longest text is ``longest`` cells: the text and its padding, within
    the width (rich's Measurement.normalize and with_maximum, worked out).
    Only the maximum counts: a table that does not expand is laid out from its
    columns' maximums alone."""
    if width < 1:
        return 0
    if width - _PADDING < 1:
        return width
    return min(longest + _PADDING, width)


def widths(columns: Sequence[Sequence[str]], max_width: int) -> list[int]:
    """Each column's width, padding included, as rich's Table._calculate_column_widths
    gives it for these texts (each column's header first) in ``max_width`` cells."""
    longest = [max(map(_cells, column)) for column in columns]
    found = [_column_width(size, max_width) or 1 for size in longest]
    if sum(found) > max_width:
        found = Table._collapse_widths(found, [True] * len(found), max_width)
        if sum(found) > max_width:
            found = ratio_reduce(sum(found) - max_width, [1] * len(found), found, found)
        found = [_column_width(size, width) for size, width in zip(longest, found, strict=True)]
    return found


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of exactly ``width`` cells, as rich's Text.wrap gives them
    (justify left, overflow ellipsis, padded)."""
    single = _single(text)
    size = len(text) if single else cell_len(text)
    if size <= width:
        return [text + " " * (width - size)]
    offsets = [0, *(_divide(text, width) if single else divide_line(text, width, fold=False)), len(text)]
    lines = []
    for start, end in itertools.pairwise(offsets):
        line = text[start:end]
        if len(line) > width:
            # rich's rstrip_end: trailing spaces past the width go.
            excess = len(line) - width
            spaces = len(line) - len(line.rstrip())
            line = line[: len(line) - min(spaces, excess)]
        size = len(line) if single else cell_len(line)
        if size > width:
            line = (line[: width - 1] if single else set_cell_size(line, width - 1)) + "…"
        elif size < width:
            line += " " * (width - size)
        lines.append(line)
    return lines


def _rule(edges: tuple[str, str, str, str], column_widths: Sequence[int]) -> str:
    left, line, cross, right = edges
    return left + cross.join(line * w for w in column_widths) + right


def _rows(cells: Sequence[str], column_widths: Sequence[int], edges: tuple[str, str, str]) -> list[str]:
    left, between, right = edges
    wrapped = [wrap(text, w - _PADDING) for text, w in zip(cells, column_widths, strict=True)]
    height = max(len(lines) for lines in wrapped)
    out = []
    for i in range(height):
        parts = [f" {lines[i]} " if i < len(lines) else " " * w for lines, w in zip(wrapped, column_widths, strict=True)]
        out.append(left + between.join(parts) + right)
    return out


def render(header: Sequence[str], rows: Sequence[Sequence[str]], console_width: int) -> list[str] | None:
    """The table's lines as rich prints it in ``console_width`` cells, or None
    where rich would lay it out otherwise (no rows, or a column narrower than
    its padding): rich draws those."""
    if not rows or not header:
        return None
    # The box's verticals: one between each two columns and one each side.
    column_widths = widths([[header[j], *(row[j] for row in rows)] for j in range(len(header))], console_width - (len(header) + 1))
    if min(column_widths) <= _PADDING:
        return None
    lines = [_rule(_TOP, column_widths), *_rows(header, column_widths, _HEAD), _rule(_HEAD_RULE, column_widths)]
    for row in rows:
        lines.extend(_rows(row, column_widths, _BODY))
    lines.append(_rule(_BOTTOM, column_widths))
    return lines
