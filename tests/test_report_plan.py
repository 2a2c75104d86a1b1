"""`nmrf-bot report plan` (issue 16), and the plan in the matrix, the export
and the progress page: built through the real command line on a clock the
test moves, read back with openpyxl and python-docx, on every backend."""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.report import PLAN_BY
from bot.public_tracker import public_json
from storage.report_plan import PLAN_GROUPS, natural
from storage.report_progress import progress
from storage.report_rows import ReportScope
from tests.cli_harness import Cli
from tests.fakes import FakeClock

JUDGES = "Train judges on gender-based violence"
SHELTERS = "Open shelters in every department"


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    # Every input counts in these files (the public tracker's tests check validation).
    (tmp_path / "config.toml").write_text('[schedule]\ntimezone = "UTC"\n[reports]\npublic_requires_validation = false\n', encoding="utf-8")
    return Cli(capsys)


@pytest.fixture
def plan(cli: Cli, world: dict[str, Any]) -> dict[str, int]:
    """On Monday 23 November 2026: a cluster, a linked group, a national plan
    with chapters 2.3 and 2.10, A-1 (MOJ, on #one, an internal budget, in
    progress) and A-2 (MOW, on the group of #two and #three, a public
    budget), indicator I-3 on A-1 with one value. Ten days later: A-1 done,
    a second value of I-3, and A-3 on a MOW recommendation."""
    one, two, three = world["mine_all"]
    four = world["not_mine"]
    cli("clusters", "add", "Justice")
    cli("clusters", "put", "Justice", "--ids", f"{one},{two}")
    cli("frameworks", "add", "PNDH", "--title", "Plan nacional de derechos humanos", "--kind", "human_rights_plan")
    cli("frameworks", "chapter", "PNDH", "2.10", "--title", "Gender equality")
    cli("frameworks", "chapter", "PNDH", "2.3", "--title", "Access to justice")
    cli("links", "group", "--ids", f"{two},{three}", "--title", "Violence against women")
    cli(
        "actions", "add", "--title", JUDGES, "--responsible", "MOJ", "--recommendations", str(one), "--contributing", "MOW",
        "--start-date", "2027-01-01", "--target-date", "2027-06-30", "--budget", "150000.50", "--currency", "UYU",
        "--budget-source", "General budget", "--budget-internal", "--sdg", "5.2", "--chapter", "PNDH:2.3",
    )
    cli(
        "actions", "add", "--title", SHELTERS, "--responsible", "MOW", "--link-groups", "1", "--target-date", "2027-12-31",
        "--budget", "20000", "--currency", "USD", "--chapter", "PNDH:2.10",
    )
    cli("actions", "update", "A-1", "--status", "in_progress", "--done", "Curriculum drafted")
    cli(
        "indicators", "add", "I-3", "--kind", "outcome", "--definition", "Share of women among judges", "--unit", "%",
        "--frequency", "quarterly", "--institution", "MOJ", "--first-due", "2027-01-15", "--baseline", "31.5", "--baseline-date", "2024-12-31",
        "--target", "45", "--target-date", "2030-12-31", "--source", "Judiciary staff register", "--actions", "A-1",
    )
    cli("indicators", "record", "I-3", "--value", "33.5", "--from", "2025-07-01", "--to", "2025-09-30")
    cli.clock.advance(days=10)
    cli("actions", "update", "A-1", "--status", "fully_implemented", "--done", "Two hundred judges trained")
    cli("indicators", "record", "I-3", "--value", "35", "--from", "2026-01-01", "--to", "2026-03-31")
    cli("actions", "add", "--title", "A hotline", "--responsible", "MOW", "--recommendations", str(four))
    return {"one": one, "two": two, "three": three, "four": four}


def sheet_rows(path: Path, sheet: str) -> list[dict[str, Any]]:
    rows = openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)
    header = next(rows)
    return [dict(zip(header, row, strict=True)) for row in rows]


