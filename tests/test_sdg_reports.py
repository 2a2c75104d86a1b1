"""SDGs and priorities in the reports: the SDG tags read in every form the
sources write them, the matrix's SDG and priority columns (read back with
openpyxl), filters by goal, target and priority, summaries by goal and
target, the progress page's chart by goal, the matrix (a sheet a goal),
the export and the page grouped by goal or target, and the draft's
priority reasons and SDG targets. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.reports.progress_page import goal_bar_labels, render_progress_page
from handlers.priority_reasons import criterion_name
from handlers.report_orders import parse_order
from storage.enums import ImportSource, Priority
from storage.errors import InvalidValue
from storage.importers.run import import_file
from storage.models import Recommendation
from storage.priorities import CRITERIA, override
from storage.report_progress import Progress
from storage.sdgs import Sdg, SdgFilter, ordered, parse_filter, parse_sdg
from handlers.engine import ConversationEngine
from tests.factories import cedaw_row, uhri_row, write_uhri_xlsx
from tests.fakes import FakeClock, FakeGateway
from tests.test_progress_page import CHROMIUM, screenshot, share_of
from tests.test_secretariat_chat import bot, clock, gateway, maria, say, secretariat  # noqa: F401 - the chat's fixtures are shared

NOW = datetime(2026, 11, 23, 13, tzinfo=timezone.utc)
GREY = (0xC9, 0xCE, 0xD6)  # not started, as the page draws it
SDG1, SDG5, SDG16 = "SDG 1: No poverty", "SDG 5: Gender equality", "SDG 16: Peace, justice and strong institutions"


@pytest.mark.parametrize(("value", "expected"), [
    # UHRI: a target with its title, a whole goal in capitals, a letter target.
    ("16.3 - Promote the rule of law at the national and international levels", Sdg(16, "16.3")),
    ("5.2 - Eliminate all forms of violence against all women and girls", Sdg(5, "5.2")),
    ("16 - PEACE, JUSTICE AND STRONG INSTITUTIONS", Sdg(16)),
    ("16.a - Strengthen relevant national institutions", Sdg(16, "16.a")),
    ("- 1.4 - Equal rights to economic resources", Sdg(1, "1.4")),
    # The template's bare targets, and what people type.
    ("5.2", Sdg(5, "5.2")), ("17.19", Sdg(17, "17.19")), ("16.A", Sdg(16, "16.a")),
    ("Goal 5", Sdg(5)), ("Goal 5: Gender equality", Sdg(5)), ("SDG 5", Sdg(5)), ("SDG5", Sdg(5)),
    ("ODS 5 - Igualdad de género", Sdg(5)), ("Objectif n° 5", Sdg(5)), ("Target 5.2", Sdg(5, "5.2")), ("Meta 10.3", Sdg(10, "10.3")),
    # An indicator is read as its target.
    ("5.2.1", Sdg(5, "5.2")),
])
def test_sdg_tags_are_read_in_every_form_the_sources_write(value: str, expected: Sdg) -> None:
    assert parse_sdg(value) == expected


@pytest.mark.parametrize("value", ["", "2030 Agenda", "18 - NO SUCH GOAL", "0.1", "Gender equality", "Human rights"])
def test_what_names_no_sdg_is_left_out(value: str) -> None:
    assert parse_sdg(value) is None


def test_targets_in_the_uns_order_and_a_goal_once() -> None:
    # 5.10 after 5.2, letters after numbers; goal 16 alone goes when a 16 target is there.
    given = [Sdg(16, "16.a"), Sdg(5, "5.10"), Sdg(16), Sdg(5, "5.2"), Sdg(1), Sdg(16, "16.3"), Sdg(5, "5.2")]
    assert ordered(given) == [Sdg(1), Sdg(5, "5.2"), Sdg(5, "5.10"), Sdg(16, "16.3"), Sdg(16, "16.a")]


def test_the_filter_is_a_goal_or_a_target() -> None:
    assert parse_filter("5") == SdgFilter(5) and parse_filter("5.2") == SdgFilter(5, "5.2") and parse_filter("SDG 16.a") == SdgFilter(16, "16.a")
    assert SdgFilter(5).matches(Sdg(5, "5.2")) and SdgFilter(5).matches(Sdg(5)) and not SdgFilter(5, "5.2").matches(Sdg(5))
    for bad in ("18", "0", "5.2 and 7", "", "gender", "5,2"):
        with pytest.raises(InvalidValue, match="not an SDG goal or target"):
            parse_filter(bad)


def test_the_chat_order_takes_the_same_filters() -> None:
    order = parse_order(["matrix", "UPR", "sdg:5.2", "priority:high", "sort:priority"], "en", "UTC")
    assert (order.mechanism, order.sdg, order.priority, order.sort) == ("UPR", SdgFilter(5, "5.2"), Priority.HIGH, "priority")
    assert parse_order(["progress", "public", "sdg:16"], "en", "UTC").sdg == SdgFilter(16)
    for bad in (["matrix", "sdg:19"], ["matrix", "priority:urgent"], ["matrix", "sort:name"], ["progress", "sort:priority"], ["matrix", "sdg:5", "sdg:6"]):
        with pytest.raises(InvalidValue):
            parse_order(bad, "en", "UTC")


@pytest.fixture
async def tagged(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], tmp_path: Path) -> dict[str, int]:
    """The world's six UPR recommendations (no SDG), and four from UHRI:
    one under goal 16 by two targets, one under goals 5 (whole) and 16 (16.3),
    one under target 5.2, and a CEDAW one under 1.4."""
    rows = [
        uhri_row(**{"Text": "119.4 Consider ratifying the Optional Protocol to the Convention against Torture", "OHCHR Annotation Id": "sdg-a"}),
        uhri_row(**{
            "Text": "119.5 Adopt a national plan on gender equality in the justice system", "OHCHR Annotation Id": "sdg-b",
            "Sdgs": "- 5 - GENDER EQUALITY\n- 16.3 - Promote the rule of law at the national and international levels",
        }),
        uhri_row(**{
            "Text": "119.6 Criminalize marital rape explicitly in the Penal Code", "OHCHR Annotation Id": "sdg-c",
            "Sdgs": "- 5.2 - Eliminate all forms of violence against all women and girls in the public and private spheres",
            "Affected Persons": "- Women & girls",
        }),
        cedaw_row(),
    ]
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "uhri.xlsx", rows))
    async with sessions() as session:
        ids = dict((await session.execute(select(Recommendation.external_id, Recommendation.id))).all())
    return {**world, "a": ids["sdg-a"], "b": ids["sdg-b"], "c": ids["sdg-c"], "cedaw": ids["b4288060-6633-478d-9a9a-df1978d336c3"]}


def cli(*args: str, expect: int = 0) -> str:
    """The real command line on the test's clock; its output (stdout and stderr)."""
    buffer = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            main(list(args), clock=FakeClock())
        except SystemExit as exc:
            code = int(exc.code or 0)
    assert code == expect, buffer.getvalue()
    return buffer.getvalue()


