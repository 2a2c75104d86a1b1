"""The secretariat in chat: composing a request and following it up, and
compiled reports sent back as files; focal points cannot do either. The
dialogue runs on the fake gateway; the files go through the real
python-telegram-bot and slack_sdk clients to the stand-ins."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import ChatAddress, FileTooLarge, IncomingMessage, OutgoingMessage
from bot.gateway import PlatformRouter
from bot.reports.build import ReportBuilder
from bot.standins.slack import SlackStandIn
from bot.standins.telegram import TelegramStandIn
from bot.transports.slack import SlackTransport
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.reminders.service import ReminderService
from handlers.report_orders import ReportFile, ReportOrder
from storage.conversations import link_identity
from storage.enums import FocalPointRole, Platform
from storage.models import InformationRequest, OutboxMessage, Recommendation, RequestRecipient, Review, SecretariatUser
from storage.enums import InstitutionKind
from storage.network import FocalPointData, InstitutionData, add_focal_point, add_institution
from storage.requests import record_answer
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from tests.chat_harness import live_telegram
from tests.fakes import FakeClock, FakeGateway, Person

ana = Person("111")
maria = Person("900")


@pytest.fixture
def clock() -> FakeClock:
    # Monday 23 November 2026, 13:00 UTC: working hours in Montevideo.
    return FakeClock(datetime(2026, 11, 23, 13, tzinfo=timezone.utc))


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> dict[str, int]:
    """María runs the secretariat in Spanish; Claire answers for the Ministry of Women."""
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [
            SecretariatUserData("María González", "maria@cancilleria.example", "es", "America/Montevideo", telegram_user_id=900, slack_user_id="U0MARIA"),
        ])
        maria_id = await session.scalar(select(SecretariatUser.id))
        claire = await add_focal_point(session, FocalPointData("Claire Martin", "MOW", FocalPointRole.TECHNICAL, "fr", "Europe/Paris", date(2025, 1, 1), "claire@femmes.example"))
        await link_identity(session, claire.id, Platform.TELEGRAM, "", "222", "222")
    return {"maria": maria_id, "claire": claire.id}


@pytest.fixture
def bot(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock) -> ConversationEngine:
    return ConversationEngine(sessions, gateway, clock, reports=ReportBuilder(sessions, clock))


async def say(engine: ConversationEngine, gateway: FakeGateway, *messages: object) -> list[OutgoingMessage]:
    for message in messages:
        await engine.handle(message)  # type: ignore[arg-type]
    return gateway.take()


def taps(gateway: FakeGateway, action: str) -> IncomingMessage:
    """María presses the button sent to her last whose action is ``action``
    (a dialogue's button also names its step: ``due:7|c.w.…``)."""
    for address, message in reversed(gateway.history):
        for button in (b for row in message.buttons for b in row):
            if address.user_id == maria.user_id and button.action.partition("|")[0] == action:
                return maria.presses(button.action)
    raise AssertionError(f"no button {action!r} was sent to María")


async def count(sessions: async_sessionmaker[AsyncSession], what: object) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(what)))  # type: ignore[arg-type]


