"""The reports in Arabic and Chinese (issue 17): right to left where Arabic
is (the xlsx sheets' view, the docx's bidi properties, the HTML's dir and
lang), and chart labels drawn with real glyphs in a Noto font, with no
missing-glyph warning from matplotlib; the Arabic and Chinese pages as
headless Chromium draws them."""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import messages
from bot.reports import chart_fonts, progress_page
from bot.reports.build import make_report
from bot.reports.pledges import make_pledges_report
from bot.reports.progress_page import render_progress_page
from bot.reports.rtl import has_rtl, rtl_document, rtl_pieces
from handlers.report_orders import ReportOrder
from messages.bidi import CONTROLS
from storage.report_progress import Progress
from tests.cli_harness import Cli
from tests.fakes import FakeClock
from tests.test_pledge_cli import cli  # noqa: F401 - the fixture is shared
from tests.test_progress_page import CHROMIUM, screenshot
from tests.test_reports import registry  # noqa: F401 - the fixture is shared

NOW = datetime(2026, 11, 23, 13, tzinfo=timezone.utc)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ARABIC_CLUSTER = "الوصول إلى العدالة"  # access to justice
CHINESE_CLUSTER = "诉诸司法"


@pytest.fixture(autouse=True)
def seven(monkeypatch: pytest.MonkeyPatch) -> None:
    """Arabic and Chinese spoken by t() (the lead adds them to SUPPORTED_LANGUAGES once their catalogs are whole)."""
    monkeypatch.setattr(messages, "SUPPORTED_LANGUAGES", tuple(dict.fromkeys((*messages.SUPPORTED_LANGUAGES, "ar", "zh", "ru", "pt"))))


def figures() -> tuple[Progress, list[dict[str, object]]]:
    """A page's figures with clusters and institutions named in Arabic, Chinese and Latin."""
    counts = Counter({"not_started": 2, "in_progress": 1, "fully_implemented": 1})
    shown = Progress(
        total=4, answered=2, by_status=counts, by_cluster={ARABIC_CLUSTER: counts, CHINESE_CLUSTER: counts, "Access to justice": counts},
        by_institution={"وزارة العدل": counts, "MOJ": counts}, response={"MOJ": (3, 2)}, updates_by_month=Counter({"2026-09": 1, "2026-10": 1}),
    )
    rows: list[dict[str, object]] = [{
        "mechanism": "UPR", "document": "A/HRC/48/9", "paragraph": "118.3", "text": "ضمان وصول النساء إلى العدالة", "status": "in_progress",
        "institutions": "MOJ", "sdg_targets": "5.2; 16.3",
    }]
    return shown, rows


def page(language: str) -> str:
    shown, rows = figures()
    return render_progress_page(shown, rows, as_of=NOW, language=language, timezone="UTC", public=True)


@pytest.mark.parametrize(("language", "lang", "direction"), [("ar", "ar", "rtl"), ("zh", "zh-Hans", "ltr"), ("ru", "ru", "ltr"), ("pt", "pt", "ltr"), ("en", "en", "ltr")])
def test_the_page_says_its_language_and_direction(language: str, lang: str, direction: str) -> None:
    assert f'<html lang="{lang}" dir="{direction}">' in page(language)


def test_an_arabic_page_mirrors_and_keeps_left_to_right_fragments_in_their_order() -> None:
    arabic, english = page("ar"), page("en")
    # Logical properties: the table's cells start on the reader's side, in either direction.
    assert "text-align:start" in arabic and "text-align:left" not in arabic
    # A symbol, its targets, an institution code are isolated left to right; on an English page nothing needs it.
    assert '<bdi dir="ltr">UPR A/HRC/48/9 118.3</bdi>' in arabic and '<bdi dir="ltr">5.2; 16.3</bdi>' in arabic
    assert "<bdi" not in english
    # The charts are not mirrored with the page: their axes read as drawn.
    assert arabic.count('<svg dir="ltr" ') == arabic.count("<svg") == 4
    # The title is the catalog's Arabic one.
    assert f"<h1>{messages.t('progress.title', 'ar')}</h1>" in arabic and has_rtl(messages.t("progress.title", "ar"))