async def run(*args: str, expect: int = 0) -> str:
    return await asyncio.to_thread(cli, *args, expect=expect)


def sheet(path: Path, name: str = "UPR") -> tuple[list[str], dict[int, dict[str, object]]]:
    """A sheet's header and its rows by id, by header, in their order."""
    rows = openpyxl.load_workbook(path)[name].iter_rows(values_only=True)
    header = [str(h) for h in next(rows)]
    return header, {int(r[0]): dict(zip(header, r, strict=True)) for r in rows}  # type: ignore[arg-type]


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_the_matrix_has_the_sdg_targets_and_a_column_a_goal(tagged: dict[str, int], cli_env: Path) -> None:
    out = cli_env / "matrix.xlsx"
    await run("report", "matrix", "--out", str(out))
    header, rows = sheet(out)
    # One column a goal present anywhere in the matrix, in the UN's order, after the fixed ones.
    assert header[-4:] == ["SDG targets", SDG1, SDG5, SDG16]
    assert (rows[tagged["a"]]["SDG targets"], rows[tagged["a"]][SDG16], rows[tagged["a"]][SDG5]) == ("16.3; 16.a", "16.3; 16.a", None)
    # Goal 5 tagged as a whole shows as "5"; its other goal by its target.
    assert (rows[tagged["b"]]["SDG targets"], rows[tagged["b"]][SDG5], rows[tagged["b"]][SDG16]) == ("5; 16.3", "5", "16.3")
    assert (rows[tagged["c"]][SDG5], rows[tagged["c"]][SDG16]) == ("5.2", None)
    assert all(rows[i][SDG5] is None and rows[i]["SDG targets"] is None for i in tagged["mine_all"])
    book = openpyxl.load_workbook(out)
    assert book["UPR"].auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{len(rows) + 1}"
    cedaw_header, cedaw = sheet(out, "CEDAW")
    assert cedaw_header == header and cedaw[tagged["cedaw"]][SDG1] == "1.4"
    # The summary sheet counts by goal too: B is under 5 and under 16.
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(summary) if r[0] == "SDG goal")
    assert summary[head][6] == "Total"
    by_goal = {r[0]: r[6] for r in summary[head + 1:]}
    assert by_goal == {SDG1: 1, SDG5: 2, SDG16: 2}