def document_text(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    """Every paragraph's text, and every table as rows of cell texts."""
    document = docx.Document(str(path))
    return [p.text for p in document.paragraphs], [[[c.text for c in row.cells] for row in table.rows] for table in document.tables]


def test_the_cli_offers_the_groupings_the_plan_knows() -> None:
    assert PLAN_BY == PLAN_GROUPS
    assert sorted(["2.10", "2.3", "A-10", "A-9"], key=natural) == ["2.3", "2.10", "A-9", "A-10"]


def test_the_plan_as_a_workbook_by_cluster(cli: Cli, plan: dict[str, int], tmp_path: Path) -> None:
    out, _ = cli("report", "plan", "--out", "plan.xlsx")
    assert out.strip() == "wrote plan.xlsx (6 recommendations, by cluster)"
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert book.sheetnames == ["Summary", "Plan", "Indicators"]
    rows = sheet_rows(tmp_path / "plan.xlsx", "Plan")
    one = [r for r in rows if r["Recommendation"] == plan["one"]]
    # Sections in order: the cluster, then what is in none.
    assert [r["Section"] for r in rows][:3] == ["Justice", "Justice", "Not in a cluster"]
    (judges,) = one
    assert (judges["Action"], judges["Responsible institution"], judges["Contributing institutions"], judges["Action status"]) == (
        "A-1", "MOJ", "MOW", "Fully implemented",
    )
    assert judges["Action"] == "A-1" and judges["Budget"] == 150000.5 and judges["Currency"] == "UYU"
    assert (judges["Start date"].date().isoformat(), judges["Target date"].date().isoformat()) == ("2027-01-01", "2027-06-30")
    assert judges["Source of funding"] == "General budget" and judges["Action title"] == JUDGES
    assert (judges["SDG targets"], judges["National plan chapters"], judges["Indicators"]) == ("5.2", "PNDH 2.3", "I-3")
    # The group's action is under each of its members; a recommendation without one is a row, its action empty.
    assert {r["Recommendation"] for r in rows if r["Action"] == "A-2"} == {plan["two"], plan["three"]}
    bare = [r for r in rows if r["Action"] is None]
    assert bare and all(r["Recommendation status"] for r in bare) and plan["one"] not in {r["Recommendation"] for r in bare}
    (indicator,) = sheet_rows(tmp_path / "plan.xlsx", "Indicators")
    assert (indicator["Recommendation"], indicator["Indicator"], indicator["Kind"], indicator["Baseline"], indicator["Target"]) == (
        plan["one"], "I-3", "Outcome", 31.5, 45,
    )
    assert (indicator["Latest value"], indicator["Period of the latest value"], indicator["Actions"]) == (35, "2026-01-01..2026-03-31", "A-1")
    assert indicator["Progress towards the target (0–1)"] == pytest.approx(round(3.5 / 13.5, 3))
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    (everything,) = [r for r in summary if r and r[0] == "All"]
    # Six recommendations, two without an action (A-3 serves #four), three actions.
    assert everything[1:4] == [6, 2, 3]
    # Summed by currency, never across: in the currencies' order.
    assert everything[-1] == "20,000.00 USD; 150,000.50 UYU"


def test_the_plan_as_a_document_by_chapter(cli: Cli, plan: dict[str, int], tmp_path: Path) -> None:
    cli("report", "plan", "--out", "plan.docx", "--by", "chapter")
    paragraphs, tables = document_text(tmp_path / "plan.docx")
    headings = [p for p in paragraphs if p.startswith(("PNDH", "Serving no"))]
    # 2.3 before 2.10, as the plan numbers them; what serves no chapter last.
    assert headings == [
        "PNDH 2.3: Access to justice (1 recommendation)", "PNDH 2.10: Gender equality (2 recommendations)",
        "Serving no national plan chapter (3 recommendations)",
    ]
    assert "Budgets of this section’s actions: 150,000.50 UYU." in paragraphs
    actions = [row for table in tables for row in table if row[0].startswith("A-")]
    judges = next(row for row in actions if row[0] == f"A-1: {JUDGES}")
    assert judges[1:] == ["MOJ (with MOW)", "1 January 2027 to 30 June 2027", "150,000.50 UYU (General budget, internal)", "fully implemented"]
    # A-2 under each of its group's members, and only under its own chapter.
    assert [row[0] for row in actions].count(f"A-2: {SHELTERS}") == 2
    indicator = next(row for table in tables for row in table if row[0].startswith("I-3"))
    assert indicator == [
        "I-3 (outcome): Share of women among judges", "31.5 % (31 December 2024)", "45 % (31 December 2030)",
        "35 % (1 Jan\u2009–\u200931 Mar 2026)", "MOJ",
    ]
    assert "No action planned yet." in paragraphs


def test_the_plan_as_of_a_day_reads_the_history_as_it_stood(cli: Cli, plan: dict[str, int], tmp_path: Path) -> None:
    cli("report", "plan", "--out", "then.xlsx", "--as-of", "2026-11-23")
    cli("report", "plan", "--out", "then.docx", "--as-of", "2026-11-23", "--by", "group")
    rows = sheet_rows(tmp_path / "then.xlsx", "Plan")
    judges = next(r for r in rows if r["Action"] == "A-1")
    assert judges["Action status"] == "In progress"
    # A-3 was added after that day: not in the plan then.
    assert {r["Action"] for r in rows} == {"A-1", "A-2", None}
    (indicator,) = sheet_rows(tmp_path / "then.xlsx", "Indicators")
    assert (indicator["Latest value"], indicator["Period of the latest value"]) == (33.5, "2025-07-01..2025-09-30")
    paragraphs, tables = document_text(tmp_path / "then.docx")
    assert "As of 23 November 2026, by linked group." in paragraphs
    assert "Violence against women (linked group 1) (2 recommendations)" in paragraphs
    assert any(row[0].startswith("I-3") and row[3] == "33.5 % (1 Jul\u2009–\u200930 Sept 2025)" for table in tables for row in table)
    now = sheet_rows(cli("report", "plan", "--out", "now.xlsx") and tmp_path / "now.xlsx", "Plan")
    assert {r["Action"] for r in now} == {"A-1", "A-2", "A-3", None}


def test_the_public_plan_export_and_page_leave_the_internal_budget_out(cli: Cli, plan: dict[str, int], tmp_path: Path) -> None:
    cli("report", "plan", "--out", "public.xlsx", "--public")
    cli("report", "plan", "--out", "public.docx", "--public")
    cli("report", "export", "--format", "json", "--out", "public.json", "--public")
    cli("report", "export", "--format", "csv", "--out", "public.csv", "--public")
    cli("report", "progress", "--out", "public.html", "--public")
    cli("report", "progress", "--out", "inside.html")
    rows = sheet_rows(tmp_path / "public.xlsx", "Plan")
    judges = next(r for r in rows if r["Action"] == "A-1")
    assert (judges["Budget"], judges["Currency"], judges["Source of funding"]) == (None, None, None)
    assert next(r for r in rows if r["Action"] == "A-2")["Budget"] == 20000
    paragraphs, tables = document_text(tmp_path / "public.docx")
    cells = [cell for table in tables for row in table for cell in row]
    assert "20,000.00 USD" in cells and "Public version: budgets the secretariat marked internal are left out." in paragraphs
    exported = json.loads((tmp_path / "public.json").read_text(encoding="utf-8"))
    one = next(r for r in exported if any(a["code"] == "A-1" for a in r["actions"]))
    assert one["actions"][0]["budget"] is None and "last_narrative" not in one["actions"][0]
    shelters = next(a for r in exported for a in r["actions"] if a["code"] == "A-2")
    assert shelters["budget"] == {"amount": "20000.00", "currency": "USD", "source": None}
    public_page, inside_page = (tmp_path / "public.html").read_text(encoding="utf-8"), (tmp_path / "inside.html").read_text(encoding="utf-8")
    assert "20,000.00 USD" in public_page and "150,000.50 UYU" in inside_page
    for text in (
        (tmp_path / "public.csv").read_text(encoding="utf-8"), public_page, "\n".join(paragraphs + cells),
        "\n".join(str(v) for r in rows for v in r.values()), json.dumps(exported),
    ):
        assert "150000.5" not in text and "150,000.50" not in text and "General budget" not in text


def test_the_plan_in_the_readers_language(cli: Cli, plan: dict[str, int], tmp_path: Path) -> None:
    cli("report", "plan", "--out", "plan.xlsx", "--language", "fr")
    cli("report", "plan", "--out", "plan.docx", "--language", "es", "--by", "chapter")
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert book.sheetnames == ["Synthèse", "Plan", "Indicateurs"]
    judges = next(r for r in sheet_rows(tmp_path / "plan.xlsx", "Plan") if r["Action"] == "A-1")
    assert (judges["Institution responsable"], judges["Statut de l’action"], judges["Section"]) == ("MOJ", "Pleinement mise en œuvre", "Justice")
    paragraphs, tables = document_text(tmp_path / "plan.docx")
    assert paragraphs[0] == "Plan nacional de implementación"
    judges_row = next(row for table in tables for row in table if row[0].startswith("A-1"))
    assert judges_row[2:4] == ["del 1 de enero de 2027 al 30 de junio de 2027", "150.000,50 UYU (General budget, interno)"]
    assert ["Indicador", "Línea de base", "Meta", "Último valor", "Comunicado por"] in [table[0] for table in tables]


def test_a_plan_file_that_is_neither_a_workbook_nor_a_document_is_refused(cli: Cli, world: dict[str, Any], tmp_path: Path) -> None:
    _, err = cli("report", "plan", "--out", "plan.pdf", expect=2)
    assert "the plan is an .xlsx or a .docx file, not .pdf" in err and not (tmp_path / "plan.pdf").exists()
    _, err = cli("report", "plan", "--out", "plan.xlsx", "--by", "mechanism", expect=2)
    assert "'mechanism' is not one of 'cluster', 'group', 'chapter'" in err


def test_the_matrix_and_the_export_carry_the_actions_and_indicator_values(cli: Cli, plan: dict[str, int], tmp_path: Path) -> None:
    cli("report", "matrix", "--out", "matrix.xlsx")
    cli("report", "export", "--format", "csv", "--out", "rows.csv")
    cli("report", "export", "--format", "json", "--out", "rows.json")
    book = openpyxl.load_workbook(tmp_path / "matrix.xlsx")
    assert book.sheetnames == ["Summary", "UPR", "Actions", "Indicators", "Indicator values"]
    actions = {r["Action"]: r for r in sheet_rows(tmp_path / "matrix.xlsx", "Actions")}
    assert list(actions) == ["A-1", "A-2", "A-3"]
    # The matrix is the secretariat's: the internal budget is there, marked so.
    assert (actions["A-1"]["Budget"], actions["A-1"]["Budget internal"], actions["A-1"]["Latest information"]) == (
        150000.5, "Yes", "Two hundred judges trained",
    )
    assert actions["A-2"]["Recommendations"] == f"#{plan['two']}, #{plan['three']}" and actions["A-2"]["Linked groups"] == "1"
    (indicator,) = sheet_rows(tmp_path / "matrix.xlsx", "Indicators")
    assert (indicator["Indicator"], indicator["Latest value"], indicator["Reported by"], indicator["Frequency"]) == ("I-3", 35, "MOJ", "Quarterly")
    values = sheet_rows(tmp_path / "matrix.xlsx", "Indicator values")
    assert [(v["Value"], v["Change"], v["Counts"]) for v in values] == [(33.5, None, "Yes"), (35, 1.5, "Yes")]
    # The main sheet keeps its columns: the plan is on its own sheets.
    header = next(book["UPR"].iter_rows(values_only=True))
    assert header[-1] == "SDG targets" and "Action" not in header
    rows = list(csv.DictReader(io.StringIO((tmp_path / "rows.csv").read_text(encoding="utf-8"))))
    assert list(rows[0])[-2:] == ["actions", "indicators"]
    one = next(r for r in rows if r["id"] == str(plan["one"]))
    assert one["actions"] == f"A-1: {JUDGES} (fully_implemented; MOJ; 2027-01-01..2027-06-30; 150000.50 UYU)"
    assert one["indicators"] == "I-3: 35 % for 2026-01-01..2026-03-31 (baseline 31.5, target 45)"
    exported = {r["id"]: r for r in json.loads((tmp_path / "rows.json").read_text(encoding="utf-8"))}
    [judges] = exported[plan["one"]]["actions"]
    assert judges["budget"] == {"amount": "150000.50", "currency": "UYU", "source": "General budget", "internal": True}
    [measured] = exported[plan["one"]]["indicators"]
    assert [(v["period_end"], v["value"]) for v in measured["values"]] == [("2025-09-30", 33.5), ("2026-03-31", 35.0)]
    assert measured["baseline"] == {"value": 31.5, "date": "2024-12-31"}


def test_the_progress_page_charts_each_indicator_and_the_actions_by_status(cli: Cli, plan: dict[str, int], tmp_path: Path) -> None:
    cli("report", "progress", "--out", "page.html")
    cli("report", "progress", "--out", "then.html", "--as-of", "2026-11-23")
    page, then = (tmp_path / "page.html").read_text(encoding="utf-8"), (tmp_path / "then.html").read_text(encoding="utf-8")
    # The page's five charts (no SDG chart here: the UPR fixture has no SDG tag), the actions' and I-3's.
    assert page.count("<svg") == then.count("<svg") == 4 + 2
    assert "Actions by status (3 actions)" in page and "Actions by status (2 actions)" in then
    assert html.escape("I-3: Share of women among judges (%); latest value 35, for the period to 31 March 2026") in page
    assert html.escape("latest value 33.5, for the period to 30 September 2025") in then
    assert f"<b>A-1</b> {JUDGES}" in page and "No action of the implementation plan" not in page


async def test_the_public_trackers_json_holds_the_plan_without_the_internal_budget(
    plan: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        figures, rows = await progress(session, ReportScope(), None, "—", True)
    served = public_json(figures, rows, built_at=FakeClock().now, language="en", validated_only=True)
    data = json.loads(served)
    actions = {a["code"]: a for a in data["actions"]}
    assert list(actions) == ["A-1", "A-2", "A-3"] and data["actions_by_status"] == {"fully_implemented": 1, "not_started": 2}
    assert actions["A-1"]["budget"] is None and actions["A-2"]["budget"] == {"amount": "20000.00", "currency": "USD"}
    # The recommendations by their UN identifiers: never an id of the registry's own.
    external = {int(r["id"]): r["external_id"] for r in rows}  # type: ignore[call-overload]
    assert actions["A-2"]["recommendations"] == [external[plan["two"]], external[plan["three"]]] and all(external.values())
    [indicator] = data["indicators"]
    assert [(v["period_end"], v["value"]) for v in indicator["values"]] == [("2025-09-30", 33.5), ("2026-03-31", 35.0)]
    assert b"150000" not in served and b"General budget" not in served
