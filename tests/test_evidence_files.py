"""Evidence files kept by the bot (issue 13): a file sent in the dialogue is
downloaded from the platform, over real HTTP from the Telegram and Slack
stand-ins, into the store, named by its checksum; a failed download is
tried again, a file over the limit or gone for good is reported to the
person and kept listed, never dropped."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.evidence_fetch import EvidenceFetcher
from storage.enums import EvidenceFileState as State, Platform
from storage.models import EvidenceFile
from tests.chat_harness import ASSIGNED, LiveTelegram, TelegramPerson, live_telegram
from tests.fakes import FakeClock
from tests.slack_harness import ANA, SlackBot, slack_bot

MB = 1024 * 1024
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 300


@pytest.fixture
async def telegram(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[tuple[LiveTelegram, FakeClock]]:
    clock = FakeClock()
    async with live_telegram(sessions, clock, users=[111]) as live:
        yield live, clock


def fetcher(live: LiveTelegram | SlackBot, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, store: Path, limit: int = 20 * MB, **options: object) -> EvidenceFetcher:
    if isinstance(live, LiveTelegram):
        return EvidenceFetcher(sessions, live.router, clock, store, limit, {Platform.TELEGRAM: live.transport}, **options)  # type: ignore[arg-type]
    return EvidenceFetcher(sessions, live.transport, clock, store, limit, {Platform.SLACK: live.transport}, **options)  # type: ignore[arg-type]


async def kept(sessions: async_sessionmaker[AsyncSession]) -> list[EvidenceFile]:
    async with sessions() as session:
        return list((await session.scalars(select(EvidenceFile).order_by(EvidenceFile.id))).all())


async def send_on_telegram(live: LiveTelegram, name: str, data: bytes | None = None, size: int | None = None) -> str:
    """Ana gives an update with the file attached; the file's id on Telegram."""
    ana = TelegramPerson(live.standin, 111)
    await ana.starts_update(0, "partially implemented", ASSIGNED)
    before = len(ana.inbox)
    live.standin.user_sends_document(111, name, "application/pdf", size if size is not None else len(data or b""), "Law 19.580 adopted", data=data)
    (saved,) = (await live.standin.wait_for_messages(111, before + 1))[before:]
    assert name in saved.text, saved.text
    return live.standin.file_named(name).file_id