async def test_the_matrix_in_french_names_the_goals_in_french(tagged: dict[str, int], cli_env: Path) -> None:
    out = cli_env / "matrice.xlsx"
    await run("report", "matrix", "--out", str(out), "--language", "fr")
    header, _ = sheet(out)
    assert header[-4:] == ["Cibles des ODD", "ODD 1 : Pas de pauvreté", "ODD 5 : Égalité entre les sexes", "ODD 16 : Paix, justice et institutions efficaces"]


async def test_the_matrix_filters_by_goal_and_by_target(tagged: dict[str, int], cli_env: Path) -> None:
    by_goal, by_target, by_letter = cli_env / "goal.xlsx", cli_env / "target.xlsx", cli_env / "letter.xlsx"
    said = await run("report", "matrix", "--out", str(by_goal), "--sdg", "5")
    assert "(2 recommendations)" in said
    header, rows = sheet(by_goal)
    assert set(rows) == {tagged["b"], tagged["c"]} and openpyxl.load_workbook(by_goal).sheetnames == ["Summary", "UPR"]
    # Only the goals of what is in it get a column.
    assert header[-3:] == ["SDG targets", SDG5, SDG16]
    await run("report", "matrix", "--out", str(by_target), "--sdg", "5.2")
    assert set(sheet(by_target)[1]) == {tagged["c"]}
    await run("report", "matrix", "--out", str(by_letter), "--sdg", "16.a")
    assert set(sheet(by_letter)[1]) == {tagged["a"]}
    said = await run("report", "matrix", "--out", str(cli_env / "bad.xlsx"), "--sdg", "18", expect=2)
    assert "not an SDG goal or target: '18'" in said and not (cli_env / "bad.xlsx").exists()