async def test_a_request_is_composed_step_by_step_checked_and_sent_once(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], secretariat: dict[str, int]
) -> None:
    (ask,) = await say(bot, gateway, maria.says("/request"))
    assert ask.key == "compose.ask_text" and ask.asks_for_text and ask.text.startswith("¿Qué quiere preguntar")
    (due,) = await say(bot, gateway, maria.says("¿Qué se hizo en 2026 para aplicar la ley de acceso a la justicia?"))
    assert due.key == "compose.ask_due" and [b.action.partition("|")[0] for b in due.buttons[0]] == ["due:7", "due:14", "due:28"]
    # A date in the past, and words that are no date, are refused with the example.
    for typed in ("2026-11-20", "next week"):
        (bad,) = await say(bot, gateway, maria.says(typed))
        assert bad.key == "compose.bad_date" and "2027-03-31" in bad.text
    (target,) = await say(bot, gateway, taps(gateway, "due:14"))
    assert target.key == "compose.ask_target"
    assert [b.action.partition("|")[0] for row in target.buttons for b in row] == [
        "to:all", "to:institutions", "to:cluster", "to:theme", "to:mechanism", "to:recommendations", "cancel",
    ]
    (which,) = await say(bot, gateway, taps(gateway, "to:institutions"))
    assert which.key == "compose.ask_institutions"
    (unknown,) = await say(bot, gateway, maria.says("MOJ, XYZ"))
    assert unknown.key == "compose.bad_target" and "XYZ" in unknown.text
    (confirm,) = await say(bot, gateway, maria.says("moj, mow"))
    assert confirm.key == "compose.confirm"
    assert "2 puntos focales de 2 instituciones" in confirm.text and "7 de diciembre de 2026" in confirm.text
    assert "ley de acceso a la justicia" in confirm.text
    # Nothing is written before the secretariat confirms.
    assert await count(sessions, InformationRequest) == 0
    send = taps(gateway, "bc:send")
    (sent,) = await say(bot, gateway, send)
    assert sent.key == "compose.sent" and "n.º 1" in sent.text and "2 puntos focales" in sent.text
    # A second press of the same button sends nothing more.
    assert [m.key for m in await say(bot, gateway, maria.presses(send.action))] == ["compose.stale"]  # type: ignore[arg-type]
    async with sessions() as session:
        request = (await session.scalars(select(InformationRequest))).one()
        recipients = (await session.scalars(select(RequestRecipient))).all()
        queued = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert request.secretariat_user_id == secretariat["maria"] and request.due_on == date(2026, 12, 7)
    assert request.created_by == f"secretariat:{secretariat['maria']}" and request.target == {"kind": "institutions", "values": ["moj", "mow"]}
    assert sorted(r.focal_point_id for r in recipients) == sorted([secretariat["claire"], 1])
    # Each in their own language, through the outbox.
    frames = {q.platform_user_id: q.message["text"] for q in queued}
    assert frames["111"].startswith("The NMRF secretariat asks Ministry of Justice") and frames["222"].startswith("Le secrétariat")


async def test_cancelling_a_request_keeps_nothing_and_a_target_nobody_answers_for_is_refused(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], secretariat: dict[str, int]
) -> None:
    await say(bot, gateway, maria.says("/request"), maria.says("Pregunta"))
    await say(bot, gateway, taps(gateway, "due:7"))
    await say(bot, gateway, taps(gateway, "to:recommendations"))
    (bad,) = await say(bot, gateway, maria.says("3, x"))
    assert bad.key == "compose.bad_target" and bad.text == (
        "Eso no sirve: los números de recomendación se escriben 3,5,9 o 10-20, no «x». Escríbalo de nuevo, o cancele."
    )
    (none,) = await say(bot, gateway, maria.says("999999"))
    assert none.key == "compose.bad_target"
    (confirm,) = await say(bot, gateway, maria.says("1-2"))
    assert confirm.key == "compose.confirm"
    send = taps(gateway, "bc:send")
    assert [m.key for m in await say(bot, gateway, taps(gateway, "cancel"))] == ["update.cancelled"]
    assert [m.key for m in await say(bot, gateway, send)] == ["compose.stale"]
    assert await count(sessions, InformationRequest) == 0 and await count(sessions, OutboxMessage) == 0