async def test_a_file_sent_on_telegram_is_downloaded_and_kept_by_its_checksum(
    telegram: tuple[LiveTelegram, FakeClock], sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:
    live, clock = telegram
    file_id = await send_on_telegram(live, "informe-2026.pdf", PDF)
    # Taken in with the update, before anything is downloaded.
    (row,) = await kept(sessions)
    assert (row.state, row.platform, row.platform_file_id, row.attempts) == (State.PENDING, Platform.TELEGRAM, file_id, 0)

    assert await fetcher(live, sessions, clock, tmp_path / "store").drain() == 1
    (row,) = await kept(sessions)
    digest = hashlib.sha256(PDF).hexdigest()
    assert (row.state, row.sha256, row.size_bytes, row.mime_type, row.attempts) == (State.STORED, digest, len(PDF), "application/pdf", 1)
    assert row.path == f"{digest[:2]}/{digest}.pdf"
    assert (tmp_path / "store" / row.path).read_bytes() == PDF
    # Nothing half-written is left behind.
    assert list((tmp_path / "store" / ".incoming").iterdir()) == []
    assert "getfile" in live.standin.calls and [status for _, status in live.standin.downloads] == [200]


async def test_a_failed_telegram_download_is_tried_again_then_kept(
    telegram: tuple[LiveTelegram, FakeClock], sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:
    live, clock = telegram
    file_id = await send_on_telegram(live, "annex.pdf", PDF)
    live.standin.fail_download(file_id, 2)
    fetch = fetcher(live, sessions, clock, tmp_path / "store")
    assert await fetch.drain() == 1
    (row,) = await kept(sessions)
    assert (row.state, row.attempts) == (State.PENDING, 1) and "502" in (row.last_error or "")
    # Not again before its wait is over.
    assert await fetch.drain() == 0
    clock.advance(minutes=1)
    assert await fetch.drain() == 1
    clock.advance(minutes=2)
    assert await fetch.drain() == 1
    (row,) = await kept(sessions)
    assert (row.state, row.attempts, row.sha256, row.last_error) == (State.STORED, 3, hashlib.sha256(PDF).hexdigest(), None)
    assert [status for _, status in live.standin.downloads] == [502, 502, 200]


async def test_a_telegram_file_gone_for_good_is_reported_to_the_sender_and_kept_listed(
    telegram: tuple[LiveTelegram, FakeClock], sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:
    live, clock = telegram
    file_id = await send_on_telegram(live, "lost.pdf", PDF)
    live.standin.forget_file(file_id)
    fetch = fetcher(live, sessions, clock, tmp_path / "store", max_attempts=2)
    before = len(live.standin.messages_to(111))
    await fetch.drain()
    clock.advance(minutes=1)
    await fetch.drain()
    (row,) = await kept(sessions)
    assert (row.state, row.attempts, row.path) == (State.FAILED, 2, None)
    assert "temporarily unavailable" in (row.last_error or "") and row.told_at is not None
    (told,) = (await live.standin.wait_for_messages(111, before + 1))[before:]
    assert "lost.pdf" in told.text and "could not be fetched" in told.text
    # Told once.
    clock.advance(hours=1)
    await fetch.drain()
    assert len(live.standin.messages_to(111)) == before + 1


async def test_a_file_telegram_will_not_give_a_bot_is_refused_and_the_sender_told(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], tmp_path: Path,
) -> None:
    from handlers.evidence import EvidenceSettings

    clock = FakeClock()
    # 25 MB: over the 20 MB Telegram gives a bot, though within a limit set higher.
    async with live_telegram(sessions, clock, users=[111], engine_options={"evidence": EvidenceSettings(50 * MB)}) as live:
        await send_on_telegram(live, "huge.pdf", size=25 * MB)
        before = len(live.standin.messages_to(111))
        await fetcher(live, sessions, clock, tmp_path / "store", limit=50 * MB).drain()
        (row,) = await kept(sessions)
        assert row.state is State.REFUSED and "file is too big" in (row.last_error or "").lower()
        (told,) = (await live.standin.wait_for_messages(111, before + 1))[before:]
        assert "huge.pdf" in told.text and "20 MB" in told.text
        assert live.standin.downloads == []


@pytest.fixture
async def slack(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    bot = await slack_bot(sessions, "socket")
    yield bot
    await bot.stop()
    await bot.standin.stop()


async def send_on_slack(bot: SlackBot, name: str, data: bytes) -> str:
    """Ana saves an update, then adds the file to it as evidence; the file's id on Slack."""
    from tests.chat_harness import SlackPerson

    ana = SlackPerson(bot.standin, ANA)
    (saved,) = await ana.fills_form("Give an update", {"status": "partially_implemented", "done": "Law 19.580 adopted"},
                                    on=(await ana.says("mine", expect=1 + ASSIGNED))[1])
    assert "Add evidence" in saved.buttons, saved.shown
    await ana.clicks("Add evidence", on=saved)
    before = len(ana.inbox)
    bot.standin.user_uploads(ANA, name, "application/pdf", len(data), data=data)
    await bot.standin.wait_for_messages(ANA, before + 1)
    (done,) = await ana.clicks("Done")
    assert name in done.shown
    return bot.standin.file_named(name)["id"]


async def test_a_file_shared_on_slack_is_fetched_with_the_bot_token_and_kept(
    slack: SlackBot, sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:
    file_id = await send_on_slack(slack, "informe.pdf", PDF)
    slack.standin.fail_download(file_id, 1)
    fetch = fetcher(slack, sessions, slack.clock, tmp_path / "store")
    await fetch.drain()
    (row,) = await kept(sessions)
    assert (row.state, row.platform, row.attempts) == (State.PENDING, Platform.SLACK, 1) and "503" in (row.last_error or "")
    slack.clock.advance(minutes=1)
    await fetch.drain()
    (row,) = await kept(sessions)
    digest = hashlib.sha256(PDF).hexdigest()
    assert (row.state, row.sha256, row.size_bytes, row.mime_type) == (State.STORED, digest, len(PDF), "application/pdf")
    assert (tmp_path / "store" / row.path).read_bytes() == PDF  # type: ignore[operator]
    assert slack.standin.file_downloads == [(file_id, 503, True), (file_id, 200, True)]
    assert "files.info" in slack.standin.calls


async def test_slack_gives_its_sign_in_page_without_the_bot_token(slack: SlackBot) -> None:
    import aiohttp

    slack.standin.user_uploads(ANA, "x.pdf", "application/pdf", 10)
    url = slack.standin.file_named("x.pdf")["url_private"]
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as answer:
            assert answer.status == 200 and answer.content_type == "text/html" and "Sign in" in await answer.text()
        async with http.get(url, headers={"Authorization": f"Bearer {slack.standin.bot_token}"}) as answer:
            assert answer.content_type == "application/pdf" and len(await answer.read()) == 10


async def test_a_slack_file_deleted_before_it_was_fetched_is_failed_and_reported(
    slack: SlackBot, sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:
    file_id = await send_on_slack(slack, "deleted.pdf", PDF)
    slack.standin.delete_file(file_id)
    before = len(slack.standin.messages_to(ANA))
    await fetcher(slack, sessions, slack.clock, tmp_path / "store").drain()
    (row,) = await kept(sessions)
    assert (row.state, row.attempts) == (State.FAILED, 1) and "file_not_found" in (row.last_error or "")
    (told,) = (await slack.standin.wait_for_messages(ANA, before + 1))[before:]
    assert "deleted.pdf" in told.shown


async def test_a_slack_file_over_the_limit_is_refused_without_being_downloaded(
    slack: SlackBot, sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:
    await send_on_slack(slack, "big.pdf", PDF)
    before = len(slack.standin.messages_to(ANA))
    await fetcher(slack, sessions, slack.clock, tmp_path / "store", limit=1000).drain()
    (row,) = await kept(sessions)
    assert row.state is State.REFUSED
    assert slack.standin.file_downloads == []
    (told,) = (await slack.standin.wait_for_messages(ANA, before + 1))[before:]
    assert "big.pdf" in told.shown


def test_the_store_is_beside_a_sqlite_database_unless_set() -> None:
    from bot.config import Config

    assert Config.model_validate({"database": {"url": "sqlite:////var/lib/nmrf/nmrf.db"}}).evidence.store_path(
        "sqlite:////var/lib/nmrf/nmrf.db") == Path("/var/lib/nmrf/nmrf-evidence")
    config = Config.model_validate({"evidence": {"store": "/srv/evidence", "max_file_mb": 5}})
    assert config.evidence.store_path("postgresql://u@h/db") == Path("/srv/evidence")
    assert config.evidence.max_file_bytes == 5 * MB
    assert Config().evidence.store_path("postgresql://u@h/db") == Path("nmrf-evidence")
    assert Config().evidence.max_file_mb == 20


def test_a_file_over_the_limit_is_refused_at_receipt_and_the_others_kept() -> None:
    from handlers.chat_port import ChatAddress, IncomingMessage, ReceivedFile
    from handlers.evidence import EvidenceSettings, refuse_too_large, too_large
    from handlers.turn import Turn
    from storage.conversations import State
    from storage.models import FocalPoint

    small = ReceivedFile("informe.pdf", "application/pdf", 3 * MB, "f1")
    big = ReceivedFile("video.mp4", "video/mp4", 21 * MB, "f2")
    unknown = ReceivedFile("scan.pdf", None, None, "f3")
    assert too_large([small, big, unknown], 20 * MB) == [big]
    message = IncomingMessage(ChatAddress(Platform.TELEGRAM, "111", "111"), "1", files=(small, big, unknown))
    for language, words in (("en", "over 20 MB"), ("fr", "plus de 20 Mo"), ("es", "más de 20 MB")):
        turn = Turn(message, None, State(), FakeClock()(), focal_point=FocalPoint(language=language, timezone="UTC"),  # type: ignore[arg-type]
                    evidence=EvidenceSettings(20 * MB))
        assert refuse_too_large(turn) == [small, unknown]
        (said,) = turn.replies
        assert said.key == "evidence.too_large" and "video.mp4" in said.text and words in said.text
    turn = Turn(message, None, State(), FakeClock()(), focal_point=FocalPoint(language="en", timezone="UTC"),  # type: ignore[arg-type]
                evidence=EvidenceSettings(50 * MB))
    assert refuse_too_large(turn) == [small, big, unknown] and turn.replies == []


async def test_the_secretariat_gets_a_recommendations_files_back_with_evidence_n(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], tmp_path: Path,
) -> None:
    from handlers.evidence import EvidenceSettings
    from storage.secretariat import SecretariatUserData, seed_secretariat_users

    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [
            SecretariatUserData("María González", "maria@cancilleria.example", "en", "America/Montevideo", telegram_user_id=900),
        ])
    clock = FakeClock()
    store = tmp_path / "store"
    async with live_telegram(sessions, clock, users=[111, 900], engine_options={"evidence": EvidenceSettings(20 * MB, store)}) as live:
        await send_on_telegram(live, "informe-2026.pdf", PDF)
        lost = await send_on_telegram(live, "lost.pdf", PDF[:100])
        live.standin.forget_file(lost)
        fetch = fetcher(live, sessions, clock, store, max_attempts=1)
        await fetch.drain()
        before = len(live.standin.messages_to(900))
        live.standin.user_sends(900, f"/evidence {world['mine']}")
        replies = (await live.standin.wait_for_messages(900, before + 2))[before:]
        document = next(m for m in replies if m.document is not None)
        assert document.document["data"] == PDF and document.document["file_name"] == "informe-2026.pdf"  # type: ignore[index]
        assert "Ana Pérez" in document.text
        (missing,) = [m for m in replies if m.document is None]
        assert "lost.pdf" in missing.text and "not kept" in missing.text
        # A focal point cannot.
        before = len(live.standin.messages_to(111))
        live.standin.user_sends(111, f"/evidence {world['mine']}")
        (refused,) = (await live.standin.wait_for_messages(111, before + 1))[before:]
        assert refused.document is None


async def test_the_export_gives_the_stored_paths_and_the_zip_bundles_the_files(
    telegram: tuple[LiveTelegram, FakeClock], sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio
    import csv
    import io
    import json
    import zipfile

    from bot.cli import main
    from bot.config import EvidenceConfig

    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    store = EvidenceConfig().store_path(db_url)
    live, clock = telegram
    await send_on_telegram(live, "informe-2026.pdf", PDF)
    lost = await send_on_telegram(live, "lost.pdf", PDF[:50])
    live.standin.forget_file(lost)
    await fetcher(live, sessions, clock, store, max_attempts=1).drain()
    digest = hashlib.sha256(PDF).hexdigest()

    def cli(*args: str) -> str:
        out = io.StringIO()
        with monkeypatch.context() as m:
            m.setattr("sys.stdout", out)
            try:
                main(list(args), clock=FakeClock())
            except SystemExit as exc:
                assert not exc.code, exc.code
        return out.getvalue()

    await asyncio.to_thread(cli, "report", "export", "--format", "json", "--out", str(tmp_path / "export.json"))
    rows = {row["id"]: row for row in json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))}
    # The status comes from the latest update, which carries lost.pdf.
    (lost_row,) = rows[world["mine"]]["evidence_files"]
    assert (lost_row["name"], lost_row["state"], lost_row["path"]) == ("lost.pdf", "failed", None)
    await asyncio.to_thread(cli, "report", "export", "--format", "csv", "--out", str(tmp_path / "export.csv"))
    (mine,) = [r for r in csv.DictReader(io.StringIO((tmp_path / "export.csv").read_text(encoding="utf-8"))) if r["id"] == str(world["mine"])]
    assert mine["evidence_files"] == "lost.pdf: failed"

    said = await asyncio.to_thread(cli, "report", "evidence", "--out", str(tmp_path / "evidence.zip"))
    assert "1 of 2 files" in said
    with zipfile.ZipFile(tmp_path / "evidence.zip") as bundle:
        names = bundle.namelist()
        assert f"{world['mine']}/2026-11-23_informe-2026.pdf" in names
        assert hashlib.sha256(bundle.read(f"{world['mine']}/2026-11-23_informe-2026.pdf")).hexdigest() == digest
        manifest = list(csv.DictReader(io.StringIO(bundle.read("manifest.csv").decode("utf-8"))))
    assert [(m["file_name"], m["state"], m["sha256"]) for m in manifest] == [("informe-2026.pdf", "stored", digest), ("lost.pdf", "failed", "")]
    assert manifest[0]["sent_by"] == "Ana Pérez" and "temporarily unavailable" in manifest[1]["note"]
    # Filtered like the other reports: no file of another mechanism.
    await asyncio.to_thread(cli, "report", "evidence", "--mechanism", "CEDAW", "--out", str(tmp_path / "none.zip"))
    with zipfile.ZipFile(tmp_path / "none.zip") as bundle:
        assert bundle.namelist() == ["manifest.csv"]


async def test_the_download_loop_is_supervised_and_on_healthz(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    from bot.app import BotApp
    from bot.config import Config
    from tests.chat_harness import TELEGRAM_TOKEN

    app = BotApp(Config.model_validate({"telegram": {"token": TELEGRAM_TOKEN}, "evidence": {"store": str(tmp_path / "kept"), "max_file_mb": 7}}), sessions)
    assert app.evidence.store == tmp_path / "kept" and app.evidence.limit_bytes == 7 * MB
    assert app.engine.evidence.limit_bytes == 7 * MB and app.engine.evidence.store == tmp_path / "kept"
    assert (await app.health())["loops"]["evidence"] == {"ok": False, "state": "not running"}
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(app.evidence.run_forever(stop, idle=0.01, health=app.loops.loops["evidence"]))
    await asyncio.sleep(0.1)
    assert (await app.health())["loops"]["evidence"] == {"ok": True, "state": "ok"}
    stop.set()
    await task