async def test_the_export_and_the_progress_page_filter_by_sdg(tagged: dict[str, int], cli_env: Path) -> None:
    out = cli_env / "all.json"
    await run("report", "export", "--format", "json", "--out", str(out), "--sdg", "16")
    rows = {r["id"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert set(rows) == {tagged["a"], tagged["b"]} and (rows[tagged["b"]]["sdg_goals"], rows[tagged["b"]]["sdg_targets"]) == ("5; 16", "5; 16.3")
    page = cli_env / "p.html"
    said = await run("report", "progress", "--out", str(page), "--sdg", "5.2")
    assert "(1 recommendation)" in said
    text = page.read_text(encoding="utf-8")
    assert "Only the recommendations under target 5.2 (SDG 5: Gender equality)." in text and "Criminalize marital rape" in text
    assert "Optional Protocol" not in text


async def test_summaries_by_goal_and_target_count_a_recommendation_under_each(tagged: dict[str, int], cli_env: Path) -> None:
    async def summary(*args: str) -> dict[str, dict[str, object]]:
        return {r["group"]: r for r in json.loads(await run("report", "summary", "progress", *args, "--format", "json"))}

    goals = await summary("--by", "sdg-goal")
    # Goals by number (1, 5, 16, not 1, 16, 5), then the six with none.
    assert list(goals) == [SDG1, SDG5, SDG16, "—"]
    assert {g: r["total"] for g, r in goals.items()} == {SDG1: 1, SDG5: 2, SDG16: 2, "—": 6}
    # B is under 5 and 16: the lines add up to more than the ten recommendations.
    assert sum(int(r["total"]) for r in goals.values()) == 11
    targets = await summary("--by", "sdg-target")
    assert {g: r["total"] for g, r in targets.items()} == {"1.4": 1, "5": 1, "5.2": 1, "16.3": 2, "16.a": 1, "—": 6}
    assert list(targets) == ["1.4", "5", "5.2", "16.3", "16.a", "—"]
    # A filter and a grouping together: goal 16 by institution (nobody answers for the UHRI rows).
    assert {g: r["total"] for g, r in (await summary("--sdg", "16")).items()} == {"—": 2}
    # The table says how SDG lines count.
    assert "counts under each" in await run("report", "summary", "progress", "--by", "sdg-goal")


async def test_the_progress_page_has_a_chart_by_sdg_goal(tagged: dict[str, int], cli_env: Path) -> None:
    internal, public, grouped = cli_env / "progress.html", cli_env / "public.html", cli_env / "grouped.html"
    (cli_env / "config.toml").write_text("[reports]\npublic_requires_validation = false\n", encoding="utf-8")
    await run("report", "progress", "--out", str(internal), "--language", "es")
    await run("report", "progress", "--out", str(public), "--public")
    for page, caption in ((internal, "Estado por objetivo de desarrollo sostenible"), (public, "Status by SDG goal")):
        text = page.read_text(encoding="utf-8")
        # Cluster, SDG goal, institution, response rate, over time.
        assert text.count("<svg") == 5 and f"<figcaption>{caption}" in text
    await run("report", "progress", "--out", str(grouped), "--by", "sdg-goal")
    text = grouped.read_text(encoding="utf-8")
    # B is in goal 5's section and in goal 16's; the six with no SDG last.
    heads = [part.split("</th>")[0] for part in text.split('<tr class="group"><th colspan="6">')[1:]]
    assert heads == [f"{SDG1} (1)", f"{SDG5} (2)", f"{SDG16} (2)", "No SDG (6)"]
    assert text.count("Adopt a national plan on gender equality") == 2


def test_the_goal_bars_are_labelled_by_number_and_name_in_the_readers_language() -> None:
    from collections import Counter

    by_goal = {16: Counter(not_started=2), 5: Counter(in_progress=1, not_started=1)}
    # From the top: goal 5 above goal 16; each with its count.
    assert goal_bar_labels(by_goal, "fr") == ["16 Paix, justice et institutions eff… (2)", "5 Égalité entre les sexes (2)"]
    assert goal_bar_labels(by_goal, "es")[-1] == "5 Igualdad de género (2)"


def test_a_page_with_no_sdg_says_so_instead_of_an_empty_chart() -> None:
    page = render_progress_page(Progress(), [], as_of=NOW, language="en", timezone="UTC", public=True)
    assert page.count("<svg") == 4 and "No recommendation here is tagged with an SDG yet" in page


async def prioritise(sessions: async_sessionmaker[AsyncSession], tagged: dict[str, int]) -> None:
    """C high and A low by the secretariat's override, each with its reason; B as its criteria say."""
    async with sessions() as session, session.begin():
        await override(session, [tagged["c"]], Priority.HIGH, "Femicides doubled in 2026 (Ministry of the Interior)", actor="cli:test", now=NOW)
        await override(session, [tagged["a"]], Priority.LOW, "Ratified in October", actor="cli:test", now=NOW)


async def test_the_matrix_sorts_and_filters_by_priority_with_its_reasons(
    tagged: dict[str, int], sessions: async_sessionmaker[AsyncSession], cli_env: Path,
) -> None:
    await prioritise(sessions, tagged)
    sorted_out, high = cli_env / "sorted.xlsx", cli_env / "high.xlsx"
    await run("report", "matrix", "--out", str(sorted_out), "--sort", "priority")
    header, rows = sheet(sorted_out)
    assert header.index("Priority") < header.index("Priority reasons") < header.index("SDG targets")
    levels = [r["Priority"] for r in rows.values()]
    rank = {"High": 0, "Medium": 1, "Low": 2, None: 3}
    assert levels == sorted(levels, key=rank.__getitem__) and levels[0] == "High" and "Low" in levels
    assert next(iter(rows)) == tagged["c"]
    await run("report", "matrix", "--out", str(high), "--priority", "high")
    _, only = sheet(high)
    assert tagged["c"] in only and all(r["Priority"] == "High" for r in only.values()) and tagged["a"] not in only
    # Without --sort, the usual order (document, then paragraph): A (119.4, low) before C (119.6, high).
    await run("report", "matrix", "--out", str(cli_env / "plain.xlsx"))
    plain = list(sheet(cli_env / "plain.xlsx")[1])
    assert plain.index(tagged["a"]) < plain.index(tagged["c"]) and list(rows).index(tagged["c"]) < list(rows).index(tagged["a"])


async def test_the_draft_shows_each_priority_with_its_reasons_and_its_sdg_targets(
    tagged: dict[str, int], sessions: async_sessionmaker[AsyncSession], cli_env: Path,
) -> None:
    import docx

    await prioritise(sessions, tagged)
    out = cli_env / "draft.docx"
    await run("report", "draft", "--mechanism", "UPR", "--out", str(out))
    texts = [p.text for p in docx.Document(str(out)).paragraphs]
    at = next(i for i, text in enumerate(texts) if "Criminalize marital rape" in text)
    below = texts[at:at + 10]
    # The level with the override's reason, then the five criteria, then the SDGs.
    assert below[2] == "Priority: high, set by the secretariat over the criteria (medium): Femicides doubled in 2026 (Ministry of the Interior)"
    assert [text.split(": ")[0] for text in below[3:8]] == [criterion_name(code, "en") for code in CRITERIA]
    assert "Women & girls" in below[7]
    assert below[8] == "SDG targets: 5.2 (SDG 5: Gender equality)"
    b = next(i for i, text in enumerate(texts) if "Adopt a national plan on gender equality" in text)
    assert f"SDG targets: 5; 16.3 ({SDG5}; {SDG16})" in texts[b:b + 10]
    # Every recommendation has its priority line: the world's six and the three from UHRI.
    assert sum(text.startswith("Priority: ") for text in texts) == 9


async def test_the_priority_reasons_are_in_the_matrix_and_the_draft(
    tagged: dict[str, int], sessions: async_sessionmaker[AsyncSession], cli_env: Path,
) -> None:
    import docx

    await prioritise(sessions, tagged)
    matrix, draft = cli_env / "m.xlsx", cli_env / "d.docx"
    await run("report", "matrix", "--out", str(matrix), "--language", "fr")
    _, rows = sheet(matrix)
    assert "Femicides doubled in 2026" in str(rows[tagged["c"]]["Motifs de la priorité"])
    await run("report", "draft", "--mechanism", "UPR", "--out", str(draft))
    texts = [p.text for p in docx.Document(str(draft)).paragraphs]
    at = next(i for i, text in enumerate(texts) if "Criminalize marital rape" in text)
    assert any("Femicides doubled in 2026" in text for text in texts[at:at + 10])


async def test_the_chat_makes_a_filtered_matrix_and_names_a_bad_filter(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], tagged: dict[str, int],  # noqa: F811
) -> None:
    (preparing,) = await say(bot, gateway, maria.says("/report matrix sdg:5 sort:priority"))
    assert preparing.key == "report.preparing"
    await bot.drain()
    (matrix,) = gateway.take()
    # Goal 5: B and C only.
    assert matrix.key == "report.ready" and "2 recomendaciones" in matrix.text and matrix.document is not None
    replies = await say(
        bot, gateway, maria.says("/report matrix sdg:19"), maria.says("/report matrix priority:urgent"),
        maria.says("/report progress sort:priority"), maria.says("/report matrix sdg:5 sdg:6"),
    )
    assert [r.key for r in replies] == ["report.bad_sdg", "report.bad_priority", "report.bad_sort_kind", "report.bad_filter_twice"]
    assert replies[0].text.startswith("sdg:19 no es un objetivo ni una meta de los ODS")
    await bot.drain()
    assert gateway.take() == []


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
async def test_chromium_draws_the_sdg_chart(tagged: dict[str, int], cli_env: Path) -> None:
    page = cli_env / "progress.html"
    await run("report", "progress", "--out", str(page))
    text = page.read_text(encoding="utf-8")
    start = text.index('<figure class="chart"><figcaption>Status by SDG goal')
    alone = text.split('<div class="charts">')[0] + text[start:text.index("</figure>", start) + len("</figure>")] + "</body></html>"
    (cli_env / "sdg.html").write_text(alone, encoding="utf-8")
    (cli_env / "none.html").write_text(text.split('<div class="charts">')[0] + "</body></html>", encoding="utf-8")
    # Every tagged recommendation is not started: the goal bars are its grey, whole.
    assert share_of(screenshot(cli_env / "sdg.html", cli_env / "sdg.png", cli_env / "p1"), GREY) > 0.005
    # Without the chart, only a few anti-aliased pixels of text come near that grey.
    assert share_of(screenshot(cli_env / "none.html", cli_env / "none.png", cli_env / "p2"), GREY) < 0.0005


@pytest.mark.parametrize("value", ["5.99", "17.z", "1.0", "5.7", "17.a", "16.c", "8.11", "5.02"])
def test_a_target_the_2030_agenda_does_not_have_names_no_sdg(value: str) -> None:
    """The 169 targets only: a number past a goal's last target, a letter it
    has not, or a zero is no SDG, so it cannot become a column or a filter."""
    assert parse_sdg(value) is None
    with pytest.raises(InvalidValue):
        parse_filter(value)


def test_the_last_target_of_each_goal_is_one() -> None:
    last = ["1.b", "2.c", "3.d", "4.c", "5.c", "6.b", "7.b", "8.10", "9.c", "10.c", "11.c", "12.c", "13.b",
            "14.c", "15.c", "16.10", "17.19"]
    assert [parse_sdg(v) for v in last] == [Sdg(int(v.split(".")[0]), v) for v in last]


# Grouped by SDG goal or target: the matrix (a sheet a goal), the export (a
# column naming the group), the progress page and the summaries; and every
# report's --sdg filter by goal and by target.


def grouped_sheet(path: Path, name: str) -> tuple[list[str], list[tuple[object, int]]]:
    """A grouped sheet's header and its (group, id) rows, in their order."""
    rows = openpyxl.load_workbook(path)[name].iter_rows(values_only=True)
    header = [str(h) for h in next(rows)]
    return header, [(r[0], int(r[1])) for r in rows]  # type: ignore[arg-type]


def summary_lines(path: Path) -> tuple[list[list[object]], dict[object, object]]:
    """The summary sheet's rows, and its first table's totals by its first column."""
    summary = [list(r) for r in openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True)]
    total = summary[3].index("Total")
    lines = {}
    for r in summary[4:]:
        if not r or r[0] is None:
            break
        lines[r[0]] = r[total]
    return summary, lines