async def test_who_answered_is_followed_up_in_chat(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, secretariat: dict[str, int], world: dict[str, int]
) -> None:
    assert [m.key for m in await say(bot, gateway, maria.says("/requests"))] == ["requests.none"]
    async with sessions() as session, session.begin():
        await add_institution(session, InstitutionData("MOE", "Ministry of Education", InstitutionKind.MINISTRY))
    await say(bot, gateway, maria.says("/request"), maria.says("¿Avances?"))
    await say(bot, gateway, taps(gateway, "due:7"))
    nobody, confirm = await say(bot, gateway, taps(gateway, "to:all"))
    # The institution nobody answers for is named before the secretariat confirms.
    assert nobody.key == "compose.nobody_for" and "MOE" in nobody.text
    assert "2 puntos focales de 2 instituciones" in confirm.text
    await say(bot, gateway, taps(gateway, "bc:send"))
    (listing,) = await say(bot, gateway, maria.says("/requests"))
    assert "N.º 1, para el 30 de noviembre de 2026: respondieron 0 instituciones de 2. ¿Avances?" in listing.text
    assert listing.buttons[0][0].action == "track:1"
    async with sessions() as session, session.begin():
        from storage.models import FocalPoint

        await record_answer(session, 1, await session.get(FocalPoint, secretariat["claire"]), clock.now, text="Une loi est en préparation.")
    (tracking,) = await say(bot, gateway, maria.presses("track:1"))
    assert tracking.text.splitlines() == [
        "Solicitud n.º 1, para el 30 de noviembre de 2026: ¿Avances?",
        "✗ MOJ: todavía sin respuesta (Ana Pérez)",
        "✓ MOW: respondió el 23 de noviembre de 2026",
    ]
    # And what was answered, not only who.
    assert [b.action for row in tracking.buttons for b in row] == ["answers:1"]
    (answers,) = await say(bot, gateway, maria.presses("answers:1"))
    assert answers.text.splitlines() == [
        "Respuestas a la solicitud n.º 1: ¿Avances?",
        "",
        "• MOW, Claire Martin, 23 de noviembre de 2026: Une loi est en préparation.",
    ]
    assert [m.key for m in await say(bot, gateway, maria.presses("answers:42"))] == ["requests.unknown"]
    assert [m.key for m in await say(bot, gateway, maria.presses("track:42"))] == ["requests.unknown"]

    # Past the date, the reminder machinery escalates MOJ to its senior focal point, and the tracking says so.
    async with sessions() as session, session.begin():
        bruno = await add_focal_point(session, FocalPointData("Bruno Silva", "MOJ", FocalPointRole.SENIOR, "es", "America/Montevideo", date(2025, 1, 1), "bruno@justicia.example"))
        await link_identity(session, bruno.id, Platform.TELEGRAM, "", "333", "333")
    for day in (1, 2, 3):
        clock.now = datetime(2026, 12, day, 13, tzinfo=timezone.utc)
        await ReminderService(sessions, Policy(), clock).tick()
    (tracking,) = await say(bot, gateway, maria.presses("track:1"))
    assert tracking.text.splitlines()[1:] == [
        "✗ MOJ: todavía sin respuesta (Ana Pérez); se avisó a Bruno Silva",
        "✓ MOW: respondió el 23 de noviembre de 2026",
    ]

    # Ana answers late, with an update on a recommendation: the answers say which, and how it stands.
    async with sessions() as session, session.begin():
        from storage.enums import Channel, ImplementationStatus
        from storage.models import FocalPoint
        from storage.status import UpdateData, record_update

        ana_fp = await session.get(FocalPoint, world["ana"])
        update = await record_update(session, UpdateData(
            world["mine"], ImplementationStatus.IN_PROGRESS, "Ana Pérez", Channel.TELEGRAM, institution_id=ana_fp.institution_id, narrative="Bill drafted.",
        ), at=clock.now)
        await record_answer(session, 1, ana_fp, clock.now, status_update_id=update.id)
    (answers,) = await say(bot, gateway, maria.presses("answers:1"))
    assert answers.text.splitlines()[2:] == [
        f"• MOJ, Ana Pérez, 3 de diciembre de 2026: n.º {world['mine']} en curso: Bill drafted.",
        "• MOW, Claire Martin, 23 de noviembre de 2026: Une loi est en préparation.",
    ]


async def test_focal_points_cannot_broadcast_follow_up_or_pull_reports(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], secretariat: dict[str, int]
) -> None:
    replies = await say(bot, gateway, ana.says("/request"), ana.says("/requests"), ana.says("/report matrix"))
    assert [m.key for m in replies] == ["secretariat.only"] * 3
    # Buttons of the secretariat's dialogue, pressed by a focal point, do nothing.
    for action, refused in (("bc:send", "stale.old"), ("to:all", "stale.old"), ("track:1", "unknown.command"), ("answers:1", "unknown.command"), ("due:7", "stale.old")):
        (reply,) = await say(bot, gateway, ana.presses(action))
        assert reply.key == refused
    await bot.drain()
    assert gateway.take() == []
    assert await count(sessions, InformationRequest) == 0 and await count(sessions, OutboxMessage) == 0


