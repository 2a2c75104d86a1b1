"""Validation that counts: a return reaches its author through the outbox in
her working hours and her next update answers it; nobody validates their own
input (another validator does, or the secretariat); the draft quotes typed
answers to requests; the matrix and the draft mark each input validated,
returned or waiting. On SQLite and PostgreSQL, on a fake clock."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_dispatch import OutboxDispatcher
from bot.reports.build import make_report
from bot.reports.matrix import MATRIX_COLUMNS
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.report_orders import ReportOrder
from messages import t
from storage.conversations import link_identity
from storage.enums import Channel, FocalPointRole, ImplementationStatus, OutboxKind, Platform, SecretariatRole, ValidationDecision
from storage.errors import InvalidValue
from storage.models import FocalPoint, Institution, OutboxMessage, StatusUpdate, Validation, ValidationAnswer
from storage.network import FocalPointData, add_focal_point
from storage.requests import Target, create_request, record_answer
from storage.secretariat import SecretariatUserData, add_secretariat_user
from storage.status import UpdateData, record_update
from storage.validations import SelfValidation, validate
from tests.cli_harness import Cli
from tests.dialogue_harness import bot, chat, clock, gateway
from tests.fakes import FakeClock, FakeGateway, Person

# The fixtures imported above, so that the linter sees them used.
__all__ = ["bot", "clock", "gateway"]

ana, bruno, carla, colin, vera = Person("111"), Person("444"), Person("555"), Person("901"), Person("902")


@pytest.fixture
async def moj(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> dict[str, int]:
    """Ana (technical, Montevideo) now reads Spanish; Bruno is the Ministry
    of Justice's senior focal point and its only validator; Colin is a
    secretariat coordinator and Vera a viewer."""
    async with sessions() as session, session.begin():
        await session.execute(update(FocalPoint).where(FocalPoint.id == world["ana"]).values(language="es"))
        senior = await add_focal_point(session, FocalPointData(
            "Bruno Silva", "MOJ", FocalPointRole.SENIOR, "en", "America/Montevideo", date(2025, 1, 1), "bruno@justicia.example"))
        await link_identity(session, senior.id, Platform.TELEGRAM, "", "444", "444")
        coordinator = await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "UTC", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "en", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))
    return {**world, "bruno": senior.id, "colin": coordinator.id}


async def _update(bot: ConversationEngine, gateway: FakeGateway, person: Person, rec: int, narrative: str) -> None:
    """The person gives an update "in progress" with ``narrative``, in chat."""
    await bot.handle(person.presses(f"upd:{rec}"))
    (asked,) = gateway.take()
    assert asked.key == "update.ask_status"
    await bot.handle(person.presses(asked.buttons[1][0].action))  # in progress
    assert [m.key for m in gateway.take()] == ["update.ask_done"]
    await bot.handle(person.says(narrative))
    assert [m.key for m in gateway.take()] == ["update.saved"]


async def test_a_return_reaches_the_author_in_her_hours_opens_the_recommendation_and_her_next_update_answers_it(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, moj: dict[str, int],
) -> None:
    rec = moj["mine"]
    await _update(bot, gateway, ana, rec, "Bill drafted.")
    # 19:00 in Montevideo: Ana's working day is over when Bruno returns her input.
    clock.now = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    await bot.handle(bruno.says("/validate"))
    _, item = gateway.take()
    assert await chat(bot, gateway, bruno.presses(item.buttons[0][1].action)) == ["validate.ask_comment"]
    assert await chat(bot, gateway, bruno.says("Say which law: the number is missing.")) == ["validate.returned"]

    outbox_gateway = FakeGateway()
    dispatcher = OutboxDispatcher(sessions, outbox_gateway, clock, Policy().working_time)
    assert await dispatcher.drain() == 0 and outbox_gateway.take() == []
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.VALIDATION_RETURNED))
    assert row is not None and row.focal_point_id == moj["ana"]
    # Tuesday 09:00 in Montevideo, the start of her next working window.
    assert row.due_at == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    clock.now = datetime(2026, 11, 24, 12, 5, tzinfo=UTC)
    assert await dispatcher.drain() == 1
    [(address, notice)] = outbox_gateway.sent
    assert address.user_id == "111" and notice.key == "validate.returned_notice" and notice.language == "es"
    assert "Bruno Silva" in notice.text and "Say which law: the number is missing." in notice.text
    assert f"n.º {rec}" in notice.text and "en curso" in notice.text
    assert await dispatcher.drain() == 0  # once

    # Its button opens that recommendation's update; the update answers the return.
    [[button]] = notice.buttons
    assert button.label == t("button.answer_return", "es", id=rec) and button.action == f"upd:{rec}"
    await _update(bot, gateway, ana, rec, "Law 19.580, adopted in December 2017.")
    async with sessions() as session:
        returned = await session.scalar(select(Validation).where(Validation.decision == ValidationDecision.RETURNED))
        answer = await session.get(ValidationAnswer, returned.id)  # type: ignore[union-attr]
        newest = await session.scalar(select(StatusUpdate).order_by(StatusUpdate.id.desc()).limit(1))
    assert answer is not None and newest is not None and answer.status_update_id == newest.id
    assert newest.narrative == "Law 19.580, adopted in December 2017."
    # Bruno sees what the new input answers; a later update answers nothing more.
    await bot.handle(bruno.says("/validate"))
    _, item = gateway.take()
    assert item.key == "validate.item_answering" and "Say which law: the number is missing." in item.text and "Law 19.580" in item.text
    await _update(bot, gateway, ana, rec, "Decree in preparation.")
    async with sessions() as session:
        assert len((await session.scalars(select(ValidationAnswer))).all()) == 1


async def test_a_return_to_an_input_from_the_command_line_is_said_to_reach_nobody(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, moj: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        institution = await session.scalar(select(Institution.id).where(Institution.code == "MOJ"))
        await record_update(session, UpdateData(
            moj["mine"], ImplementationStatus.IN_PROGRESS, "nmrf-bot (cli)", Channel.CLI, institution_id=institution), at=clock())
    await bot.handle(bruno.says("/validate"))
    _, item = gateway.take()
    await chat(bot, gateway, bruno.presses(item.buttons[0][1].action))
    assert await chat(bot, gateway, bruno.says("Which ministry?")) == ["validate.returned_unreachable"]
    async with sessions() as session:
        assert (await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.VALIDATION_RETURNED))) is None


async def test_nobody_validates_their_own_input_another_validator_or_the_secretariat_does(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, moj: dict[str, int],
) -> None:
    rec = moj["mine"]
    await _update(bot, gateway, bruno, rec, "Bruno's own input.")
    async with sessions() as session:
        own = await session.scalar(select(StatusUpdate).where(StatusUpdate.author_focal_point_id == moj["bruno"]))
        me = await session.get(FocalPoint, moj["bruno"])
    assert own is not None and me is not None
    # Not in his list; his button, or a typed one, is refused naming why.
    assert await chat(bot, gateway, bruno.says("/validate")) == ["validate.none"]
    await bot.handle(bruno.presses(f"val:ok:{own.id}"))
    (refusal,) = gateway.take()
    assert refusal.key == "validate.own" and "yourself" in refusal.text
    # Storage refuses it whoever calls.
    async with sessions() as session, session.begin():
        with pytest.raises(SelfValidation, match="Bruno Silva gave update .* themselves"):
            await validate(session, own.id, ValidationDecision.APPROVED, me, clock())

    # MOJ has no other validator: the secretariat's coordinator validates it; a viewer may not.
    await bot.handle(vera.says("/validations"))
    (refused,) = gateway.take()
    assert refused.key == "role.needed"
    await bot.handle(colin.says("/validations"))
    header, item = gateway.take()
    assert header.key == "validations.header" and "Bruno's own input." in item.text and "Ministry of Justice" in item.text
    assert await chat(bot, gateway, colin.presses(item.buttons[0][0].action)) == ["validate.approved"]
    async with sessions() as session:
        judged = await session.scalar(select(Validation).where(Validation.status_update_id == own.id))
    assert judged is not None and (judged.validator_label, judged.validator_focal_point_id) == ("Colin Reyes", None)
    assert await chat(bot, gateway, colin.presses(item.buttons[0][0].action)) == ["validations.stale"]
    assert await chat(bot, gateway, colin.says("/validations")) == ["validations.none"]

    # With a second validator in office, Bruno's next input is hers, not the secretariat's.
    async with sessions() as session, session.begin():
        second = await add_focal_point(session, FocalPointData(
            "Carla Núñez", "MOJ", FocalPointRole.VALIDATOR, "en", "UTC", date(2025, 1, 1), "carla@justicia.example"))
        await link_identity(session, second.id, Platform.TELEGRAM, "", "555", "555")
    clock.advance(hours=1)
    await _update(bot, gateway, bruno, rec, "Bruno again.")
    assert await chat(bot, gateway, colin.says("/validations")) == ["validations.none"]
    async with sessions() as session, session.begin():
        again = await session.scalar(select(StatusUpdate).order_by(StatusUpdate.id.desc()).limit(1))
        user = await add_secretariat_user(session, SecretariatUserData("Sam Oyelaran", "sam@mfa.example", "en", "UTC"))
        with pytest.raises(InvalidValue, match="not the secretariat's to validate"):
            await validate(session, again.id, ValidationDecision.APPROVED, user, clock())  # type: ignore[union-attr]
    await bot.handle(carla.says("/validate"))
    header, item = gateway.take()
    assert header.key == "validate.header" and "Bruno again." in item.text
    # The secretariat returns an input; the comment reaches its author like a validator's.
    assert await chat(bot, gateway, carla.presses(item.buttons[0][1].action)) == ["validate.ask_comment"]
    assert await chat(bot, gateway, carla.says("Add the decree's number.")) == ["validate.returned"]
    async with sessions() as session:
        notice = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.VALIDATION_RETURNED))
    assert notice is not None and notice.focal_point_id == moj["bruno"] and "Carla Núñez" in notice.message["text"]


async def test_the_secretariat_returns_an_input_nobody_else_may_judge(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, moj: dict[str, int],
) -> None:
    await _update(bot, gateway, bruno, moj["mine"], "Bruno's own input.")
    await bot.handle(colin.says("/validations"))
    _, item = gateway.take()
    assert await chat(bot, gateway, colin.presses(item.buttons[0][1].action)) == ["validate.ask_comment"]
    assert await chat(bot, gateway, colin.says("Name the institution that adopted it.")) == ["validate.returned"]
    outbox_gateway = FakeGateway()
    assert await OutboxDispatcher(sessions, outbox_gateway, clock, Policy().working_time).drain() == 1
    [(address, notice)] = outbox_gateway.sent
    assert address.user_id == "444" and "Colin Reyes" in notice.text and "Name the institution that adopted it." in notice.text


def _docx_text(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


async def test_the_draft_shows_typed_answers_and_the_draft_and_matrix_mark_each_input(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, moj: dict[str, int], tmp_path: Path,
) -> None:
    first, second, third = moj["mine_all"]
    async with sessions() as session, session.begin():
        author = await session.get(FocalPoint, moj["ana"])
        senior = await session.get(FocalPoint, moj["bruno"])
        assert author is not None and senior is not None
        given = {}
        for rec, words in ((first, "Approved input."), (second, "Returned input."), (third, "Waiting input.")):
            given[rec] = await record_update(session, UpdateData(
                rec, ImplementationStatus.IN_PROGRESS, author.name, Channel.TELEGRAM, narrative=words, author_focal_point_id=author.id), at=clock())
        await validate(session, given[first].id, ValidationDecision.APPROVED, senior, clock())
        await validate(session, given[second].id, ValidationDecision.RETURNED, senior, clock(), comment="Which law?")
        # A request naming the second recommendation, answered in words; one naming none.
        named, _ = await create_request(session, "What was budgeted?", date(2027, 1, 15), Target("recommendations", (str(second),)),
                                        created_by="Colin Reyes", today=clock().date())
        general, _ = await create_request(session, "Who chairs the inter-ministerial committee?", date(2027, 1, 15), Target(),
                                          created_by="Colin Reyes", today=clock().date())
        await record_answer(session, named.id, author, clock(), text="USD 2 million in the 2027 budget.")
        await record_answer(session, general.id, author, clock(), text="The Deputy Minister of Justice.")
        # A typed answer that names a recommendation goes under it, whatever the request named.
        await record_answer(session, general.id, author, clock(), text=f"On #{third}: a working group meets monthly.")

    draft = await make_report(sessions, ReportOrder("draft", "en", "UTC", mechanism="UPR"), tmp_path / "draft.docx", clock)
    lines = _docx_text(draft.path)

    def under(narrative: str) -> list[str]:
        start = next(i for i, line in enumerate(lines) if line == narrative)
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("Paragraph ") or lines[i] == "Answers to information requests")
        return lines[start:end]

    assert any(line.endswith("Validated.") for line in under("Approved input."))
    assert any("Returned by the institution's validator: Which law?" in line for line in under("Returned input."))
    assert any(line.endswith("Not yet validated by the institution.") for line in under("Waiting input."))
    assert any(line.startswith(f"Ministry of Justice, answering request {named.id}") and "USD 2 million" in line for line in under("Returned input."))
    assert any(f"On #{third}: a working group meets monthly." in line for line in under("Waiting input."))
    section = lines[lines.index("Answers to information requests"):]
    assert any(line.startswith(f"Request {general.id}") and "inter-ministerial committee" in line for line in section)
    assert any("The Deputy Minister of Justice." in line for line in section)
    assert not any("working group" in line or "USD 2 million" in line for line in section)

    matrix = await make_report(sessions, ReportOrder("matrix", "en", "UTC"), tmp_path / "matrix.xlsx", clock)
    sheet = load_workbook(matrix.path, read_only=True)["UPR"]
    column = [name for name, _ in MATRIX_COLUMNS].index("inputs")
    inputs = [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert {"[Approved]", "[Returned]", "[Pending]"} <= {cell.rsplit(" ", 1)[-1] for cell in inputs if cell and "MOJ" in cell}
    spanish = await make_report(sessions, ReportOrder("matrix", "es", "UTC"), tmp_path / "matriz.xlsx", clock)
    cells = [row[column] for row in load_workbook(spanish.path, read_only=True)["UPR"].iter_rows(min_row=2, values_only=True)]
    assert any(cell and cell.endswith(f"[{t('matrix.validation.returned', 'es')}]") for cell in cells)


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


async def test_on_the_command_line_the_same_rules_hold(
    bot: ConversationEngine, gateway: FakeGateway, sessions: async_sessionmaker[AsyncSession], moj: dict[str, int], cli: Cli,
) -> None:
    async def run(*args: str, expect: int = 0) -> tuple[str, str]:
        # The CLI runs its own event loop: in a thread of its own, as from a shell.
        return await asyncio.to_thread(cli, *args, expect=expect)

    await _update(bot, gateway, bruno, moj["mine"], "Bruno's own input.")
    async with sessions() as session:
        own = await session.scalar(select(StatusUpdate.id).where(StatusUpdate.author_focal_point_id == moj["bruno"]))
    out, _ = await run("validations", "list", "--format", "csv")
    # Read as a spreadsheet would: the CLI's CSV quotes every text field.
    listed = list(csv.reader(io.StringIO(out)))
    assert listed[0][:3] == ["update", "recommendation", "institution"]
    assert any(row[0] == str(own) and row[1].startswith(f"#{moj['mine']} ") and row[2] == "MOJ" for row in listed[1:])
    _, err = await run("validations", "approve", str(own), "--by", "bruno@justicia.example", expect=1)
    assert err.startswith(f"error: Bruno Silva gave update {own} themselves and cannot validate it")
    _, err = await run("validations", "approve", str(own), "--by", "nobody@mfa.example", expect=1)
    assert "no secretariat user or focal point 'nobody@mfa.example'" in err
    out, _ = await run("validations", "return", str(own), "--comment", "Which law?", "--by", "colin@mfa.example")
    assert out == f"update {own} returned by Colin Reyes: its author is told in their working hours\n"
    _, err = await run("validations", "approve", str(own), "--by", "colin@mfa.example", expect=1)
    assert "not the secretariat's to validate" in err
    out, _ = await run("validations", "list")
    assert str(own) not in out.split()
    async with sessions() as session:
        notice = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.VALIDATION_RETURNED))
    assert notice is not None and notice.focal_point_id == moj["bruno"] and "Which law?" in notice.message["text"]
