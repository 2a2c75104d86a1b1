"""`nmrf-bot pledges` and `nmrf-bot report pledges` through the real entry
point, on every backend: a round opened, moved and closed, pledges and
outcomes recorded for the secretariat, the lists and the summary, each bad
input one clear line, every change in the audit log, and the round's report
read back from its .xlsx and its .docx in the language asked for."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli_harness import Cli


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


OPEN = ("pledges", "open", "2027", "--ask-by", "2027-01-29", "--report-back", "2027-12-01")


def test_the_secretariat_opens_a_round_records_pledges_and_reads_who_pledged(cli: Cli, world: dict[str, int]) -> None:
    one, two, _ = world["mine_all"]
    out, _ = cli(*OPEN)
    assert out.strip() == "opened the 2027 round: 2 institution(s) asked for pledges by 2027-01-29; report-back from 2027-12-01"
    _, err = cli(*OPEN, expect=1)
    assert err.strip() == "error: the 2027 round is open already (see: nmrf-bot pledges show 2027)"
    _, err = cli("pledges", "open", "2028", "--ask-by", "2028-02-01", "--report-back", "2028-01-01", expect=1)
    assert err.strip() == "error: the report-back (2028-01-01) must come after the day pledges are asked by (2028-02-01)"
    out, _ = cli("pledges", "add", "2027", "--institution", "moj", "--text", f"Train 300 judges #{one}", "--recommendations", str(two))
    assert out.strip() == f"added P-1 (draft) for MOJ in 2027, serving #{one}, #{two}"
    _, err = cli("pledges", "add", "2027", "--institution", "MOJ", "--text", "Under A-4", expect=1)
    assert err.strip() == "error: no action A-4 in the plan (see: nmrf-bot actions list)"
    out, _ = cli("pledges", "add", "2027", "--institution", "MOW", "--text", "A shelter in every department", "--confirmed")
    assert out.strip() == "added P-2 (confirmed) for MOW in 2027"
    out, _ = cli("pledges", "confirm", "p-1")
    assert out.strip() == "P-1: confirmed"
    _, err = cli("pledges", "confirm", "P-1", expect=1)
    assert err.strip() == "error: P-1 is confirmed, not a draft: there is nothing to confirm"
    out, _ = cli("pledges", "list", "--format", "json")
    listed = json.loads(out)
    assert [(r["code"], r["institution"], r["state"], r["serves"]) for r in listed] == [
        ("P-1", "MOJ", "confirmed", f"#{one}, #{two}"), ("P-2", "MOW", "confirmed", ""),
    ]
    out, _ = cli("pledges", "summary", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["institution"], r["standing"], r["confirmed"], r["awaited"]) for r in rows] == [("MOJ", "confirmed", "1", "1"), ("MOW", "confirmed", "1", "1")]
    out, _ = cli("pledges", "edit", "2027", "--ask-by", "2027-02-15")
    assert out.strip() == "the 2027 round: pledges by 2027-02-15, report-back from 2027-12-01"
    out, _ = cli("pledges", "rounds", "--format", "json")
    [made] = json.loads(out)
    assert (made["year"], made["ask_by"], made["stage"], made["institutions"], made["confirmed"]) == (2027, "2027-02-15", "pledging", 2, 2)
    out, _ = cli("audit", "list", "--table", "pledges", "--format", "json")
    audited = json.loads(out)
    assert sorted(r["action"] for r in audited) == ["insert", "insert", "update"]
    assert all(r["actor"].startswith("cli:") for r in audited)
    out, _ = cli("audit", "list", "--table", "pledge_rounds", "--format", "json")
    assert sorted(r["action"] for r in json.loads(out)) == ["insert", "update"]


def test_the_report_back_is_recorded_the_round_closed_and_the_report_read_back(cli: Cli, world: dict[str, int], tmp_path: Path) -> None:
    from docx import Document
    from openpyxl import load_workbook

    cli(*OPEN)
    cli("pledges", "add", "2027", "--institution", "MOJ", "--text", "Train 300 judges", "--confirmed")
    cli("pledges", "add", "2027", "--institution", "MOJ", "--text", "=HYPERLINK(\"x\") a register", "--confirmed")
    _, err = cli("pledges", "outcome", "P-1", "--outcome", "done", "--account", "All trained", expect=1)
    assert err.strip() == "error: the 2027 report-back begins on 2027-12-01"
    cli.clock.now = cli.clock.now.replace(year=2027, month=12, day=2)
    out, _ = cli("pledges", "outcome", "P-1", "--outcome", "partly", "--account", "180 of 300 trained")
    assert out.strip() == "P-1: partly, recorded"
    out, _ = cli("pledges", "show", "P-1")
    assert out.splitlines()[0] == "P-1 (2027, MOJ, confirmed): Train 300 judges"
    assert out.splitlines()[-1].startswith("  outcome 2027-12-02: partly (counts): 180 of 300 trained (cli:")
    _, err = cli("pledges", "withdraw", "P-2", expect=1)
    assert err.strip() == "error: P-2 can no longer be withdrawn: the report-back began on 2027-12-01; report it as not done instead"

    xlsx = tmp_path / "pledges.xlsx"
    out, _ = cli("report", "pledges", "--year", "2027", "--out", str(xlsx), "--language", "fr")
    assert out.strip() == f"wrote {xlsx} (the 2027 round: 2 pledge(s) of 2 institution(s) asked)"
    book = load_workbook(xlsx)
    assert book.sheetnames == ["Synthèse", "Engagements"]
    summary = book["Synthèse"]
    assert summary["A1"].value == "Engagements 2027 : synthèse et bilan"
    assert [c.value for c in summary[5]] == [
        "Institution", "Code", "Situation", "Confirmés", "Brouillons", "Retirés", "Réalisés", "En partie", "Non réalisés", "En attente",
    ]
    assert [c.value for c in summary[6]] == ["Ministry of Justice", "MOJ", "Engagements confirmés", 2, 0, 0, 0, 1, 0, 1]
    assert [c.value for c in summary[7]][:3] == ["Ministry of Women", "MOW", "Sans réponse"]
    listed = book["Engagements"]
    assert [c.value for c in listed[2]][:5] == ["P-1", "Ministry of Justice", "Train 300 judges", None, "confirmé"]
    assert [c.value for c in listed[2]][6:8] == ["En partie", "180 of 300 trained"]
    # A pledge that would run as a formula stays text.
    formula = listed["C3"]
    assert formula.value == "=HYPERLINK(\"x\") a register" and formula.data_type == "s" and formula.quotePrefix

    docx = tmp_path / "pledges.docx"
    cli("report", "pledges", "--out", str(docx), "--language", "es")
    paragraphs = [p.text for p in Document(str(docx)).paragraphs]
    assert paragraphs[0] == "Compromisos 2027: resumen y balance"
    assert "En parte: 180 of 300 trained" in paragraphs and "Aún sin balance." in paragraphs
    assert "Ministry of Women (MOW)" in paragraphs and "Sin respuesta" in paragraphs
    _, err = cli("report", "pledges", "--out", str(tmp_path / "pledges.csv"), expect=2)
    assert "the pledges report is an .xlsx or a .docx file" in err

    out, _ = cli("pledges", "close", "2027")
    assert out.strip() == "closed the 2027 round: 2 confirmed pledge(s), 1 never reported back on"
    _, err = cli("pledges", "outcome", "P-2", "--outcome", "not", "--account", "Late", expect=1)
    assert err.strip() == "error: the 2027 round is closed: nothing more is taken in it"
