"""Imports in chat (issue 14): a coordinator sends a UHRI export, a UPR Info
CSV or the template; the bot previews what it would create or change, or
lists every bad row, and only the Import button writes, all or nothing,
with the CLI's importer. The file waits on disk between the two, and is
gone once imported or cancelled. Through the fake gateway, and through the
Telegram and Slack stand-ins with the files downloaded over real HTTP."""

from __future__ import annotations

import asyncio
import io
import os
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.file_fetch import PlatformFileFetcher
from bot.standins.people import SlackPerson, TelegramPerson
from bot.standins.slack import SlackStandIn
from bot.gateway import PlatformRouter
from bot.transports.slack import SlackTransport
from handlers.chat_imports import ImportSettings
from handlers.chat_port import ChatAddress, FetchFailed, IncomingMessage, OutgoingMessage, ReceivedFile
from handlers.engine import ConversationEngine
from handlers.turn import SecretariatTurn
from storage.enums import ImportSource, Platform, SecretariatRole
from storage.import_staging import ImportStaging
from storage.importers.detect import detect_source
from storage.importers.limits import ImportLimits
from storage.importers.run import import_file
from storage.models import AuditEntry, ImportRun, Institution, Recommendation
from storage.conversations import State, load_state, save_state
from storage.secretariat import SecretariatUserData, add_secretariat_user, edit_secretariat_user
from tests.chat_harness import live_telegram
from tests.dialogue_harness import clock, gateway
from tests.factories import cedaw_row, network_sheets, uhri_row, write_uhri_xlsx, write_workbook
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["clock", "gateway"]

FIXTURES = Path(__file__).parent / "fixtures"
colin, vera = Person("901"), Person("902")
BAD_INSTITUTIONS = b"code,name,kind\nNEW,Ministry of Health,ministry\nX1,Space Agency,spaceship\nMOJ,,ministry\n"


class FakeFetcher:
    """The platform's download, from bytes the test gives per file id."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.calls: list[str] = []
        self.fail: Exception | None = None
        # Set: each download waits for it (a slow platform).
        self.gate: asyncio.Event | None = None

    async def fetch(self, address: ChatAddress, received: ReceivedFile, into: str, max_bytes: int) -> int:
        self.calls.append(received.platform_file_id)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        data = self.files[received.platform_file_id]
        if len(data) > max_bytes:
            raise FetchFailed(f"more than {max_bytes} bytes", too_large=True)
        Path(into).write_bytes(data)
        return len(data)


@pytest.fixture
def fetcher() -> FakeFetcher:
    return FakeFetcher()


@pytest.fixture
def staging(tmp_path: Path) -> ImportStaging:
    return ImportStaging(tmp_path / "imports")


def settings(fetcher: object, staging: ImportStaging, **options: object) -> ImportSettings:
    return ImportSettings(fetcher, staging, default_timezone="America/Montevideo", **options)  # type: ignore[arg-type]


@pytest.fixture
def bot(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, fetcher: FakeFetcher, staging: ImportStaging) -> ConversationEngine:
    return ConversationEngine(sessions, gateway, clock, imports=settings(fetcher, staging))


@pytest.fixture
async def users(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> dict[str, int]:
    """Colin, a coordinator, and Vera, a viewer, on Telegram."""
    async with sessions() as session, session.begin():
        c = await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "UTC", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        v = await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "en", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))
    return {"colin": c.id, "vera": v.id}


def sends(person: Person, fetcher: FakeFetcher, name: str, data: bytes, mime: str = "text/csv") -> IncomingMessage:
    message = person.sends_file(name, mime, len(data))
    fetcher.files[message.files[0].platform_file_id] = data
    return message


async def counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Recommendation, Institution, ImportRun, AuditEntry)
        }


def staged(staging: ImportStaging) -> list[str]:
    return sorted(p.name for p in staging.directory.iterdir() if p.is_file()) if staging.directory.is_dir() else []


def texts(gateway: FakeGateway) -> list[str]:
    return [m.text for m in gateway.take()]


PROGRESS = ("imports.reading", "imports.applying")


async def handled(engine: ConversationEngine, gateway: FakeGateway, message: IncomingMessage) -> list[OutgoingMessage]:
    """What the bot said to ``message`` once its background work is done,
    without the notes that say the work has begun."""
    await engine.handle(message)
    await engine.drain()
    return [m for m in gateway.take() if m.key not in PROGRESS]


async def talk(engine: ConversationEngine, gateway: FakeGateway, *messages: object) -> list[str]:
    """``chat``, each message's background work done before the next: the keys said, without the notes."""
    keys: list[str] = []
    for message in messages:
        if callable(message):
            message = message(gateway)
        keys += [m.key for m in await handled(engine, gateway, message)]  # type: ignore[arg-type]
    return keys


