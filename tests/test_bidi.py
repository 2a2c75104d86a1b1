"""Arabic messages read right to left on Telegram and Slack, and what is left
to right inside them keeps its own order (issue 17, messages.bidi).

The clients pick a paragraph's direction from its first strong character
(UAX #9, P2), so the checks here are those of the algorithm itself: the
first strong character of every line, and every left-to-right fragment
inside an isolate."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date

import pytest

import messages
from messages import LANGUAGE_NAMES, RIGHT_TO_LEFT_LANGUAGES, SUPPORTED_LANGUAGES, UPCOMING_LANGUAGES, Catalog, PluralRule, t
from messages.bidi import FSI, LRI, PDI, RLM, fill_right_to_left, isolate, mark_pieces, strip_controls

ARABIC_ONE = "\u062a\u0648\u0635\u064a\u0629"  # "recommendation"


def first_strong(line: str) -> str | None:
    """The bidi class of a paragraph's first strong character, skipping what
    isolates hold (rule P2), as a client does."""
    depth = 0
    for c in line:
        if c in (LRI, "\u2067", FSI):
            depth += 1
        elif c == PDI:
            depth = max(0, depth - 1)
        elif depth == 0 and unicodedata.bidirectional(c) in ("L", "R", "AL"):
            return unicodedata.bidirectional(c)
    return None


def isolated_fragments(text: str) -> list[str]:
    """What each outermost isolate of ``text`` holds."""
    found, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in (LRI, "\u2067", FSI):
            if depth == 0:
                start = i + 1
            depth += 1
        elif c == PDI and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start:i])
    return found


def test_every_language_has_its_own_name_locale_and_direction() -> None:
    everyone = (*SUPPORTED_LANGUAGES, *UPCOMING_LANGUAGES)
    assert set(everyone) == {"en", "fr", "es", "ar", "zh", "ru", "pt"} and len(everyone) == 7
    assert {lang: LANGUAGE_NAMES[lang] for lang in ("ar", "zh", "ru", "pt")} == {
        "ar": "العربية", "zh": "中文", "ru": "Русский", "pt": "Português",
    }
    assert set(messages._LOCALES) == set(everyone)
    assert RIGHT_TO_LEFT_LANGUAGES == {"ar"}


def test_a_value_is_isolated_by_what_it_holds() -> None:
    assert isolate("#4") == LRI + "#4" + PDI
    assert isolate("A/HRC/26/7") == LRI + "A/HRC/26/7" + PDI
    assert isolate("2027-03-31") == LRI + "2027-03-31" + PDI
    assert isolate("https://impo.com.uy/ley-19580") == LRI + "https://impo.com.uy/ley-19580" + PDI
    # Arabic-Indic digits have no strong direction either: an ISO date so typed stays in its order.
    assert isolate("٢٠٢٧-٠٣-٣١") == LRI + "٢٠٢٧-٠٣-٣١" + PDI
    # A name or a reply of either script: its own first letter decides (FSI).
    assert isolate("وزارة العدل (MOJ)") == FSI + "وزارة العدل (MOJ)" + PDI
    assert isolate("Ministry of Justice") == LRI + "Ministry of Justice" + PDI
    # An Arabic word alone needs nothing; nor does an empty value.
    assert isolate(ARABIC_ONE) == ARABIC_ONE and isolate("") == ""
    # An isolate ends with its paragraph: each line has its own.
    assert isolate("line one\nسطر") == LRI + "line one" + PDI + "\n" + FSI + "سطر" + PDI


def test_a_filled_template_reads_right_to_left_line_by_line() -> None:
    template = "{id}: {symbol} " + ARABIC_ONE + "\n\n{date} " + ARABIC_ONE + "\n{text}"
    filled = fill_right_to_left(template, {"id": "#4", "symbol": "A/HRC/26/7", "date": "2027-03-31", "text": "Law 19.580\nadopted"})
    lines = filled.split("\n")
    assert [first_strong(line) for line in lines if line] == ["R"] * 4
    assert all(line.startswith(RLM) for line in lines if line) and lines[1] == ""
    assert isolated_fragments(filled) == ["#4", "A/HRC/26/7", "2027-03-31", "Law 19.580", "adopted"]
    # A format spec applies before the isolate does.
    assert fill_right_to_left("{n:>3}", {"n": 7}) == RLM + LRI + "  7" + PDI
    assert strip_controls(filled) == template.format(id="#4", symbol="A/HRC/26/7", date="2027-03-31", text="Law 19.580\nadopted")


def test_pieces_of_a_split_message_each_begin_right_to_left() -> None:
    assert mark_pieces([RLM + "أ", "ب ج", "", "  "]) == [RLM + "أ", RLM + "ب ج", "", "  "]


@pytest.fixture
def arabic(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """t() speaking Arabic, whatever the catalog holds yet: the two messages
    below are Arabic, anything else falls back to English."""
    english = messages._load("en")
    texts: dict[str, messages.Text] = {
        "update.saved": "تم الحفظ: التوصية {id} أصبحت «{status}». شكراً.",
        "button.in_days": ("بعد {count} يوم",) * 6,
        "mine.header": ("{institution}: {count} توصية. الصفحة {page} من {pages}.",) * 6,
    }
    rule = messages.plural_rule("ar") if (messages.resources.files("messages") / "locale" / "ar.po").is_file() else None
    plural = rule or PluralRule("", 6, "(n == 0 ? 0 : n == 1 ? 1 : n == 2 ? 2 : n % 100 >= 3 && n % 100 <= 10 ? 3 : n % 100 >= 11 && n % 100 <= 99 ? 4 : 5)")
    fake = Catalog(texts, plural)
    real = messages._load

    def load(language: str) -> Catalog:
        return fake if language == "ar" else real(language)

    monkeypatch.setattr(messages, "_load", load)
    monkeypatch.setattr(messages, "SUPPORTED_LANGUAGES", (*SUPPORTED_LANGUAGES, "ar"))
    assert english.messages
    yield


@pytest.mark.usefixtures("arabic")
def test_t_isolates_the_values_of_an_arabic_message_and_marks_it_right_to_left() -> None:
    said = t("update.saved", "ar", id="#4", status="قيد التنفيذ")
    assert said.startswith(RLM) and first_strong(said) == "R"
    assert isolated_fragments(said) == ["#4"]
    assert strip_controls(said) == "تم الحفظ: التوصية #4 أصبحت «قيد التنفيذ». شكراً."
    header = t("mine.header", "ar", institution="MOJ", count=3, page=1, pages=2)
    # The count in Arabic-Indic digits (ar_EG); a whole number given as it is
    # (a page, an id the reader types back) keeps its Latin digits. Each isolated.
    assert isolated_fragments(header) == ["MOJ", "٣", "1", "2"] and first_strong(header) == "R"


@pytest.mark.usefixtures("arabic")
def test_an_english_fallback_in_an_arabic_turn_is_left_as_english() -> None:
    """A key the Arabic catalog lacks yet is said in English, left to right."""
    assert t("button.cancel", "ar") == "Cancel"


def test_other_languages_are_not_marked() -> None:
    for language in (lang for lang in SUPPORTED_LANGUAGES if lang not in RIGHT_TO_LEFT_LANGUAGES):
        said = t("update.saved", language, id=12, status="x")
        assert strip_controls(said) == said, language


def test_dates_and_numbers_in_arabic_digits() -> None:
    assert messages.local_date(date(2026, 11, 22), "ar") == "٢٢ نوفمبر ٢٠٢٦"
    assert messages.local_number(1234.5, "ar") == "١٬٢٣٤٫٥"
    assert messages.local_number(1234.5, "zh") == "1,234.5" and messages.local_number(1234.5, "ru") == "1\xa0234,5"
    assert messages.local_date(date(2026, 11, 22), "zh") == "2026年11月22日"
    assert messages.local_date(date(2026, 11, 22), "pt") == "22 de novembro de 2026"


def test_numbers_typed_in_each_locales_habits() -> None:
    from decimal import Decimal

    from messages.numbers import read_number

    expected = Decimal("1234.5")
    typed = {
        "ar": ["١٬٢٣٤٫٥", "١٢٣٤٫٥", "۱۲۳۴٫۵", "1,234.5", "1234.5", RLM + "١٢٣٤٫٥"],
        "zh": ["1,234.5", "１２３４．５", "1234.5"],
        "ru": ["1 234,5", "1\xa0234,5", "1234,5"],
        "pt": ["1.234,5", "1234,5"],
        "fr": ["1 234,5", "1\u202f234,5"],
    }
    for language, texts in typed.items():
        assert [read_number(text, language) for text in texts] == [expected] * len(texts), language
    # Still strict: another locale's separators are refused, not misread.
    assert [read_number("1.234,5", "ar"), read_number("1.234,5", "ru"), read_number("1,234.5", "pt"), read_number("١٢ abc", "ar")] == [None] * 4


def test_dates_and_skip_words_typed_by_an_arabic_reader() -> None:
    from handlers.update_text import is_skip, read_date, read_update

    assert read_date("٢٠٢٧-٠٣-٣١") == read_date("۲۰۲۷-۰۳-۳۱") == read_date(RLM + "2027-03-31") == date(2027, 3, 31)
    assert read_date("٢٠٢٧-٠٢-٣٠") is None
    assert is_skip(RLM + "skip") and is_skip("\u2068passer\u2069")
    update = read_update("Law adopted\nNext: decree, by ٢٠٢٧-٠٣-٣١")
    assert update.next_date == date(2027, 3, 31) and update.bad_date is None


def test_a_long_arabic_message_is_split_with_every_piece_right_to_left() -> None:
    """Telegram's 4,096 and Slack's 3,000 hold with the marks counted; a piece
    cut inside a paragraph still begins right to left."""
    from bot.transports import slack_blocks, telegram_format
    from bot.transports.text import utf16_length
    from handlers.chat_port import OutgoingMessage

    paragraph = fill_right_to_left("{id} " + " ".join([ARABIC_ONE] * 1200), {"id": "#4"})
    message = OutgoingMessage("x", paragraph, language="ar")
    pieces = [text for text, _ in telegram_format.render(message)]
    assert len(pieces) > 1 and all(p.startswith(RLM) and utf16_length(p) <= telegram_format.MAX_MESSAGE for p in pieces)
    sections = [b["text"]["text"] for _, blocks in slack_blocks.render(message) for b in blocks if b["type"] == "section"]
    assert len(sections) > 1 and all(s.startswith(RLM) and len(s) <= slack_blocks.MAX_SECTION_TEXT for s in sections)
    # English is split as before, with no mark.
    english = OutgoingMessage("x", " ".join(["word"] * 2000), language="en")
    assert not any(RLM in text for text, _ in telegram_format.render(english))


def test_a_number_sign_before_a_placeholder_is_isolated_with_it() -> None:
    """"#{id}" in a catalog: the reader sees #4 as one left-to-right piece, not 4#."""
    filled = fill_right_to_left("حالة #{id} و№{n} {{x}}", {"id": 4, "n": 5})
    assert isolated_fragments(filled) == ["#4", "№5"] and filled.endswith(" {x}")


