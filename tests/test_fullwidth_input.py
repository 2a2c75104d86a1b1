"""What a Chinese input method types: a full-width colon in a filter
(机制：CRC) and a full-width full stop after a word (跳过。) are read as
their ASCII forms are (issue 17: typed input in each locale's habits)."""

from __future__ import annotations

from handlers.find_chat import parse
from handlers.report_orders import parse_filters
from handlers.update_text import is_skip


def test_a_filter_typed_with_a_full_width_colon_is_read() -> None:
    assert parse("机制：CRC", "zh") == parse("机制:CRC", "zh")
    assert parse("机制:CRC", "zh")[1] != {}
    assert parse_filters(["优先级：高"], "zh") == parse_filters(["优先级:高"], "zh")
    assert parse_filters(["优先级:高"], "zh")[1] != {}


def test_skip_typed_with_a_full_width_stop_is_read() -> None:
    assert is_skip("跳过。") and is_skip("跳过！") and is_skip("跳过")
    assert not is_skip("跳过了。")