async def test_a_uhri_export_is_previewed_and_written_only_by_the_import_button_even_after_a_restart(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, fetcher: FakeFetcher,
    staging: ImportStaging, bot: ConversationEngine, users: dict[str, int], tmp_path: Path,
) -> None:
    export = write_uhri_xlsx(tmp_path / "export.xlsx", [uhri_row(), cedaw_row()]).read_bytes()
    before = await counts(sessions)
    [preview] = await handled(bot, gateway, sends(colin, fetcher, "UHRI export.xlsx", export, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    assert preview.key == "imports.preview"
    assert "Preview of UHRI export.xlsx (UHRI export)" in preview.text
    assert "Recommendations: 2 rows: 2 to create, 0 to change, 0 unchanged" in preview.text
    assert [b.label for row in preview.buttons for b in row] == ["Import", "Cancel"]
    # Nothing written, not even the import run or its audit; the file waits on disk.
    assert await counts(sessions) == before
    [key] = staged(staging)
    assert key.startswith(f"{users['colin']}-") and key.endswith(".xlsx")
    # The bot restarts between the preview and the button.
    again = ConversationEngine(sessions, gateway, clock, imports=settings(fetcher, staging))
    [done] = await handled(again, gateway, colin.presses(gateway.action("Import", "901")))
    assert done.key == "imports.done"
    assert "Imported UHRI export.xlsx (UHRI export)" in done.text and "2 rows: 2 created, 0 changed, 0 unchanged" in done.text
    assert "changed since the preview" not in done.text
    after = await counts(sessions)
    assert after["recommendations"] == before["recommendations"] + 2 and after["import_runs"] == before["import_runs"] + 1
    async with sessions() as session:
        run = await session.scalar(select(ImportRun).order_by(ImportRun.id.desc()).limit(1))
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "import").order_by(AuditEntry.id.desc()).limit(1))
    assert run is not None and (run.source, run.file_name, run.created) == (ImportSource.UHRI, "UHRI export.xlsx", 2)
    # The audit names the coordinator who pressed Import.
    assert run.actor == f"secretariat:{users['colin']}"
    assert entry is not None and entry.actor == f"secretariat:{users['colin']}" and entry.changes["file"] == "UHRI export.xlsx"
    assert staged(staging) == []
    # A second press of the same button finds the dialogue over, and imports nothing.
    assert await talk(again, gateway, colin.presses(gateway.action("Import", "901"))) == ["stale.closed"]
    assert (await counts(sessions))["recommendations"] == after["recommendations"]


async def test_a_template_with_bad_rows_lists_each_row_and_column_and_keeps_nothing(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging,
    bot: ConversationEngine, users: dict[str, int],
) -> None:
    before = await counts(sessions)
    [rejected] = await handled(bot, gateway, sends(colin, fetcher, "institutions.csv", BAD_INSTITUTIONS))
    assert rejected.key == "imports.rejected" and not rejected.buttons
    lines = rejected.text.splitlines()
    assert lines[0] == "institutions.csv has 2 bad rows, so nothing was imported:"
    assert lines[1].startswith("row 3, column kind: ") and "spaceship" in lines[1]
    assert lines[2].startswith("row 4, column name: ")
    assert lines[-1] == "Correct the file and send it again. Nothing was kept."
    # The good row before them was not kept either: all or nothing.
    assert await counts(sessions) == before
    assert staged(staging) == []