def missing_glyphs(caught: list[warnings.WarningMessage], records: list[logging.LogRecord]) -> list[str]:
    said = [str(w.message) for w in caught] + [r.getMessage() for r in records]
    return [s for s in said if "missing from font" in s or "findfont" in s]


@pytest.mark.parametrize(("language", "font"), [("ar", "NotoSansArabic"), ("zh", "NotoSansCJK")])
def test_chart_labels_in_arabic_and_chinese_have_their_glyphs(language: str, font: str, caplog: pytest.LogCaptureFixture) -> None:
    assert chart_fonts.available() == {chart_fonts.ARABIC, chart_fonts.CHINESE}, "fonts-noto-core and fonts-noto-cjk are needed (.ci/run installs them)"
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        shown = page(language)
    assert missing_glyphs(caught, caplog.records) == []
    # The SVG's glyphs are paths named by their font: the script's Noto font drew the labels.
    assert re.search(rf'<path id="{font}[-\w]*-[0-9a-f]+"', shown)


def test_without_the_noto_fonts_matplotlib_says_glyphs_are_missing(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The check above can fail: DejaVu Sans alone has no Chinese."""
    monkeypatch.setattr(progress_page, "families", lambda language: ["DejaVu Sans"])
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        page("zh")
    assert any("missing from font" in s for s in missing_glyphs(caught, caplog.records))


def test_a_mixed_line_is_cut_by_direction() -> None:
    assert rtl_pieces("التوصية 118.3 (A/HRC/48/9)") == [("التوصية ", True), ("118.3", False), (" (", True), ("A/HRC/48/9", False), (")", True)]
    assert rtl_pieces("MOJ: 35%") == [("MOJ: 35%", False)]
    # What the catalog isolated as left to right stays one piece, its brackets in it; an Arabic value's isolate is right to left.
    line = messages.t("draft.recommendation", "ar", paragraph="118.3 (A/HRC/48/9)")
    assert ("\u2066118.3 (A/HRC/48/9)\u2069", False) in rtl_pieces(line)
    assert rtl_pieces("\u2068وزارة العدل\u2069، \u2066MOJ\u2069") == [("\u2068وزارة العدل\u2069", True), ("، ", True), ("\u2066MOJ\u2069", False)]


def test_a_word_document_is_laid_out_right_to_left(tmp_path: Path) -> None:
    doc = Document()
    doc.add_heading("التوصية 118.3 (A/HRC/48/9)", level=1)
    doc.add_paragraph().add_run("الحالة: قيد التنفيذ").bold = True
    doc.add_paragraph("MOJ")
    grid = doc.add_table(rows=1, cols=2)
    grid.rows[0].cells[0].text = "وزارة العدل"
    rtl_document(doc)
    doc.save(tmp_path / "d.docx")
    body, styles = docx_parts(tmp_path / "d.docx")
    assert all(p.find(f"{W}pPr/{W}bidi") is not None for p in body.iter(f"{W}p"))
    runs = {run_text(r): r.find(f"{W}rPr/{W}rtl") is not None for r in body.iter(f"{W}r")}
    assert runs == {"التوصية ": True, "118.3": False, " (": True, "A/HRC/48/9": False, ")": True, "الحالة: قيد التنفيذ": True, "MOJ": False, "وزارة العدل": True}
    bold = next(r for r in body.iter(f"{W}r") if run_text(r) == "الحالة: قيد التنفيذ")
    assert bold.find(f"{W}rPr/{W}bCs") is not None
    assert body.find(f".//{W}tblPr/{W}bidiVisual") is not None and body.find(f".//{W}sectPr/{W}bidi") is not None
    assert styles.find(f"{W}docDefaults/{W}pPrDefault/{W}pPr/{W}bidi") is not None
    # Word reads it back: python-docx opens it and the text is whole.
    assert Document(str(tmp_path / "d.docx")).paragraphs[0].text == "التوصية 118.3 (A/HRC/48/9)"


def docx_parts(path: Path) -> tuple[object, object]:
    from lxml import etree

    with zipfile.ZipFile(path) as package:
        return etree.fromstring(package.read("word/document.xml")), etree.fromstring(package.read("word/styles.xml"))


def run_text(run: object) -> str:
    return "".join(t.text or "" for t in run.iter(f"{W}t"))  # type: ignore[attr-defined]


async def report(sessions: async_sessionmaker[AsyncSession], tmp_path: Path, kind: str, language: str, suffix: str, **kw: object) -> Path:
    order = ReportOrder(kind, language, "UTC", **kw)  # type: ignore[arg-type]
    return (await make_report(sessions, order, tmp_path / f"{kind}-{language}.{suffix}", FakeClock())).path


@pytest.mark.parametrize(("kind", "kw"), [("matrix", {}), ("plan", {"fmt": "xlsx"})])
async def test_every_sheet_of_an_arabic_workbook_is_right_to_left(
    registry: dict[str, int], sessions: async_sessionmaker[AsyncSession], tmp_path: Path, kind: str, kw: dict[str, object],  # noqa: F811
) -> None:
    arabic = openpyxl.load_workbook(await report(sessions, tmp_path, kind, "ar", "xlsx", **kw))
    assert len(arabic.worksheets) >= 2 and all(sheet.sheet_view.rightToLeft for sheet in arabic.worksheets)
    # The tabs are named in Arabic, without the catalog's directional marks (a tab is no paragraph).
    assert has_rtl(arabic.sheetnames[0]) and not any(c in CONTROLS for name in arabic.sheetnames for c in name)
    # The headers are the catalog's Arabic, read right to left; a cell of codes keeps Excel's context order.
    sheet = arabic.worksheets[1]
    header = [c for c in sheet[1] if isinstance(c.value, str)]
    assert header and all(has_rtl(c.value) and c.alignment.readingOrder == 2 for c in header if has_rtl(c.value))
    assert sum(has_rtl(c.value) for c in header) >= len(header) // 2
    codes = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str) and not has_rtl(c.value)]
    assert codes and all(c.alignment.readingOrder in (0, None) for c in codes)
    # The rows' Arabic cells (a status, a section) read right to left, the matrix's streamed rows too.
    texts = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str) and has_rtl(c.value)]
    assert texts and all(c.alignment.readingOrder == 2 for c in texts)
    chinese = openpyxl.load_workbook(await report(sessions, tmp_path, kind, "zh", "xlsx", **kw))
    assert not any(sheet.sheet_view.rightToLeft for sheet in chinese.worksheets)


@pytest.mark.parametrize(("kind", "kw"), [("draft", {"mechanism": "UPR"}), ("plan", {"fmt": "docx"})])
async def test_an_arabic_document_carries_the_bidi_properties(
    registry: dict[str, int], sessions: async_sessionmaker[AsyncSession], tmp_path: Path, kind: str, kw: dict[str, object],  # noqa: F811
) -> None:
    body, styles = docx_parts(await report(sessions, tmp_path, kind, "ar", "docx", **kw))
    paragraphs = list(body.iter(f"{W}p"))  # type: ignore[attr-defined]
    assert paragraphs and all(p.find(f"{W}pPr/{W}bidi") is not None for p in paragraphs)
    runs = [r for r in body.iter(f"{W}r") if run_text(r).strip()]  # type: ignore[attr-defined]
    arabic = [r for r in runs if has_rtl(run_text(r))]
    latin = [r for r in runs if not has_rtl(run_text(r)) and re.search("[A-Za-z0-9]", run_text(r))]
    assert arabic and all(r.find(f"{W}rPr/{W}rtl") is not None for r in arabic)
    # "UPR", "A/HRC/...", dates and codes are runs of their own, left to right
    # (the spaces and brackets between them go with the Arabic).
    assert latin and all(r.find(f"{W}rPr/{W}rtl") is None for r in latin)
    assert styles.find(f"{W}docDefaults/{W}pPrDefault/{W}pPr/{W}bidi") is not None  # type: ignore[attr-defined]
    english, _ = docx_parts(await report(sessions, tmp_path, kind, "en", "docx", **kw))
    assert english.find(f".//{W}bidi") is None and english.find(f".//{W}rtl") is None  # type: ignore[attr-defined]


def ink_columns(image: Image.Image, top: int, bottom: int) -> list[int]:
    """The columns where the band ``top``..``bottom`` has dark pixels (text)."""
    grey = image.convert("L")
    return [x for x in range(grey.width) if any(grey.getpixel((x, y)) < 96 for y in range(top, bottom))]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_chromium_draws_the_arabic_page_right_to_left_and_the_chinese_one_left_to_right(tmp_path: Path) -> None:
    shots = {}
    for language in ("ar", "zh"):
        html = tmp_path / f"{language}.html"
        html.write_text(page(language), encoding="utf-8")
        shots[language] = screenshot(html, tmp_path / f"{language}.png", tmp_path / f"profile-{language}")
    for language, shot in shots.items():
        # Not blank: text and the charts' colours are on it.
        assert len(shot.resize((120, 180)).getcolors(maxcolors=120 * 180) or []) > 20, language
        # The title (the first line of ink) starts at the reader's side: right for Arabic, left for Chinese.
        title = ink_columns(shot, 10, 90)
        assert title, language
        middle = shot.width / 2
        if language == "ar":
            assert min(title) > middle and max(title) > shot.width - 120
        else:
            assert max(title) < middle and min(title) < 120


def test_the_public_trackers_links_name_each_language_by_its_tag_and_direction() -> None:
    shown, rows = figures()
    tracker = render_progress_page(
        shown, rows, as_of=NOW, language="zh", timezone="UTC", public=True, built_at=NOW,
        languages=[("en", "/public/en"), ("ar", "/public/ar"), ("zh", "/public/zh")],
    )
    assert '<html lang="zh-Hans" dir="ltr">' in tracker
    assert f'<a href="/public/ar" hreflang="ar" lang="ar" dir="rtl">{messages.t("public.language_name", "ar")}</a>' in tracker
    assert '<a href="/public/en" hreflang="en" lang="en">English</a>' in tracker


@pytest.mark.parametrize("suffix", ["xlsx", "docx"])
async def test_the_pledges_report_in_arabic_is_right_to_left(
    cli: Cli, world: dict[str, int], sessions: async_sessionmaker[AsyncSession], tmp_path: Path, suffix: str,  # noqa: F811
) -> None:
    await asyncio.to_thread(cli, "pledges", "open", "2027", "--ask-by", "2027-01-29", "--report-back", "2027-12-01")
    await asyncio.to_thread(cli, "pledges", "add", "2027", "--institution", "MOJ", "--text", "تدريب 300 قاضٍ (A/HRC/48/9)", "--confirmed")
    out = tmp_path / f"pledges.{suffix}"
    await make_pledges_report(sessions, 2027, out, language="ar", timezone="UTC", as_of=NOW)
    if suffix == "xlsx":
        book = openpyxl.load_workbook(out)
        assert all(sheet.sheet_view.rightToLeft for sheet in book.worksheets) and len(book.worksheets) == 2
        pledge = next(c for row in book.worksheets[1].iter_rows() for c in row if c.value == "تدريب 300 قاضٍ (A/HRC/48/9)")
        assert pledge.alignment.readingOrder == 2
        return
    body, _ = docx_parts(out)
    assert all(p.find(f"{W}pPr/{W}bidi") is not None for p in body.iter(f"{W}p"))  # type: ignore[attr-defined]
    runs = {run_text(r): r.find(f"{W}rPr/{W}rtl") is not None for r in body.iter(f"{W}r")}  # type: ignore[attr-defined]
    assert runs["A/HRC/48/9"] is False and runs["300"] is False and runs["تدريب "] is True
    assert body.find(f".//{W}tblPr/{W}bidiVisual") is not None  # type: ignore[attr-defined]
    # The summary's counts are in the reader's digits (one confirmed pledge: ١), as its sentences are.
    moj = next(row for row in Document(str(out)).tables[0].rows if row.cells[1].text == "MOJ")
    assert moj.cells[3].text == messages.local_number(1, "ar") == "١"


def chart_texts(shown: str) -> list[str]:
    """What matplotlib drew on the page's charts: each text's glyphs are paths,
    after a comment that says the text."""
    return re.findall(r"<!-- (.*?) -->", shown)


def test_the_numbers_drawn_on_an_arabic_chart_are_in_arabic_indic_digits() -> None:
    """Ticks, percentages and months, as the Arabic page writes its numbers (ar_EG, messages.local_number)."""
    drawn = chart_texts(page("ar"))
    numbers = [s for s in drawn if any(c.isdigit() for c in s)]
    assert numbers and [s for s in numbers if re.search("[0-9]", s)] == []
    # The response chart's axis is a share: Babel's Arabic percent sign, no bare "%" label beside it.
    assert {"٠٪", "٢٠٪", "١٠٠٪"} <= set(drawn) and "%" not in drawn
    assert "٢٫٥" in drawn and "٢٠٢٦-٠٩" in drawn


@pytest.mark.parametrize(("language", "percent", "half"), [("en", "20%", "2.5"), ("zh", "20%", "2.5"), ("fr", "20\u00a0%", "2,5"), ("ru", "20\u00a0%", "2,5")])
def test_the_numbers_drawn_on_other_charts_keep_latin_digits_in_their_locales_format(language: str, percent: str, half: str) -> None:
    drawn = chart_texts(page(language))
    assert percent in drawn and half in drawn and "2026-09" in drawn
    assert not any(re.search("[\u0660-\u0669]", s) for s in drawn)


def test_the_bars_of_the_actions_chart_are_labelled_in_the_readers_digits() -> None:
    with progress_page._PYPLOT:
        drawn = chart_texts(progress_page._actions_by_status(Counter({"in_progress": 12, "not_started": 3}), "ar"))
    assert {"١٢", "٣"} <= set(drawn) and not any(re.search("[0-9]", s) for s in drawn)


def test_an_indicators_dates_and_values_are_drawn_in_the_readers_digits() -> None:
    """The date axis keeps matplotlib's choice of what to show (2026-05), in the locale's digits."""
    from decimal import Decimal
    from types import SimpleNamespace
    from typing import cast

    from storage.report_plan import PlanIndicator

    indicator = SimpleNamespace(baseline_value=Decimal("31.5"), baseline_date=None, target_value=None, target_date=None, unit="%")
    points = [SimpleNamespace(value=SimpleNamespace(period_end=datetime(2026, m, 28).date(), value=Decimal(v))) for m, v in ((3, "33.5"), (9, "35"))]
    plan = cast(PlanIndicator, SimpleNamespace(indicator=indicator, series=SimpleNamespace(points=points)))
    with progress_page._PYPLOT:
        arabic, english = (chart_texts(progress_page._indicator(plan, language)) for language in ("ar", "en"))
    assert "٢٠٢٦-٠٥" in arabic and "٣٤" in arabic and not any(re.search("[0-9]", s) for s in arabic)
    assert "2026-05" in english and "34" in english
