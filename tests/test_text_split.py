"""Splitting long messages for the platforms' limits."""

from __future__ import annotations

from hypothesis import given, strategies as st

from bot.transports.text import split_text, utf16_length


def test_short_text_is_one_piece() -> None:
    assert split_text("hello", 10) == ["hello"]
    assert split_text("", 10) == [""]


def test_breaks_between_paragraphs_then_lines_then_words() -> None:
    text = "first paragraph here\n\nsecond one"
    assert split_text(text, 25) == ["first paragraph here", "second one"]
    assert split_text("line one is long\nline two", 20) == ["line one is long", "line two"]
    assert split_text("word " * 5, 12) == ["word word", "word word", "word "]


def test_a_line_break_too_early_is_not_taken() -> None:
    text = "Title:\n" + "x " * 40
    pieces = split_text(text, 50)
    assert len(pieces[0]) >= 25 and all(len(p) <= 50 for p in pieces)


def test_a_word_longer_than_the_limit_is_cut() -> None:
    assert split_text("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]


def test_measured_in_utf16_units_for_telegram() -> None:
    emoji = "\U0001F600" * 3000  # two UTF-16 units each
    pieces = split_text(emoji, 4096, utf16_length)
    assert [utf16_length(p) for p in pieces] == [4096, 1904]


@given(st.text(alphabet=st.sampled_from("ab \n\U0001F600é"), max_size=400), st.integers(min_value=2, max_value=60))
def test_every_piece_fits_and_nothing_but_separators_is_lost(text: str, limit: int) -> None:
    pieces = split_text(text, limit, utf16_length)
    assert all(utf16_length(p) <= limit for p in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