async def test_the_matrix_grouped_by_goal_has_a_sheet_a_goal_and_a_recommendation_under_each_of_its_goals(tagged: dict[str, int], cli_env: Path) -> None:
    out, plain = cli_env / "by-goal.xlsx", cli_env / "plain.xlsx"
    said = await run("report", "matrix", "--out", str(out), "--by", "sdg-goal")
    # Ten recommendations, eleven rows: B is under 5 and under 16.
    assert "(10 recommendations; grouped by goal" in said
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Summary", "SDG 1", "SDG 5", "SDG 16", "No SDG"]
    await run("report", "matrix", "--out", str(plain))
    plain_header, upr = sheet(plain)
    header, five = grouped_sheet(out, "SDG 5")
    # The group first, then the matrix's own columns as they are without --by.
    assert header == ["SDG goal", *plain_header]
    assert five == [(SDG5, tagged["b"]), (SDG5, tagged["c"])]
    assert grouped_sheet(out, "SDG 16")[1] == [(SDG16, tagged["a"]), (SDG16, tagged["b"])]
    assert grouped_sheet(out, "SDG 1")[1] == [(SDG1, tagged["cedaw"])]
    # The six with no SDG, in the usual order, last.
    assert [i for _, i in grouped_sheet(out, "No SDG")[1]] == [i for i in upr if i not in (tagged["a"], tagged["b"], tagged["c"])]
    # Filters on, over the group column too.
    assert book["SDG 5"].auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}3"
    summary, lines = summary_lines(out)
    assert summary[3][0] == "SDG goal" and summary[2][0].startswith("Grouped by SDG: a recommendation under several goals")
    # Each goal's count, then "All" counting B once: 10, not 11.
    assert lines == {SDG1: 1, SDG5: 2, SDG16: 2, "No SDG": 6, "All": 10}
    # The table by goal is the first table already: not repeated below it.
    assert not any(r and r[0] == "By SDG goal (a recommendation under several goals counts under each)" for r in summary)
    # The default matrix is as it was: a sheet a mechanism.
    assert openpyxl.load_workbook(plain).sheetnames == ["Summary", "CEDAW", "UPR"]


