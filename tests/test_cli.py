"""The `nmrf-bot` command line, through its real entry point."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
from pathlib import Path

import pytest

from storage.migrate import head_revision
from tests.cli_harness import Cli
from tests.conftest import FIXTURES
from tests.factories import network_sheets, write_workbook


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


@pytest.fixture
def empty_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NMRF_DATABASE_URL", raising=False)
    return Cli(capsys)


def test_fresh_directory_upgrade_creates_sqlite_default(empty_db: Cli, tmp_path: Path) -> None:
    _, err = empty_db("recommendations", "list", expect=1)
    assert err == "error: the database has no tables yet: run `nmrf-bot db upgrade` first\n"
    out, _ = empty_db("db", "upgrade")
    assert out.startswith(f"database at schema {head_revision()} (was empty)")
    assert (tmp_path / "nmrf.db").exists()
    out, _ = empty_db("db", "status")
    assert "up to date" in out


def test_bad_config_is_one_clear_error(empty_db: Cli, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[schedule]\nhours = "9-5"\n', encoding="utf-8")
    _, err = empty_db("db", "upgrade", expect=1)
    assert err.startswith("error: config.toml: schedule.hours: expected a range 'HH:MM-HH:MM'")
    _, err = empty_db("--config", "elsewhere.toml", "db", "upgrade", expect=1)
    assert err == "error: elsewhere.toml: no such configuration file\n"


def test_import_and_list_in_every_format(cli: Cli) -> None:
    out, _ = cli("import", "uprinfo", str(FIXTURES / "uprinfo_small.csv"), "--no-progress")
    assert out == "uprinfo_small.csv: recommendations: 6 rows: 6 created, 0 updated, 0 unchanged\n"
    out, _ = cli("import", "uprinfo", str(FIXTURES / "uprinfo_small.csv"), "--no-progress")
    assert "0 created, 0 updated, 6 unchanged" in out

    out, _ = cli("recommendations", "list", "--format", "json")
    rows = json.loads(out)
    assert len(rows) == 6 and {r["status"] for r in rows} == {"not_started"}
    assert [r["position"] for r in rows if r["country"] == "Fiji"] == ["noted"]

    out, _ = cli("recommendations", "list", "--format", "csv", "--state", "uruguay", "--position", "supported")
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 3 and {r["country"] for r in table} == {"Uruguay"}

    out, _ = cli("recommendations", "list", "--format", "json", "--limit", "2")
    assert len(json.loads(out)) == 2

    out, err = cli("recommendations", "list", "--theme", "detention")
    assert "Adopt measures to improve the conditions" in out and err == "1 recommendation\n"

    out, _ = cli("recommendations", "list", "--format", "json", "--kind", "voluntary_pledge")
    assert [r["recommending_states"] for r in json.loads(out)] == ["Uruguay"]


def test_rejected_import_prints_every_bad_row_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "To,To-Rgrp,To-Org,Text,From,From-Rgrp,From-Org,Response,Action,Issue,Session\n"
        "Uruguay,,,,Spain,,,Accepted,4,Justice,18\n"
        "Uruguay,,,Text,Spain,,,Perhaps,4,Justice,18\n",
        encoding="utf-8",
    )
    _, err = cli("import", "uprinfo", str(bad), "--no-progress", expect=1)
    lines = err.splitlines()
    assert lines[0] == f"error: {bad}: 2 bad rows, nothing imported"
    assert lines[1] == "  row 2, column 'Text': empty"
    assert lines[2].startswith("  row 3, column 'Response':")
    out, _ = cli("recommendations", "list", "--format", "json")
    assert json.loads(out) == []


def test_network_commands(cli: Cli) -> None:
    cli("institutions", "add", "MOJ", "Ministry of Justice")
    cli("institutions", "add", "prisons", "National Prison Service", "--kind", "agency", "--parent", "moj")
    _, err = cli("institutions", "add", "MOJ", "Again", expect=1)
    assert err == "error: an institution with code 'MOJ' exists already\n"
    out, _ = cli("institutions", "list", "--format", "csv")
    assert list(csv.DictReader(io.StringIO(out)))[1]["parent"] == "MOJ"

    cli("focal-points", "add", "--name", "Ana Pérez", "--institution", "MOJ", "--role", "technical",
        "--email", "ana@justicia.example", "--language", "es", "--timezone", "America/Montevideo", "--active-from", "2025-01-01")
    _, err = cli("focal-points", "add", "--name", "X", "--institution", "MOJ", "--role", "technical", "--timezone", "Moon/Base", expect=1)
    assert err.startswith("error: expected an IANA time zone")
    _, err = cli("focal-points", "add", "--name", "X", "--institution", "MOJ", "--role", "boss", expect=2)
    assert "Invalid value for '--role'" in err
    out, _ = cli("focal-points", "list", "--format", "json")
    assert [(f["name"], f["timezone"], f["language"], f["hours"]) for f in json.loads(out)] == [("Ana Pérez", "America/Montevideo", "es", "")]
    out, _ = cli("focal-points", "hours", "ana@justicia.example", "8:00-14:30")
    assert out.startswith("Ana Pérez works 08:00-14:30 (America/Montevideo)")
    _, err = cli("focal-points", "hours", "ana@justicia.example", "14:00-08:00", expect=1)
    assert err.startswith("error: working hours start before they end")
    cli("focal-points", "add", "--name", "Bruno", "--institution", "MOJ", "--role", "alternate", "--hours", "07:00-13:00", "--active-from", "2025-01-01")
    out, _ = cli("focal-points", "list", "--format", "json")
    assert {f["name"]: f["hours"] for f in json.loads(out)} == {"Ana Pérez": "08:00-14:30", "Bruno": "07:00-13:00"}
    out, _ = cli("focal-points", "hours", "ana@justicia.example", "default")
    assert "09:00-17:00 (default)" in out
    cli("focal-points", "end", "ana@justicia.example", "--on", "2026-01-31")
    cli("focal-points", "end", "2", "--on", "2026-01-31")
    out, _ = cli("focal-points", "list", "--format", "json")
    assert json.loads(out) == []
    out, _ = cli("focal-points", "list", "--all", "--format", "json")
    assert json.loads(out)[0]["active_to"] == "2026-01-31"


def test_assign_clusters_and_deadlines(cli: Cli) -> None:
    cli("import", "uprinfo", str(FIXTURES / "uprinfo_small.csv"), "--no-progress")
    cli("institutions", "add", "MOJ", "Ministry of Justice")
    cli("institutions", "add", "MOW", "Ministry of Women")
    out, _ = cli("assign", "--institution", "moj", "--theme", "Justice", "--country", "Uruguay")
    assert out == "1 assigned, 0 role changed, 0 already assigned\n"
    out, _ = cli("assign", "--institution", "MOJ", "--ids", "1-2", "--role", "contributing")
    assert out == "1 assigned, 1 role changed, 0 already assigned\n"
    _, err = cli("assign", "--institution", "MOJ", "--ids", "1,99", expect=1)
    assert err == "error: no recommendation with id 99\n"
    _, err = cli("assign", "--institution", "MOJ", expect=1)
    assert err.startswith("error: say which recommendations")
    _, err = cli("assign", "--institution", "MOJ", "--ids", "x", expect=2)
    assert "expected ids such as '3,5,9' or '10-20'" in err

    cli("clusters", "add", "Gender equality", "--priority", "high")
    out, _ = cli("clusters", "put", "Gender equality", "--theme", "Women's rights")
    assert out.startswith("1 recommendation put in")
    out, _ = cli("assign", "--institution", "MOW", "--cluster", "gender equality")
    assert out.startswith("1 assigned")
    out, _ = cli("recommendations", "list", "--institution", "MOW", "--format", "json")
    assert [r["cluster"] for r in json.loads(out)] == ["Gender equality"]

    out, _ = cli("deadlines", "add", "--kind", "upr_midterm", "--due", "2027-03-31", "--for-mechanism", "UPR", "--country", "Uruguay", "--theme", "Detention")
    assert out.startswith("added deadline 1: UPR mid-term report, due 2027-03-31")
    cli("deadlines", "add", "--kind", "internal_input", "--due", "2026-12-15", "--parent", "1", "--title", "Inputs from ministries")
    _, err = cli("deadlines", "add", "--kind", "internal_input", "--due", "2026-02-30", expect=2)
    assert "expected a date as YYYY-MM-DD" in err
    out, _ = cli("deadlines", "list", "--format", "json")
    assert [(d["title"], d["recommendations"], d["parent"]) for d in json.loads(out)] == [
        ("Inputs from ministries", 0, 1), ("UPR mid-term report", 1, None)
    ]
    out, _ = cli("deadlines", "list", "--format", "json", "--to", "2026-12-31")
    assert len(json.loads(out)) == 1


def test_template_via_cli(cli: Cli, tmp_path: Path) -> None:
    out, _ = cli("import", "write-template", str(tmp_path / "blank.xlsx"))
    assert out == f"wrote {tmp_path / 'blank.xlsx'}\n"
    path = write_workbook(tmp_path / "network.xlsx", network_sheets())
    out, _ = cli("import", "template", str(path), "--no-progress")
    assert "network.xlsx: assignments: 4 rows: 4 created" in out
    out, _ = cli("recommendations", "list", "--format", "json", "--institution", "MOJ")
    assert [(r["external_id"], r["lead"], r["institutions"]) for r in json.loads(out)] == [("R-1", "MOJ", "MOJ; PRISONS")]


def test_the_config_seeds_the_first_admin_only(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[schedule]\ntimezone = "America/Montevideo"\n'
        '[[secretariat.users]]\nname = "María González"\nemail = "mgonzalez@cancilleria.example"\nlanguage = "es"\ntelegram_user_id = 42\n',
        encoding="utf-8",
    )
    cli("db", "upgrade")
    out, _ = cli("secretariat", "list", "--format", "json")
    assert json.loads(out) == [
        {"id": 1, "name": "María González", "email": "mgonzalez@cancilleria.example", "role": "admin", "language": "es",
         "timezone": "America/Montevideo", "active": True, "platforms": "telegram"}
    ]
    # Once an admin exists, the list is not read again: emptying it removes nobody.
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    cli("db", "upgrade")
    out, _ = cli("secretariat", "list", "--format", "json")
    assert [u["active"] for u in json.loads(out)] == [True]
    (tmp_path / "config.toml").write_text(
        '[[secretariat.users]]\nname = "Someone Else"\nemail = "else@cancilleria.example"\n', encoding="utf-8"
    )
    out, _ = cli("secretariat", "seed")
    assert "was not applied" in out
    out, _ = cli("secretariat", "list", "--format", "json")
    assert [u["email"] for u in json.loads(out)] == ["mgonzalez@cancilleria.example"]


def test_list_without_limit_prints_every_row(cli: Cli, tmp_path: Path) -> None:
    rows = ["id,text,mechanism,country"] + [f"R-{n},Recommendation number {n},UPR,Uruguay" for n in range(1, 1201)]
    (tmp_path / "many.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cli("import", "template", str(tmp_path / "many.csv"), "--no-progress")
    out, _ = cli("recommendations", "list", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 1200
    out, _ = cli("recommendations", "list", "--format", "csv", "--limit", "1000")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 1000


def test_unreachable_database_is_one_line(empty_db: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    _, err = empty_db("institutions", "list", expect=1)
    assert err.startswith("error: cannot open the database:") and err.count("\n") == 1
    monkeypatch.setenv("NMRF_DATABASE_URL", "sqlite:////nonexistent-dir/x.db")
    _, err = empty_db("db", "upgrade", expect=1)
    assert err.startswith("error: database: unable to open database file") and err.count("\n") == 1


def test_a_report_that_cannot_be_saved_says_where_not_the_database(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("import", "uprinfo", str(FIXTURES / "uprinfo_small.csv"))
    _, err = cli("report", "matrix", "--out", str(tmp_path / "missing" / "m.xlsx"), expect=2)
    assert f"no folder {tmp_path / 'missing'}" in err
    assert not (tmp_path / "missing").exists()

    # A file error met while working is that file's, not "cannot reach the database".
    async def disk_full(*_args: object, **_kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "all.csv"))

    monkeypatch.setattr("bot.reports.export.write_export", disk_full)
    _, err = cli("report", "export", "--format", "csv", "--out", str(tmp_path / "all.csv"), expect=1)
    assert err == f"error: no space left on device writing {tmp_path / 'all.csv'}\n"


def test_reminders_preview_shows_the_plan_before_anything_is_sent(cli: Cli, tmp_path: Path) -> None:
    cli("import", "uprinfo", str(FIXTURES / "uprinfo_small.csv"))
    cli("institutions", "add", "MOJ", "Ministry of Justice")
    for name, role, email, language in (("Ana Pérez", "technical", "ana@j.example", "en"), ("Bruno Silva", "alternate", "bruno@j.example", "fr")):
        cli("focal-points", "add", "--name", name, "--institution", "MOJ", "--role", role, "--email", email,
            "--timezone", "Europe/Lisbon", "--active-from", "2025-01-01", "--language", language)
    cli("assign", "--institution", "MOJ", "--ids", "1-3")
    cli("deadlines", "add", "--kind", "internal_input", "--due", "2026-11-06", "--for-mechanism", "CEDAW", "--ids", "1-3")
    # Nobody has a chat account yet: nothing can be planned for them.
    out, _ = cli("reminders", "preview", "--from", "2026-09-01", "--to", "2026-11-10", "--format", "json")
    assert json.loads(out) == []
    import asyncio

    from storage.conversations import link_identity
    from storage.database import create_engine, session_factory
    from storage.enums import Platform

    async def link() -> None:
        engine = create_engine(os.environ["NMRF_DATABASE_URL"])
        async with session_factory(engine)() as session, session.begin():
            await link_identity(session, 1, Platform.TELEGRAM, "", "111", "111")
            await link_identity(session, 2, Platform.TELEGRAM, "", "112", "112")
        await engine.dispose()

    asyncio.run(link())
    out, _ = cli("reminders", "preview", "--from", "2026-09-01", "--to", "2026-11-10", "--format", "json")
    rows = json.loads(out)
    ana = [(r["local_time"], r["utc_time"], r["step"]) for r in rows if r["recipient"] == "Ana Pérez"]
    # Lisbon leaves summer time on 25 October: nine local is 08:00 UTC before, 09:00 after.
    assert ana[:2] == [("2026-09-07 09:00 WEST", "2026-09-07 08:00", "60"), ("2026-10-07 09:00 WEST", "2026-10-07 08:00", "30")]
    # Due Friday 6 November: the first overdue reminder on Monday 9, the next after the window.
    assert ana[-2:] == [("2026-11-05 09:00 WET", "2026-11-05 09:00", "1"), ("2026-11-09 09:00 WET", "2026-11-09 09:00", "overdue-1")]
    assert {r["items"] for r in rows} == {"#1, #2, #3"}
    bruno = [(r["kind"], r["step"], r["utc_time"][:10]) for r in rows if r["recipient"] == "Bruno Silva"]
    assert bruno == [("escalation", "escalate-1", "2026-10-23")]
    # Each deadline is named as its reader will read it.
    assert {(r["recipient"], r["deadline"]) for r in rows} == {
        ("Ana Pérez", "CEDAW internal input deadline"), ("Bruno Silva", "Date limite interne des contributions (CEDAW)"),
    }
    out, _ = cli("reminders", "preview", "--from", "2026-09-01", "--to", "2026-09-30")
    assert "Ana Pérez" in out and "Ministry of Justice" in out
    _, err = cli("reminders", "preview", "--from", "2026-09-30", "--to", "2026-09-01", expect=2)
    assert "--to is before --from" in err


def test_deadlines_suggest_and_accept(cli: Cli) -> None:
    cli("import", "uprinfo", str(FIXTURES / "uprinfo_small.csv"))
    out, _ = cli("deadlines", "suggest", "--upr-review", "Uruguay=2024-01-23", "--format", "json")
    suggested = json.loads(out)
    assert [(s["number"], s["kind"], s["due_on"], s["serves"]) for s in suggested][:2] == [
        (1, "upr_national_report", "2028-04-30", None), (2, "internal_input", "2027-10-30", 1),
    ]
    out, _ = cli("deadlines", "suggest", "--upr-review", "Uruguay=2024-01-23", "--accept", "2")
    assert out.splitlines() == [
        "added deadline 1: UPR national report (Uruguay), due 2028-04-30",
        "added deadline 2: Inputs for the UPR national report (Uruguay), due 2027-10-30",
    ]
    out, _ = cli("deadlines", "suggest", "--upr-review", "Uruguay=2024-01-23", "--accept", "all")
    assert out.startswith("nothing new")
    _, err = cli("deadlines", "suggest", "--input-lead", "soon", expect=2)
    assert "lead time" in err


def test_backup_copies_a_sqlite_database_being_written_and_the_copy_reads_back(cli: Cli, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not db_url.startswith("sqlite"):
        # PostgreSQL: the command says how to use pg_dump, with no password in it.
        _, err = cli("db", "backup", str(tmp_path / "copy.dump"), expect=1)
        assert "pg_dump --format=custom" in err and "pg_restore" in err
        return
    import sqlite3
    import threading

    cli("import", "uprinfo", str(FIXTURES / "uprinfo_small.csv"), "--no-progress")
    source = Path(db_url.split("///", 1)[1])
    # Another connection keeps writing (WAL) while the copy is made.
    stop = threading.Event()

    def write() -> None:
        writer = sqlite3.connect(source, timeout=30)
        writer.execute("CREATE TABLE IF NOT EXISTS scratch (n INTEGER)")
        n = 0
        while not stop.is_set():
            writer.execute("INSERT INTO scratch VALUES (?)", (n,))
            writer.commit()
            n += 1
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        out, _ = cli("db", "backup", str(tmp_path / "copy.db"))
    finally:
        stop.set()
        thread.join()
    assert out.startswith(f"backed up {source} to {tmp_path / 'copy.db'}:") and "integrity ok" in out
    _, err = cli("db", "backup", str(tmp_path / "copy.db"), expect=1)
    assert "exists; give --force" in err
    before, _ = cli("recommendations", "list", "--format", "csv")
    monkeypatch.setenv("NMRF_DATABASE_URL", f"sqlite:///{tmp_path / 'copy.db'}")
    after, _ = cli("recommendations", "list", "--format", "csv")
    assert after == before and len(after.splitlines()) == 7


def test_chat_in_the_terminal_as_a_focal_point_and_as_the_secretariat(
    cli: Cli, world: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /mine lists three; the last one's buttons are [1] Open ...; Open, then No change,
    # which asks the status (the institution never answered), then the first status.
    monkeypatch.setattr("sys.stdin", io.StringIO("/mine\n1\n2\n1\n/quit\n"))
    out, err = cli("chat", "--as", "ANA@justicia.example")
    assert err.startswith("You are Ana Pérez.")
    assert "> /mine" in out and "(pressed [Open])" in out and "(pressed [No change])" in out and "(pressed [not started])" in out
    # The update is real, by Ana, on the last of her three recommendations.
    cli("report", "export", "--format", "json", "--out", str(tmp_path / "rows.json"))
    rows = json.loads((tmp_path / "rows.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in rows if r["last_update_by"] == "Ana Pérez"] == [world["mine_all"][2]]
    _, err = cli("chat", "--as", "nobody@example.org", expect=1)
    assert "nobody on the network is nobody@example.org" in err

    (tmp_path / "config.toml").write_text(
        '[[secretariat.users]]\nname = "María González"\nemail = "maria@cancilleria.example"\nlanguage = "es"\n', encoding="utf-8"
    )
    cli("secretariat", "seed")
    monkeypatch.setattr("sys.stdin", io.StringIO("/report export json\n/progress\n"))
    out, _ = cli("chat", "--as-secretariat", "maria@cancilleria.example", "--files", str(tmp_path / "got"))
    assert "[file saved:" in out and "Avance por institución" in out
    (saved,) = (tmp_path / "got").iterdir()
    assert saved.suffix == ".json" and len(json.loads(saved.read_text(encoding="utf-8"))) == 6


def test_every_command_reads_the_clock_it_is_given(cli: Cli) -> None:
    """Today, for a term's start, an import's stamp or what is overdue, is the
    injected clock's (here 23 November 2026), and --now moves it; never the machine's."""
    cli("db", "upgrade")
    cli("institutions", "add", "MOJ", "Ministry of Justice")
    cli("focal-points", "add", "--name", "Ana Pérez", "--institution", "MOJ", "--role", "technical", "--email", "ana@justicia.example")
    cli("--now", "2030-06-15T10:00+00:00", "focal-points", "add", "--name", "Bruno Silva", "--institution", "MOJ", "--role", "senior", "--email", "bruno@justicia.example")
    out, _ = cli("focal-points", "list", "--format", "json", "--all")
    starts = {row["name"]: row["active_from"] for row in json.loads(out)}
    assert starts == {"Ana Pérez": "2026-11-23", "Bruno Silva": "2030-06-15"}
    # A date the clock has passed is refused, one it has not is taken; Bruno,
    # whose term begins in 2030, is not asked yet.
    _, err = cli("--now", "2027-01-02", "requests", "send", "--text", "x", "--due", "2027-01-01", expect=1)
    assert "in the past" in err
    out, _ = cli("requests", "send", "--text", "x", "--due", "2026-11-24")
    assert out.startswith("request 1 to 1 focal point: ")


def test_now_must_be_a_moment(cli: Cli) -> None:
    _, err = cli("--now", "next tuesday", "db", "status", expect=2)
    assert "--now" in err


def test_csv_listings_never_hold_a_formula_a_spreadsheet_would_run(cli: Cli) -> None:
    """Names and answers come from people: in a CSV listing, a cell that a
    spreadsheet would start a formula at, after any separator it may split on,
    becomes text."""
    cli("db", "upgrade")
    cli("institutions", "add", "MOJ", "x;=1+1")
    cli("institutions", "add", "MOW", "=HYPERLINK(\"http://evil.example\",\"x\")")
    cli("institutions", "add", "MOE", "Ministry of Education, -2 offices")
    out, _ = cli("institutions", "list", "--format", "csv")
    names = {row["code"]: row["name"] for row in csv.DictReader(io.StringIO(out))}
    assert names == {"MOJ": "x;'=1+1", "MOW": "'=HYPERLINK(\"http://evil.example\",\"x\")", "MOE": "Ministry of Education, '-2 offices"}


@pytest.mark.parametrize(("args", "said"), [
    (("focal-points", "add", "--name", "X", "--institution", "MOJ", "--role", "boss"), "Invalid value for '--role'"),
    (("institutions", "list", "--no-such-option"), "No such option '--no-such-option'"),
    (("institutions", "add"), "Missing argument 'CODE'"),
    (("no-such-command",), "No such command 'no-such-command'"),
])
def test_a_usage_error_is_one_line_naming_the_help_to_read(empty_db: Cli, args: tuple[str, ...], said: str) -> None:
    """Click's own block (Usage, Try, a blank line, Error) becomes the one
    line every other failure is, with the command whose --help says more."""
    _, err = empty_db(*args, expect=2)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert said in err
    assert "--help" in err