async def test_reports_are_made_and_sent_back_as_files(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], secretariat: dict[str, int], world: dict[str, int]
) -> None:
    (preparing,) = await say(bot, gateway, maria.says("/report matrix"))
    assert preparing.key == "report.preparing" and "matriz de implementación" in preparing.text
    await bot.drain()
    (matrix,) = gateway.take()
    assert matrix.key == "report.ready" and "6 recomendaciones" in matrix.text and matrix.document is not None
    # The file is gone once sent: only the name and type are left to check here.
    assert matrix.document.name == "implementation-matrix-2026-11-23.xlsx"
    assert matrix.document.mime_type.endswith("spreadsheetml.sheet")
    (usage,) = await say(bot, gateway, maria.says("/report"))
    assert usage.key == "report.usage" and "/report draft UPR 4 2026-12-31" in usage.text
    # As of a day: the history as it stood at the end of it, in the reader's time zone.
    await say(bot, gateway, maria.says("/report export json 2026-11-20"))
    await bot.drain()
    (old,) = gateway.take()
    assert old.document is not None and old.document.name == "recommendations-2026-11-20.json" and "al 20 de noviembre de 2026" in old.text
    assert [m.key for m in await say(bot, gateway, maria.says("/report draft"), maria.says("/report progress everything"), maria.says("/report matrix 2026-02-30"))] == ["report.usage"] * 3
    # A mechanism nobody knows is said so, with those known, and nothing is made.
    (unknown,) = await say(bot, gateway, maria.says("/report matrix ../../UPRR"))
    assert unknown.key == "report.unknown_mechanism" and unknown.text.startswith("No hay ningún mecanismo ../../UPRR. Conocidos: ")
    assert ", CEDAW, " in unknown.text and unknown.text.endswith(", UPR.")
    await bot.drain()
    assert gateway.take() == []