async def test_the_matrix_grouped_by_target_lists_each_goals_rows_target_after_target(tagged: dict[str, int], cli_env: Path) -> None:
    out, french, five = cli_env / "by-target.xlsx", cli_env / "cibles.xlsx", cli_env / "five.xlsx"
    await run("report", "matrix", "--out", str(out), "--by", "sdg-target")
    assert openpyxl.load_workbook(out).sheetnames == ["Summary", "SDG 1", "SDG 5", "SDG 16", "No SDG"]
    header, sixteen = grouped_sheet(out, "SDG 16")
    assert header[0] == "SDG target"
    # A is under 16.3 and 16.a: a row under each, the rows target after target.
    assert sixteen == [("16.3", tagged["a"]), ("16.3", tagged["b"]), ("16.a", tagged["a"])]
    # B's goal 5 is tagged as a whole: "5", before 5.2.
    assert grouped_sheet(out, "SDG 5")[1] == [("5", tagged["b"]), ("5.2", tagged["c"])]
    summary, lines = summary_lines(out)
    assert lines == {"1.4": 1, "5": 1, "5.2": 1, "16.3": 2, "16.a": 1, "No SDG": 6, "All": 10}
    # Below, by goal, each recommendation once a goal: A is two rows of SDG 16, one recommendation.
    head = next(i for i, r in enumerate(summary) if r and r[0] == "SDG goal")
    assert {r[0]: r[6] for r in summary[head + 1:] if r and r[0]} == {SDG1: 1, SDG5: 2, SDG16: 2}
    await run("report", "matrix", "--out", str(french), "--by", "sdg-target", "--language", "fr")
    assert openpyxl.load_workbook(french).sheetnames == ["Synthèse", "ODD 1", "ODD 5", "ODD 16", "Aucun ODD"]
    assert grouped_sheet(french, "ODD 5")[0][0] == "Cible des ODD"
    # Filtered to goal 5: B and C, B also under its other goal's target; nothing with no SDG.
    said = await run("report", "matrix", "--out", str(five), "--by", "sdg-target", "--sdg", "5")
    assert "(2 recommendations;" in said
    assert openpyxl.load_workbook(five).sheetnames == ["Summary", "SDG 5", "SDG 16"]
    assert grouped_sheet(five, "SDG 16")[1] == [("16.3", tagged["b"])]
    assert summary_lines(five)[1] == {"5": 1, "5.2": 1, "16.3": 1, "All": 2}
    said = await run("report", "matrix", "--out", str(cli_env / "bad.xlsx"), "--by", "sdg-indicator", expect=2)
    assert "'sdg-indicator' is not one of 'sdg-goal', 'sdg-target'" in said


