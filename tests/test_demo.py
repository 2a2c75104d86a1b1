"""``nmrf-bot demo``, the README's first command: the whole cycle through
the real bot and the stand-ins, and what it leaves behind."""

from __future__ import annotations

import io
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest

from tests.cli_harness import Cli


def test_the_demo_plays_a_reporting_cycle_and_leaves_its_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NMRF_DATABASE_URL", raising=False)
    out, _ = Cli(capsys)("demo", "--start", "2026-11-23")
    folder = tmp_path / "nmrf-demo"
    # The story as told: joining, a reminder in French, the secretariat's
    # request, the escalation to the alternate, the overdue digest, the files.
    assert "── Mon 23 Nov 2026, 09:00 in Montevideo · Focal points join" in out
    assert "bot → Jean Dupont (Telegram): Rappel : Ministry of Education and Culture" in out
    assert "bot → María González (Telegram): Nadie responde todavía por INR, MRREE" in out
    escalation_day = out.index("· Third reminders")
    assert out.index("bot → Ana Pereira (Telegram): For your attention: Ministry of the Interior", escalation_day) < out.index("· The input deadline")
    assert "bot → María González (Telegram): Contribuciones vencidas hoy:" in out
    matrix, draft, page = (folder / n for n in ("implementation-matrix-2026-12-08.xlsx", "draft-UPR-2026-12-08.docx", "progress-2026-12-08.html"))
    for path in (matrix, draft, page):
        assert str(path.resolve()) in out
    sheet = openpyxl.load_workbook(matrix, read_only=True)["UPR"]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 6 and {r[5] for r in rows[1:]} == {"A/HRC/26/7"}
    # In María's Spanish, as she asked for it in chat.
    assert rows[0][10] == "Situación" and "En curso" in {r[10] for r in rows[1:]}
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(draft.read_bytes())).paragraphs)
    assert "Plan Nacional de Discapacidad" in text and "Two new prison modules" in text
    assert page.read_text(encoding="utf-8").count("<svg") >= 4
    # The plan: Lucía's action and indicator, in María's matrix and on the page she received.
    assert "Acciones por situación (1 acción)" in page.read_text(encoding="utf-8")
    book = openpyxl.load_workbook(matrix, read_only=True)
    assert [r[:2] for r in book["Acciones"].iter_rows(values_only=True)][1:] == [("A-1", "Extender el Plan Nacional de Discapacidad a los 19 departamentos")]
    assert [r[0] for r in book["Indicadores"].iter_rows(values_only=True)][1:] == ["I-1"]

    db = sqlite3.connect(folder / "nmrf-demo.db")
    authors = [a for (a,) in db.execute("SELECT f.name FROM status_updates u JOIN focal_points f ON f.id = u.author_focal_point_id ORDER BY u.id")]
    assert authors == ["Lucía Fernández", "Jean Dupont", "Lucía Fernández", "Sofía Acosta", "Lucía Fernández", "Ana Pereira"]
    assert db.execute("SELECT count(*) FROM validations").fetchone() == (1,)
    # Three typed answers to the first request, and Lucía's one-tap "no change" to the second.
    assert db.execute("SELECT count(*) FROM request_answers").fetchone() == (4,)
    # The plan's action updated and the indicator's value given in chat, by Lucía, in her Spanish number format.
    assert db.execute(
        "SELECT f.name, u.status, u.channel FROM action_updates u JOIN focal_points f ON f.id = u.author_focal_point_id"
    ).fetchall() == [("Lucía Fernández", "in_progress", "telegram")]
    assert db.execute(
        "SELECT f.name, v.value, v.period_start, v.period_end, v.source FROM indicator_values v JOIN focal_points f ON f.id = v.focal_point_id"
    ).fetchall() == [("Lucía Fernández", 12450, "2026-07-01", "2026-09-30", "Registro del MIDES")]
    assert "Lucía Fernández: the update of action A-1 in 2 taps and 1 typed message" in out
    assert "Lucía Fernández: the value of indicator I-1 in 4 taps and 1 typed message" in out
    # Each path's length, as the transcript counts it.
    assert "Lucía Fernández: no change in 1 tap and 0 typed messages" in out
    assert out.count("a full update in 3 taps and 1 typed message") == 4
    # Everything queued went out, each once, on a weekday, in working hours where its reader is.
    statuses = db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
    assert dict(statuses).keys() == {"sent"}, statuses
    for sent_at, zone in db.execute("SELECT sent_at, timezone FROM outbox"):
        local = datetime.fromisoformat(sent_at).replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))
        assert local.weekday() < 5 and 9 <= local.hour < 17, (sent_at, zone)
    # A second run starts afresh.
    again, _ = Cli(capsys)("demo", "--start", "2026-11-23")
    assert "Done in" in again


def test_the_demo_plays_in_arabic_and_jean_answers_in_arabic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``--language`` takes every language with a catalog (issue 17); one not
    yet complete says in English what it lacks."""
    from bot.cli.demo import DEMO_LANGUAGES
    from bot.demo.cycle import JEAN_IN_ARABIC
    from messages import SUPPORTED_LANGUAGES, UPCOMING_LANGUAGES

    assert set(DEMO_LANGUAGES) == {*SUPPORTED_LANGUAGES, *UPCOMING_LANGUAGES}
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NMRF_DATABASE_URL", raising=False)
    out, _ = Cli(capsys)("demo", "--start", "2026-11-23", "--language", "ar")
    assert "Done in" in out and f"Jean Dupont writes «{JEAN_IN_ARABIC['answer']}»" in out
    db = sqlite3.connect(tmp_path / "nmrf-demo" / "nmrf-demo.db")
    assert {language for (language,) in db.execute("SELECT language FROM focal_points")} == {"ar"}
    answers = [text for (text,) in db.execute("SELECT a.text FROM request_answers a")]
    assert JEAN_IN_ARABIC["answer"] in answers
    (narrative, next_step), = db.execute(
        "SELECT u.narrative, u.next_step FROM status_updates u JOIN focal_points f ON f.id = u.author_focal_point_id WHERE f.name = 'Jean Dupont'"
    ).fetchall()
    assert (narrative, next_step) == (JEAN_IN_ARABIC["update"], JEAN_IN_ARABIC["next_step"])
    # Lucía typed the indicator's value in the Arabic format (١٢٬٤٥٠) and it was read.
    assert db.execute("SELECT value FROM indicator_values").fetchall() == [(12450,)]