async def test_cancel_keeps_nothing_and_removes_the_file(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging,
    bot: ConversationEngine, users: dict[str, int], tmp_path: Path,
) -> None:
    workbook = write_workbook(tmp_path / "network.xlsx", network_sheets()).read_bytes()
    before = await counts(sessions)
    [preview] = await handled(bot, gateway, sends(colin, fetcher, "network.xlsx", workbook))
    assert preview.key == "imports.preview" and "(nmrf-bot template)" in preview.text
    # The world has MOJ as it is here and MOW under a shorter name.
    assert "Institutions: 3 rows: 1 to create, 1 to change, 1 unchanged" in preview.text, preview.text
    assert "Assignments: 4 rows: 4 to create" in preview.text
    # Typed words while the preview waits get the reminder, not the help.
    assert await talk(bot, gateway, colin.says("yes please")) == ["imports.press"]
    assert len(staged(staging)) == 1
    assert [m.text for m in await handled(bot, gateway, colin.presses(gateway.action("Cancel", "901")))] == ["Cancelled: nothing was imported from network.xlsx, and the file is not kept."]
    assert staged(staging) == [] and await counts(sessions) == before


async def test_a_file_that_cannot_be_told_is_asked_about_with_buttons(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging,
    bot: ConversationEngine, users: dict[str, int],
) -> None:
    [which] = await handled(bot, gateway, sends(colin, fetcher, "list.csv", b"Recommendation,Country\nRatify OPCAT,Uruguay\n"))
    assert which.key == "imports.which" and "list.csv" in which.text
    assert [b.label for row in which.buttons for b in row] == ["UHRI export", "UPR Info export", "nmrf-bot template", "Cancel"]
    [rejected] = await handled(bot, gateway, colin.presses(gateway.action("UPR Info export", "901")))
    assert rejected.key == "imports.rejected"
    assert "row 1, column To: missing column: is this a UPR Info export?" in rejected.text
    assert staged(staging) == []


async def test_the_data_changed_since_the_preview_is_said(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging,
    bot: ConversationEngine, users: dict[str, int], tmp_path: Path,
) -> None:
    csv = b"code,name,kind\nMOH,Ministry of Health,ministry\n"
    [preview] = await handled(bot, gateway, sends(colin, fetcher, "health.csv", csv))
    assert "Institutions: 1 row: 1 to create, 0 to change, 0 unchanged" in preview.text
    # Meanwhile someone imports the same file on the command line.
    (tmp_path / "health.csv").write_bytes(csv)
    await import_file(sessions, ImportSource.TEMPLATE, tmp_path / "health.csv")
    [done] = await handled(bot, gateway, colin.presses(gateway.action("Import", "901")))
    assert "Institutions: 1 row: 0 created, 0 changed, 1 unchanged" in done.text
    assert "The data changed since the preview, so this differs from what it showed." in done.text