async def test_the_export_grouped_by_sdg_carries_the_group_as_a_column(tagged: dict[str, int], cli_env: Path) -> None:
    import csv

    by_target, by_goal, public = cli_env / "t.csv", cli_env / "g.json", cli_env / "p.csv"
    said = await run("report", "export", "--format", "csv", "--out", str(by_target), "--by", "sdg-target")
    assert "(10 recommendations; grouped by target" in said
    with by_target.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[0] == "sdg_target"
    tagged_rows = [(r["sdg_target"], int(r["id"])) for r in rows if r["sdg_target"]]
    assert tagged_rows == [
        ("1.4", tagged["cedaw"]), ("5", tagged["b"]), ("5.2", tagged["c"]), ("16.3", tagged["a"]), ("16.3", tagged["b"]), ("16.a", tagged["a"]),
    ]
    # Those with no SDG last, their group empty.
    assert [r["sdg_target"] for r in rows[len(tagged_rows):]] == [""] * 6 and len(rows) == 12
    await run("report", "export", "--format", "json", "--out", str(by_goal), "--by", "sdg-goal", "--sdg", "16")
    assert [(r["sdg_goal"], r["id"]) for r in json.loads(by_goal.read_text(encoding="utf-8"))] == [(5, tagged["b"]), (16, tagged["a"]), (16, tagged["b"])]
    (cli_env / "config.toml").write_text("[reports]\npublic_requires_validation = false\n", encoding="utf-8")
    await run("report", "export", "--format", "csv", "--out", str(public), "--by", "sdg-goal", "--public")
    with public.open(encoding="utf-8", newline="") as f:
        head = next(csv.reader(f))
    assert head[0] == "sdg_goal" and "priority" not in head and "id" not in head


async def test_the_progress_page_grouped_by_target_has_a_section_a_target(tagged: dict[str, int], cli_env: Path) -> None:
    page, french = cli_env / "targets.html", cli_env / "cibles.html"
    await run("report", "progress", "--out", str(page), "--by", "sdg-target")
    text = page.read_text(encoding="utf-8")
    heads = [part.split("</th>")[0] for part in text.split('<tr class="group"><th colspan="6">')[1:]]
    assert heads == [
        f"Target 1.4 ({SDG1}) (1)", f"{SDG5}, the goal as a whole (1)", f"Target 5.2 ({SDG5}) (1)",
        f"Target 16.3 ({SDG16}) (2)", f"Target 16.a ({SDG16}) (1)", "No SDG (6)",
    ]
    # A is in 16.3's section and in 16.a's.
    assert text.count("Consider ratifying the Optional Protocol") == 2
    await run("report", "progress", "--out", str(french), "--by", "sdg-target", "--language", "fr")
    assert "Cible 5.2 (ODD 5 : Égalité entre les sexes) (1)" in french.read_text(encoding="utf-8")