class _Keeping(FakeGateway):
    """Keeps a copy of each file, since the engine removes it once sent."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> None:
        if message.document is not None:
            self.files[message.document.name] = Path(message.document.path).read_bytes()
        await super().send(address, message)


async def test_the_draft_and_the_public_page_hold_what_the_cli_writes(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, secretariat: dict[str, int], world: dict[str, int]
) -> None:
    gateway = _Keeping()
    engine = ConversationEngine(sessions, gateway, clock, reports=ReportBuilder(sessions, clock))
    await engine.handle(maria.says("/report draft upr"))
    await engine.handle(maria.says("/report progress public"))
    await engine.handle(maria.says("/report export json"))
    await engine.drain()
    keys = [m.key for m in gateway.take()]
    assert keys.count("report.preparing") == 3 and "report.ready_draft" in keys
    draft = docx.Document(io.BytesIO(gateway.files["draft-UPR-2026-11-23.docx"]))
    assert any("UPR" in p.text for p in draft.paragraphs)
    page = gateway.files["progress-public-2026-11-23.html"].decode()
    assert "<svg" in page and "Ana Pérez" not in page
    # [reports] public_requires_validation holds in chat as on the command line.
    assert "Solo se tiene en cuenta la información validada por cada institución." in page
    assert gateway.files["recommendations-2026-11-23.json"].startswith(b"[")


async def test_a_failed_or_too_large_report_is_explained(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, secretariat: dict[str, int]
) -> None:
    class Broken:
        async def __call__(self, order: ReportOrder, directory: Path) -> ReportFile:
            raise RuntimeError("disk full")

    class TooLarge(FakeGateway):
        async def send(self, address: ChatAddress, message: OutgoingMessage) -> None:
            if message.document is not None:
                raise FileTooLarge(63 * 2**20, 50 * 2**20)
            await super().send(address, message)

    gateway = FakeGateway()
    engine = ConversationEngine(sessions, gateway, clock, reports=Broken())
    await engine.handle(maria.says("/report matrix"))
    await engine.drain()
    assert [m.key for m in gateway.take()] == ["report.preparing", "report.failed"]
    large = TooLarge()
    engine = ConversationEngine(sessions, large, clock, reports=ReportBuilder(sessions, clock))
    await engine.handle(maria.says("/report matrix"))
    await engine.drain()
    preparing, too_large = large.take()
    assert too_large.key == "report.too_large" and "63 MB" in too_large.text and "50 MB" in too_large.text


# --- through the real clients ---------------------------------------------------


@pytest.fixture
async def telegram(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, secretariat: dict[str, int]) -> AsyncIterator[tuple[TelegramStandIn, ConversationEngine]]:
    # 901 is a secretariat user who never opened the bot: no menu for them, and no failure.
    async with live_telegram(
        sessions, clock, (900,), engine_options={"reports": ReportBuilder(sessions, clock)}, secretariat_chat_ids=(900, 901),
    ) as bot:
        yield bot.standin, bot.engine


async def test_telegram_sends_the_matrix_as_a_document(telegram: tuple[TelegramStandIn, ConversationEngine]) -> None:
    standin, engine = telegram
    # The secretariat's commands are in its own menu only.
    assert "report" in standin.command_menus["chat:900"] and "mine" in standin.command_menus["chat:900"]
    assert "report" not in standin.command_menus["default"] and "chat:901" not in standin.command_menus
    standin.user_sends(900, "/report matrix UPR")
    preparing, sent = await standin.wait_for_messages(900, 2)
    assert preparing.text.startswith("Preparo el archivo") and sent.document is not None
    assert sent.document["file_name"] == "implementation-matrix-UPR-2026-11-23.xlsx"
    assert sent.text == "matriz de implementación, al 23 de noviembre de 2026: 6 recomendaciones."
    book = openpyxl.load_workbook(io.BytesIO(sent.document["data"]), read_only=True)
    assert "UPR" in book.sheetnames
    rows = list(book["UPR"].iter_rows(values_only=True))
    assert len(rows) == 1 + 6


async def test_slack_uploads_the_draft_to_the_dm(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, secretariat: dict[str, int]) -> None:
    standin = SlackStandIn()
    await standin.start()
    standin.add_user("U0MARIA", "maria", "maria@cancilleria.example")
    router = PlatformRouter()
    engine = ConversationEngine(sessions, router, clock, reports=ReportBuilder(sessions, clock))
    transport = SlackTransport(standin.bot_token, engine.handle, app_token=standin.app_token, api_url=standin.api_url, mode="socket")
    router.register(transport)
    await transport.start()
    try:
        await standin.wait_for_socket()
        # A bare "report draft UPR 2" in the DM is the command; an answer merely starting with "report" would not be.
        standin.user_writes("U0MARIA", "report draft UPR 2")
        preparing, shared = await standin.wait_for_messages("U0MARIA", 2)
        assert "borrador de informe" in preparing.shown
        (file,) = shared.files
        assert file["name"] == "draft-UPR-cycle-2-2026-11-23.docx" and file["size"] == len(file["data"])
        async with sessions() as session:
            cycle_2 = await session.scalar(select(func.count()).select_from(Recommendation).join(Review).where(Review.cycle == 2))
        assert f": {cycle_2} recomendaciones, {cycle_2} de ellas sin aportes." in shared.text
        document = docx.Document(io.BytesIO(file["data"]))
        assert any("UPR" in p.text for p in document.paragraphs)
        assert standin.calls.count("files.getUploadURLExternal") == 1 and standin.calls.count("files.completeUploadExternal") == 1
    finally:
        await transport.stop()
        await standin.stop()


async def test_telegram_refuses_a_file_over_its_limit_before_uploading(telegram: tuple[TelegramStandIn, ConversationEngine], monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.transports.telegram as telegram_transport

    standin, engine = telegram
    monkeypatch.setattr(telegram_transport, "MAX_UPLOAD_BYTES", 1024)
    standin.user_sends(900, "/report matrix")
    _, refused = await standin.wait_for_messages(900, 2)
    assert refused.text.startswith("El archivo (matriz de implementación) pesa")
    assert "senddocument" not in standin.calls