async def test_files_that_are_not_imports_are_refused_specifically_and_not_kept(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, fetcher: FakeFetcher,
    staging: ImportStaging, bot: ConversationEngine, users: dict[str, int],
) -> None:
    before = await counts(sessions)
    assert [m.text for m in await handled(bot, gateway, sends(colin, fetcher, "report.pdf", b"%PDF-1.7", "application/pdf"))] == ["report.pdf is not a file the bot imports: send a .xlsx or .csv file (a UHRI export, "
                              "a UPR Info export or the nmrf-bot template). Nothing was kept."]
    assert fetcher.calls == [], "refused by its name, before any download"
    big = colin.sends_file("huge.xlsx", "application/octet-stream", 51 * 1024 * 1024)
    [too_large] = [m.text for m in await handled(bot, gateway, big)]
    assert "huge.xlsx is over the 50 MB" in too_large and fetcher.calls == []
    # Not an .xlsx at all, whatever its name says.
    [unreadable] = [m.text for m in await handled(bot, gateway, sends(colin, fetcher, "fake.xlsx", b"this is not a zip file"))]
    assert unreadable.startswith("fake.xlsx cannot be imported: not a readable .xlsx file: ") and unreadable.endswith("zip file. Nothing was kept.")
    assert str(staging.directory) not in unreadable, "the staged path is not shown"
    # A zip bomb: refused from the archive's directory, before anything is inflated.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (3 << 20))
    tight = ConversationEngine(sessions, gateway, clock, imports=settings(fetcher, staging, limits=ImportLimits(max_unpacked_mb=1)))
    [refused] = [m.text for m in await handled(tight, gateway, sends(colin, fetcher, "bomb.xlsx", bomb.getvalue()))]
    assert refused == ("bomb.xlsx cannot be imported: unpacks to 3 MB, more than the limit of 1 MB ([imports] max_unpacked_mb). "
                       "Nothing was kept."), refused
    # Past the [imports] limits.
    small = ConversationEngine(sessions, gateway, clock, imports=settings(fetcher, staging, limits=ImportLimits(max_rows=3)))
    rows = b"code,name,kind\n" + b"".join(b"I%d,Institution %d,ministry\n" % (n, n) for n in range(5))
    [over] = await handled(small, gateway, sends(colin, fetcher, "many.csv", rows))
    assert over.text == "many.csv cannot be imported: row 4 is past the limit of 3 rows ([imports] max_rows). Nothing was kept."
    # The platform would not give the file.
    fetcher.fail = FetchFailed("url_private answered HTTP 503")
    assert [m.text for m in await handled(bot, gateway, sends(colin, fetcher, "later.csv", b"code,name,kind\n"))] == ["later.csv could not be downloaded from the chat platform. Nothing was kept: please send it again."]
    fetcher.fail = None
    two = IncomingMessage(colin.address, "two-files", files=(ReceivedFile("a.csv", "text/csv", 3, "a"), ReceivedFile("b.csv", "text/csv", 3, "b")))
    assert await talk(bot, gateway, two) == ["imports.one_file"]
    assert await counts(sessions) == before
    assert staged(staging) == [] and list((staging.directory / ".incoming").iterdir()) == []


async def test_a_viewer_who_sends_a_file_is_refused_naming_the_role(
    gateway: FakeGateway, fetcher: FakeFetcher, bot: ConversationEngine, users: dict[str, int],
) -> None:
    [refusal] = await handled(bot, gateway, sends(vera, fetcher, "institutions.csv", b"code,name,kind\nMOH,Ministry of Health,ministry\n"))
    assert refusal.key == "role.needed" and "coordinator role" in refusal.text and "yours is viewer" in refusal.text
    assert fetcher.calls == []
    # Nor can a viewer press a coordinator's Import button.
    assert await talk(bot, gateway, vera.presses("imp:go")) == ["role.needed"]


async def test_while_a_file_is_read_the_bot_answers_and_a_cancel_drops_it(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging,
    bot: ConversationEngine, users: dict[str, int],
) -> None:
    fetcher.gate = asyncio.Event()
    before = await counts(sessions)
    await bot.handle(sends(colin, fetcher, "health.csv", b"code,name,kind\nMOH,Ministry of Health,ministry\n"))
    assert [m.key for m in gateway.take()] == ["imports.reading"]
    # The download is slow: the bot answers meanwhile, without waiting for it.
    await bot.handle(colin.says("is it done?"))
    assert texts(gateway) == ["Still working on health.csv: its answer follows. Meanwhile the other commands work as usual."]
    await bot.handle(colin.says("/progress"))
    assert [m.key for m in gateway.take()] == ["secretariat.progress"]
    await bot.handle(colin.says("/cancel"))
    assert [m.key for m in gateway.take()] == ["update.cancelled"]
    fetcher.gate.set()
    await bot.drain()
    # The person moved on: the preview is not sent, and the file is not kept.
    assert gateway.take() == [] and staged(staging) == [] and await counts(sessions) == before