def test_every_message_to_an_arabic_reader_is_marked_whoever_wrote_it() -> None:
    """A reminder's list put together line by line, kept by the outbox and sent later."""
    from handlers.chat_port import OutgoingMessage

    message = OutgoingMessage("reminder", "• #4 UPR\n\n" + RLM + ARABIC_ONE, language="ar")
    assert message.text == RLM + "• #4 UPR\n\n" + RLM + ARABIC_ONE
    assert OutgoingMessage.from_dict(message.to_dict()).text == message.text
    assert OutgoingMessage("reminder", "• #4 UPR", language="en").text == "• #4 UPR"


def test_an_arabic_value_in_a_left_to_right_message_is_isolated() -> None:
    """Jean's Arabic answer quoted to an English-reading secretariat: its
    number and full stop stay with it, not with the words after it."""
    from messages.bidi import isolate_in_left_to_right

    answer = "خصصت الوزارة 1,2 مليون بيزو."
    assert isolate_in_left_to_right(answer) == FSI + answer + PDI
    assert isolate_in_left_to_right("Ministry of Justice") == "Ministry of Justice" and isolate_in_left_to_right(12) == 12
    said = t("update.saved", "en", id=12, status=answer)
    assert FSI + answer + PDI in said and said.replace(FSI, "").replace(PDI, "") == t("update.saved", "en", id=12, status="x").replace("x", answer)
