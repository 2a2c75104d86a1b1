"""bot.plain_table draws the CLI's tables line for line as rich does, for
any texts, column counts and widths (rich itself is the reference), and
RowWriter uses it for output without colours."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot import plain_table
from bot.output import RowWriter

# Words of every kind a registry holds: accents, wide (two-cell) characters,
# markup-like brackets, an ellipsis, long words that must be cut.
WORD = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzéÑ漢字[]/…0123456789-:,."), min_size=1, max_size=30)
CELL = st.lists(WORD, max_size=14).map(" ".join)
HEADER = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz_"), min_size=1, max_size=14)


def rich_lines(header: list[str], rows: list[list[str]], width: int) -> list[str]:
    table = Table(*header, show_lines=False, header_style="bold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out = io.StringIO()
    Console(file=out, width=width, highlight=False).print(table)
    return out.getvalue().splitlines()


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]], int]:
    count = draw(st.integers(min_value=1, max_value=18))
    header = draw(st.lists(HEADER, min_size=count, max_size=count))
    rows = draw(st.lists(st.lists(CELL, min_size=count, max_size=count), min_size=1, max_size=6))
    width = draw(st.one_of(st.just(max(120, count * 16)), st.integers(min_value=count * 4, max_value=240)))
    return header, rows, width


@settings(max_examples=400, deadline=None)
@given(tables())
def test_a_table_is_drawn_as_rich_draws_it(table: tuple[list[str], list[list[str]], int]) -> None:
    header, rows, width = table
    drawn = plain_table.render(header, rows, width)
    if drawn is not None:
        assert drawn == rich_lines(header, rows, width)


def test_a_long_text_wraps_and_a_word_too_long_ends_in_an_ellipsis() -> None:
    header = ["id", "text"]
    rows = [["1", "Recommendation 1: ensure that the rights of everyone concerned are respected"], ["2", "x" * 300]]
    drawn = plain_table.render(header, rows, 40)
    assert drawn == rich_lines(header, rows, 40)
    assert any(line.rstrip().endswith("… │") for line in drawn or [])
    assert len({len(line) for line in drawn or []}) == 1


def test_rich_draws_what_the_plain_table_does_not() -> None:
    assert plain_table.render(["id"], [], 120) is None
    assert plain_table.render(["a", "b", "c"], [["x", "y", "z"]], 8) is None


def test_the_writer_draws_the_same_table_either_way() -> None:
    columns = ("id", "country", "text")
    rows = [{"id": n, "country": "Uruguay", "text": f"Recommendation {n} [a] about [/b] rights, with a verylongwordthatcannotfitanywhereinthiscolumn"} for n in range(30)]
    out = io.StringIO()
    writer = RowWriter(columns, "table", out)
    for row in rows:
        writer.write(row)
    writer.close()
    expected = rich_lines(list(columns), [[str(r["id"]), r["country"], r["text"][:59] + "…"] for r in rows], 120)
    assert out.getvalue().splitlines() == expected