async def test_a_job_that_fails_says_so_and_ends_the_dialogue(
    gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging, bot: ConversationEngine, users: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fetcher.fail = RuntimeError("a bug in the download")
    [failed] = await handled(bot, gateway, sends(colin, fetcher, "health.csv", b"code,name,kind\n"))
    assert failed.text.startswith("health.csv could not be imported: the bot met an error")
    assert any("import of health.csv" in r.getMessage() for r in caplog.records)
    # The dialogue is over: typed words get the help again.
    assert await talk(bot, gateway, colin.says("hello")) == ["secretariat.help"]
    assert staged(staging) == []


async def test_a_job_waits_out_a_database_briefly_gone(
    gateway: FakeGateway, fetcher: FakeFetcher, bot: ConversationEngine, users: dict[str, int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from handlers import chat_imports

    once, calls = chat_imports._Job._once, []

    async def flaky(job: object, *args: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionResetError("the database went away")
        return await once(job, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(chat_imports._Job, "_once", flaky)
    [preview] = await handled(bot, gateway, sends(colin, fetcher, "health.csv", b"code,name,kind\nMOH,Ministry of Health,ministry\n"))
    assert preview.key == "imports.preview" and len(calls) == 2 and fetcher.calls == ["file-health.csv"]


async def test_an_import_whose_dialogue_moved_on_meanwhile_is_rolled_back_unsaid(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging,
    bot: ConversationEngine, users: dict[str, int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from handlers import chat_imports

    [preview] = await handled(bot, gateway, sends(colin, fetcher, "health.csv", b"code,name,kind\nMOH,Ministry of Health,ministry\n"))
    before = await counts(sessions)
    apply = chat_imports._apply

    async def cancelled_meanwhile(turn: SecretariatTurn, *args: object) -> None:
        await apply(turn, *args)  # type: ignore[arg-type]
        # The person's /cancel, committed while the import ran (PostgreSQL lets it).
        address = turn.message.address
        await save_state(turn.session, address.platform, address.workspace_id, address.user_id, State(), turn.now)

    monkeypatch.setattr(chat_imports, "_apply", cancelled_meanwhile)
    assert await talk(bot, gateway, colin.presses(gateway.action("Import", "901"))) == []
    assert await counts(sessions) == before, "the import was rolled back"
    assert staged(staging) == []


async def test_no_file_replaces_one_being_imported(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging,
    bot: ConversationEngine, users: dict[str, int],
) -> None:
    await handled(bot, gateway, sends(colin, fetcher, "health.csv", b"code,name,kind\nMOH,Ministry of Health,ministry\n"))
    # As while its import runs.
    async with sessions() as session, session.begin():
        state = await load_state(session, Platform.TELEGRAM, "", "901")
        await save_state(session, Platform.TELEGRAM, "", "901", State("import.applying", state.data), state.updated_at or FakeClock()())
    [wait] = await handled(bot, gateway, sends(colin, fetcher, "other.csv", b"code,name,kind\n"))
    assert wait.text.startswith("Still working on health.csv") and len(staged(staging)) == 1
    # Nor is a made-up payload a press of its buttons.
    assert await talk(bot, gateway, colin.presses("imp:no")) == ["secretariat.help"]
    assert len(staged(staging)) == 1


async def test_without_a_fetcher_files_are_refused_clearly(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock, users: dict[str, int],
) -> None:
    plain = ConversationEngine(sessions, gateway, clock)
    assert await talk(plain, gateway, colin.sends_file("x.csv", "text/csv", 10)) == ["imports.unavailable"]


async def test_a_preview_whose_file_is_gone_says_so(
    gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging, bot: ConversationEngine, users: dict[str, int],
) -> None:
    assert [m.key for m in await handled(bot, gateway, sends(colin, fetcher, "health.csv", b"code,name,kind\nMOH,Ministry of Health,ministry\n"))] == ["imports.preview"]
    for name in staged(staging):
        (staging.directory / name).unlink()
    assert await talk(bot, gateway, colin.presses(gateway.action("Import", "901"))) == ["imports.gone"]


async def test_the_sweep_removes_what_timed_out_dialogues_left(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, tmp_path: Path, clock: FakeClock,
) -> None:
    staging = ImportStaging(tmp_path / "imports")
    old, fresh = staging.incoming(), staging.incoming()
    old.write_bytes(b"code\n")
    fresh.write_bytes(b"name\n")
    old_key, fresh_key = staging.keep(old, 1, "a1b2c3", ".csv"), staging.keep(fresh, 1, "d4e5f6", ".csv")
    half = staging.incoming()
    half.write_bytes(b"half")
    moment = (clock() - timedelta(hours=3)).timestamp()
    for path in (staging.directory / old_key, half):
        os.utime(path, (moment, moment))
    os.utime(staging.directory / fresh_key, (clock().timestamp(), clock().timestamp()))
    # What the bot's periodic job runs.
    engine = ConversationEngine(sessions, gateway, clock, imports=settings(None, staging, keep_for=timedelta(hours=2)))
    assert await engine.sweep_imports() == 2
    assert staging.path(old_key) is None and staging.path(fresh_key) is not None and not half.exists()
    # A key that is not one of ours is never a path.
    assert staging.path("../../etc/passwd") is None


def test_the_importer_is_told_from_the_content(tmp_path: Path) -> None:
    write_uhri_xlsx(tmp_path / "a.xlsx", [uhri_row()], title_row="Universal Human Rights Index")
    write_workbook(tmp_path / "b.xlsx", network_sheets())
    (tmp_path / "c.csv").write_bytes((FIXTURES / "uprinfo_small.csv").read_bytes())
    (tmp_path / "d.csv").write_bytes(b"email,name,institution,role\n")
    (tmp_path / "e.csv").write_bytes(b"a,b\n1,2\n")
    assert [detect_source(tmp_path / n) for n in ("a.xlsx", "b.xlsx", "c.csv", "d.csv", "e.csv")] == [
        ImportSource.UHRI, ImportSource.TEMPLATE, ImportSource.UPRINFO, ImportSource.TEMPLATE, None,
    ]


async def test_through_the_telegram_stand_in_a_document_is_previewed_then_imported(
    sessions: async_sessionmaker[AsyncSession], users: dict[str, int], tmp_path: Path,
) -> None:
    clock = FakeClock()
    fetcher = PlatformFileFetcher({})
    staging = ImportStaging(tmp_path / "imports")
    async with live_telegram(sessions, clock, users=[901], engine_options={"imports": settings(fetcher, staging)}) as live:
        fetcher.downloaders[Platform.TELEGRAM] = live.transport
        person = TelegramPerson(live.standin, 901)
        before = await counts(sessions)
        data = (FIXTURES / "uprinfo_small.csv").read_bytes()
        live.standin.user_sends_document(901, "upr-info.csv", "text/csv", len(data), data=data)
        # The file is read after the turn, so Telegram's other updates are not held up meanwhile.
        reading, preview = await live.standin.wait_for_messages(901, 2)
        assert reading.text == "Reading upr-info.csv: the preview follows in a moment."
        assert "Preview of upr-info.csv (UPR Info export)" in preview.text
        # The world fixture imported this very file: each row is there already.
        assert "Recommendations: 6 rows: 0 to create, 0 to change, 6 unchanged" in preview.text
        assert await counts(sessions) == before
        importing, done = await person.presses("Import", on=preview, expect=2)
        assert importing.text.startswith("Importing upr-info.csv")
        assert "Imported upr-info.csv (UPR Info export)" in done.text
        after = await counts(sessions)
        assert after["import_runs"] == before["import_runs"] + 1 and after["recommendations"] == before["recommendations"]
        # A malformed file loses nothing and says the row.
        bad = b"code,name,kind\nMOH,Ministry of Health,ministry\nX1,Space Agency,spaceship\n"
        live.standin.user_sends_document(901, "bad.csv", "text/csv", len(bad), data=bad)
        [rejected] = (await live.standin.wait_for_messages(901, 6))[5:]
        # Under [imports] max_file_mb, but over what Telegram gives a bot: its limit is the one named.
        live.standin.user_sends_document(901, "whole-uhri.xlsx", "application/octet-stream", 25 * 1024 * 1024)
        [too_large] = (await live.standin.wait_for_messages(901, 8))[7:]
        assert too_large.text.startswith("whole-uhri.xlsx is over the 20 MB"), too_large.text
        await live.engine.drain()
        assert "bad.csv has 1 bad row" in rejected.text and "row 3, column kind" in rejected.text
        assert await counts(sessions) == after
    assert staged(staging) == []


async def test_through_the_slack_stand_in_a_shared_file_is_downloaded_previewed_then_imported(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, users: dict[str, int], tmp_path: Path,
) -> None:
    async with sessions() as session, session.begin():
        await edit_secretariat_user(session, "colin@mfa.example", slack_user_id="U0COLIN")
    standin = SlackStandIn()
    await standin.start()
    standin.add_user("U0COLIN", "colin", "colin@mfa.example")
    router = PlatformRouter()
    fetcher = PlatformFileFetcher({})
    staging = ImportStaging(tmp_path / "imports")
    engine = ConversationEngine(sessions, router, clock, imports=settings(fetcher, staging))
    transport = SlackTransport(standin.bot_token, engine.handle, app_token=standin.app_token, api_url=standin.api_url, mode="socket")
    fetcher.downloaders[Platform.SLACK] = transport
    router.register(transport)
    await transport.start()
    try:
        await standin.wait_for_socket()
        person = SlackPerson(standin, "U0COLIN")
        # The first message links the account to the workspace (an audited change of its own).
        (help_,) = await person.says("import")
        assert "Send the file here as a document" in help_.shown
        before = await counts(sessions)
        data = write_uhri_xlsx(tmp_path / "export.xlsx", [uhri_row(), cedaw_row()]).read_bytes()
        standin.user_uploads("U0COLIN", "export.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", len(data), data=data)
        reading, preview = (await standin.wait_for_messages("U0COLIN", 3))[1:]
        assert reading.shown.startswith("Reading export.xlsx")
        assert "Recommendations: 2 rows: 2 to create" in preview.shown and "Import" in preview.buttons
        assert await counts(sessions) == before
        file_id = standin.file_named("export.xlsx")["id"]
        assert any(f == file_id and status == 200 for f, status, _ in standin.file_downloads)
        _, done = await person.clicks("Import", on=preview, expect=2)
        assert "Imported export.xlsx (UHRI export)" in done.shown
        assert (await counts(sessions))["recommendations"] == before["recommendations"] + 2
        await engine.drain()
    finally:
        await transport.stop()
        await standin.stop()
    assert staged(staging) == []



def test_the_bot_gives_the_engine_the_platforms_downloads_and_the_staging_folder(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:
    from bot.app import BotApp
    from bot.config import Config
    from tests.chat_harness import TELEGRAM_TOKEN

    config = Config.model_validate({
        "database": {"url": f"sqlite:///{tmp_path / 'nmrf.db'}"},
        "telegram": {"token": TELEGRAM_TOKEN}, "imports": {"max_file_mb": 5},
    })
    app = BotApp(config, sessions)
    imports = app.engine.imports
    assert imports is not None and isinstance(imports.fetcher, PlatformFileFetcher)
    assert imports.fetcher.downloaders == {Platform.TELEGRAM: app.telegram}
    assert imports.staging.directory == tmp_path / "nmrf-evidence-imports"
    assert imports.max_file_bytes == 5 * 1024 * 1024 and imports.keep_for == timedelta(minutes=60)


async def test_a_typed_cancel_a_long_name_and_a_demotion_before_the_job_keep_nothing(
    sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, fetcher: FakeFetcher, staging: ImportStaging,
    bot: ConversationEngine, users: dict[str, int], tmp_path: Path,
) -> None:
    from storage.enums import SecretariatRole
    from storage.secretariat import edit_secretariat_user

    workbook = write_workbook(tmp_path / "network.xlsx", network_sheets()).read_bytes()
    before = await counts(sessions)
    # A name longer than what is shown keeps its type.
    long_name = "Network of the ministries " + "x" * 130 + ".xlsx"
    [preview] = await handled(bot, gateway, sends(colin, fetcher, long_name, workbook))
    assert preview.key == "imports.preview"
    assert len(staged(staging)) == 1
    # Typed /cancel, not the button: the staged file goes with the dialogue.
    assert await talk(bot, gateway, colin.says("/cancel")) == ["update.cancelled"]
    assert staged(staging) == []
    # Colin previews again, presses Import, and is made a viewer before the import runs.
    [preview] = await handled(bot, gateway, sends(colin, fetcher, "network.xlsx", workbook))
    press = colin.presses(gateway.action("Import", "901"))
    async with sessions() as session, session.begin():
        await edit_secretariat_user(session, "colin@mfa.example", role=SecretariatRole.VIEWER)
    demoted = await counts(sessions)
    said = await handled(bot, gateway, press)
    assert [m.key for m in said] == ["role.needed"], [m.key for m in said]
    # Nothing imported; only the demotion itself was audited.
    assert await counts(sessions) == demoted and demoted["audit_log"] == before["audit_log"] + 1