async def test_every_report_filters_by_a_goal_and_by_a_target(tagged: dict[str, int], cli_env: Path) -> None:
    async def summary(*args: str) -> dict[str, object]:
        return {r["group"]: r["total"] for r in json.loads(await run("report", "summary", "progress", *args, "--format", "json"))}

    assert await summary("--sdg", "5", "--by", "sdg-target") == {"5": 1, "5.2": 1, "16.3": 1}
    assert await summary("--sdg", "5.2", "--by", "sdg-goal") == {SDG5: 1}
    assert await summary("--sdg", "16.a", "--by", "cluster") == {"—": 1}
    assert "(2 recommendations)" in await run("report", "progress", "--out", str(cli_env / "p.html"), "--sdg", "5")
    await run("report", "matrix", "--out", str(cli_env / "m.xlsx"), "--sdg", "16.3")
    assert set(sheet(cli_env / "m.xlsx")[1]) == {tagged["a"], tagged["b"]}
    for command in (["summary", "progress"], ["progress", "--out", str(cli_env / "x.html")]):
        said = await run("report", *command, "--sdg", "5.7", expect=2)
        assert "not an SDG goal or target: '5.7'" in said


async def test_a_goal_tagged_alone_and_through_a_target_is_grouped_under_the_target_only(
    tagged: dict[str, int], sessions: async_sessionmaker[AsyncSession], cli_env: Path,
) -> None:
    from storage.enums import TagKind
    from storage.models import Tag, recommendation_tags

    # C, under 5.2, tagged with goal 5 as a whole too (another source's spelling).
    async with sessions() as session, session.begin():
        tag = Tag(kind=TagKind.SDG, value="Goal 5")
        session.add(tag)
        await session.flush()
        await session.execute(recommendation_tags.insert(), [{"recommendation_id": tagged["c"], "tag_id": tag.id}])
    by_target, by_goal, export = cli_env / "t.xlsx", cli_env / "g.xlsx", cli_env / "t.json"
    await run("report", "matrix", "--out", str(by_target), "--by", "sdg-target")
    assert grouped_sheet(by_target, "SDG 5")[1] == [("5", tagged["b"]), ("5.2", tagged["c"])]
    await run("report", "matrix", "--out", str(by_goal), "--by", "sdg-goal")
    assert grouped_sheet(by_goal, "SDG 5")[1] == [(SDG5, tagged["b"]), (SDG5, tagged["c"])]
    await run("report", "export", "--format", "json", "--out", str(export), "--by", "sdg-target", "--sdg", "5")
    assert [(r["sdg_target"], r["id"]) for r in json.loads(export.read_text(encoding="utf-8"))] == [
        ("5", tagged["b"]), ("5.2", tagged["c"]), ("16.3", tagged["b"]),
    ]


async def test_the_grouped_matrix_sorts_by_priority_within_each_group(
    tagged: dict[str, int], sessions: async_sessionmaker[AsyncSession], cli_env: Path,
) -> None:
    await prioritise(sessions, tagged)
    plain, by_priority = cli_env / "g.xlsx", cli_env / "gp.xlsx"
    await run("report", "matrix", "--out", str(plain), "--by", "sdg-goal")
    # B (119.5) before C (119.6) as usual; C, high, first by priority, and alone at --priority high.
    assert [i for _, i in grouped_sheet(plain, "SDG 5")[1]] == [tagged["b"], tagged["c"]]
    await run("report", "matrix", "--out", str(by_priority), "--by", "sdg-goal", "--sort", "priority")
    header, five = grouped_sheet(by_priority, "SDG 5")
    assert [i for _, i in five] == [tagged["c"], tagged["b"]]
    assert [r[header.index("Priority")] for r in openpyxl.load_workbook(by_priority)["SDG 5"].iter_rows(min_row=2, values_only=True)][0] == "High"
    await run("report", "matrix", "--out", str(by_priority), "--by", "sdg-goal", "--priority", "high")
    assert openpyxl.load_workbook(by_priority).sheetnames == ["Summary", "SDG 5"]
    assert grouped_sheet(by_priority, "SDG 5")[1] == [(SDG5, tagged["c"])]
