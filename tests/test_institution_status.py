"""Each institution answers for itself: its own latest update, and the overall
status of a recommendation shared by several institutions (storage/status.py)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import docx
import openpyxl
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reports.build import make_report
from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.report_orders import ReportOrder
from handlers.summaries import summarise

from storage.assignments import assign
from storage.conversations import link_identity
from storage.enums import AssignmentRole, Channel, FocalPointRole, ImplementationStatus as S, InstitutionKind, Platform
from storage.network import FocalPointData, InstitutionData, add_focal_point, add_institution
from storage.recommendations import RecommendationFilter, stream_recommendations
from storage.report_progress import progress
from storage.report_rows import ReportScope
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from storage.selection import Selector
from storage.status import UpdateData, current_status, institution_status, record_update
from tests.fakes import FakeClock, FakeGateway, Person
from tests.test_history import make_recommendation

T0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


async def shared(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    """One recommendation: MOE leads, MIDES contributes."""
    rec = await make_recommendation(sessions)
    async with sessions() as session, session.begin():
        moe = await add_institution(session, InstitutionData("MOE", "Ministry of Education", InstitutionKind.MINISTRY))
        mides = await add_institution(session, InstitutionData("MIDES", "Ministry of Social Development", InstitutionKind.MINISTRY))
        await assign(session, "MOE", Selector(ids=(rec,)))
        await assign(session, "MIDES", Selector(ids=(rec,)), role=AssignmentRole.CONTRIBUTING)
        return rec, moe.id, mides.id


def by(rec: int, status: S, institution_id: int | None, **kw: object) -> UpdateData:
    return UpdateData(recommendation_id=rec, status=status, author_label="test", channel=Channel.CLI, institution_id=institution_id, **kw)  # type: ignore[arg-type]


async def test_institution_status_is_that_institutions_own_latest_update(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec, moe, mides = await shared(sessions)
    async with sessions() as session:
        assert await institution_status(session, rec, moe) is None
    async with sessions() as session, session.begin():
        await record_update(session, by(rec, S.IN_PROGRESS, moe), at=T0)
        first = await record_update(session, by(rec, S.PARTIALLY_IMPLEMENTED, moe), at=T0 + timedelta(days=1))
        await record_update(session, by(rec, S.FULLY_IMPLEMENTED, None), at=T0 + timedelta(days=2))
    async with sessions() as session:
        mine = await institution_status(session, rec, moe)
        assert mine is not None and mine.status is S.PARTIALLY_IMPLEMENTED and mine.id == first.id
        # MOE's answer, and the secretariat's record, are not MIDES's.
        assert await institution_status(session, rec, mides) is None
        earlier = await institution_status(session, rec, moe, as_of=T0 + timedelta(hours=1))
        assert earlier is not None and earlier.status is S.IN_PROGRESS
        assert await institution_status(session, rec, moe, as_of=T0 - timedelta(hours=1)) is None
    async with sessions() as session, session.begin():
        await record_update(session, by(rec, S.NOT_STARTED, moe, corrects_id=first.id), at=T0 + timedelta(days=3))
    async with sessions() as session:
        corrected = await institution_status(session, rec, moe)
        assert corrected is not None and corrected.status is S.NOT_STARTED


async def test_the_overall_status_follows_the_stated_rule(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Lead's or secretariat's newest; else the newest contributor's; else not started."""
    rec, moe, mides = await shared(sessions)
    async with sessions() as session:
        assert await current_status(session, rec) is S.NOT_STARTED
    async with sessions() as session, session.begin():
        await record_update(session, by(rec, S.IN_PROGRESS, mides), at=T0)
    async with sessions() as session:
        # Only a contributor has answered: its answer, until the lead's comes.
        assert await current_status(session, rec) is S.IN_PROGRESS
    async with sessions() as session, session.begin():
        moe_answer = await record_update(session, by(rec, S.PARTIALLY_IMPLEMENTED, moe), at=T0 + timedelta(days=1))
        await record_update(session, by(rec, S.FULLY_IMPLEMENTED, mides), at=T0 + timedelta(days=2))
    async with sessions() as session:
        # MIDES's newer answer does not override the lead's.
        assert await current_status(session, rec) is S.PARTIALLY_IMPLEMENTED
        assert await current_status(session, rec, as_of=T0 + timedelta(hours=1)) is S.IN_PROGRESS
        assert await current_status(session, rec, as_of=T0 - timedelta(hours=1)) is S.NOT_STARTED
    async with sessions() as session, session.begin():
        await record_update(session, by(rec, S.NOT_APPLICABLE, None), at=T0 + timedelta(days=3))
    async with sessions() as session:
        # The secretariat's own record, newer than the lead's, wins...
        assert await current_status(session, rec) is S.NOT_APPLICABLE
    async with sessions() as session, session.begin():
        await record_update(session, by(rec, S.IN_PROGRESS, moe, corrects_id=moe_answer.id), at=T0 + timedelta(days=4))
    async with sessions() as session:
        # ... until the lead answers again; a correction is an update like any other.
        assert await current_status(session, rec) is S.IN_PROGRESS
        assert await current_status(session, rec, as_of=T0 + timedelta(days=3, hours=1)) is S.NOT_APPLICABLE
        listed = [r async for r in stream_recommendations(session, RecommendationFilter(status=S.IN_PROGRESS))]
        assert [r["id"] for r in listed] == [rec]
        assert [r async for r in stream_recommendations(session, RecommendationFilter(status=S.FULLY_IMPLEMENTED))] == []


async def moe_answered(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    """MOE (lead) says partially implemented on 1 March; MIDES never answers."""
    rec, moe, mides = await shared(sessions)
    async with sessions() as session, session.begin():
        await record_update(session, by(rec, S.PARTIALLY_IMPLEMENTED, moe, narrative="Teachers trained in 12 departments."), at=T0)
    return rec, moe, mides


async def test_an_institution_is_not_counted_as_updated_for_anothers_update(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec, _, _ = await moe_answered(sessions)
    async with sessions() as session:
        lines = {line.group: line for line in await summarise(session, "institution", Policy(), as_of=T0 + timedelta(days=1))}
        before = {line.group: line for line in await summarise(session, "institution", Policy(), as_of=T0 - timedelta(days=1))}
        figures, _ = await progress(session, ReportScope(), None, "—")
    assert (lines["MOE"].response_rate, lines["MOE"].missing, lines["MOE"].counts["partially_implemented"]) == (1.0, 0, 1)
    # MIDES never answered: 0 % updated, its status not started, whatever MOE said.
    assert (lines["MIDES"].response_rate, lines["MIDES"].missing, lines["MIDES"].counts["not_started"]) == (0.0, 1, 1)
    assert before["MOE"].response_rate == 0.0
    assert figures.response == {"MIDES": (1, 0), "MOE": (1, 1)}
    assert figures.by_institution["MIDES"] == {"not_started": 1}
    assert figures.by_institution["MOE"] == {"partially_implemented": 1}
    assert figures.by_status == {"partially_implemented": 1}


async def test_the_secretariat_s_progress_in_chat_counts_each_institutions_own_answers(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await moe_answered(sessions)
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("María González", "maria@cancilleria.example", "en", "UTC", telegram_user_id=900)])
    gateway = FakeGateway()
    bot = ConversationEngine(sessions, gateway, FakeClock(datetime(2026, 11, 23, 13, tzinfo=timezone.utc)))
    await bot.handle(Person("900").says("/progress"))
    (answer,) = gateway.take()
    assert "• MIDES: 0 % updated (0 fully, 0 partly implemented, 0 in progress, 1 not started)" in answer.text
    assert "• MOE: 100 % updated (0 fully, 1 partly implemented, 0 in progress, 0 not started)" in answer.text


async def make(sessions: async_sessionmaker[AsyncSession], tmp_path: Path, kind: str, **kw: Any) -> Path:
    order = ReportOrder(kind, "en", "UTC", mechanism="UPR" if kind == "draft" else None, **kw)
    suffix = {"matrix": "xlsx", "draft": "docx", "progress": "html"}.get(kind) or kw["fmt"]
    return (await make_report(sessions, order, tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}.{suffix}")).path


async def test_reports_show_the_overall_status_and_each_institutions_input(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    rec, moe, _ = await shared(sessions)
    async with sessions() as session, session.begin():
        # The secretariat's record of the day before: the lead's newer answer gives the overall status.
        await record_update(session, by(rec, S.FULLY_IMPLEMENTED, None, narrative="Checked by the secretariat."), at=T0 - timedelta(days=1))
        await record_update(session, by(rec, S.PARTIALLY_IMPLEMENTED, moe, narrative="Teachers trained in 12 departments."), at=T0)
    matrix = await make(sessions, tmp_path, "matrix")
    rows = openpyxl.load_workbook(matrix)["UPR"].iter_rows(values_only=True)
    header = next(rows)
    row = dict(zip(header, next(rows), strict=True))
    assert row["Status"] == "Partially implemented"
    # MOE's input waits for its validator: the matrix marks it.
    assert row["Each institution's status"] == "MOE: Partially implemented (2026-03-01) [Pending]; MIDES: no answer"
    exported = await make(sessions, tmp_path, "export", fmt="csv")
    (line,) = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert (line["status"], line["inputs"]) == ("partially_implemented", "MOE: partially_implemented (2026-03-01); MIDES: none")
    as_json = await make(sessions, tmp_path, "export", fmt="json", as_of=T0 - timedelta(hours=1))
    (early,) = json.loads(as_json.read_text(encoding="utf-8"))
    # As of the day before MOE answered: the secretariat's record, and no institution's answer yet.
    assert early["status"] == "fully_implemented"
    assert [(i["institution"], i["role"], i["status"]) for i in early["inputs"]] == [("MOE", "lead", None), ("MIDES", "contributing", None)]
    draft = await make(sessions, tmp_path, "draft")
    texts = [p.text for p in docx.Document(str(draft)).paragraphs]
    # Each institution's input follows the overall status, after the
    # priority's lines (its level, then the five criteria).
    start = texts.index("Overall status: partially implemented")
    moe = texts.index("Ministry of Education: partially implemented", start)
    assert texts[start + 1].startswith("Priority: ") and moe - start == 7
    assert texts[moe + 1] == "Teachers trained in 12 departments."
    assert "Ministry of Social Development: no answer" in texts[start:]
    page = (await make(sessions, tmp_path, "progress")).read_text(encoding="utf-8")
    assert "MOE: partially implemented (2026-03-01); MIDES: no answer" in page


async def test_a_focal_points_update_is_always_its_institutions(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec, _, mides = await shared(sessions)
    async with sessions() as session, session.begin():
        ana = await add_focal_point(session, FocalPointData("Ana", "MIDES", FocalPointRole.TECHNICAL, "es", "UTC", date(2026, 1, 1), "ana@mides.example"))
        saved = await record_update(session, by(rec, S.IN_PROGRESS, None, author_focal_point_id=ana.id), at=T0)
    assert saved.institution_id == mides
    async with sessions() as session:
        assert (await institution_status(session, rec, mides)) is not None


async def test_the_item_card_shows_the_overall_status_and_the_institutions_own(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec, _, _ = await moe_answered(sessions)
    async with sessions() as session, session.begin():
        luis = await add_focal_point(session, FocalPointData("Luis", "MIDES", FocalPointRole.TECHNICAL, "en", "UTC", date(2026, 1, 1), "luis@mides.example"))
        await link_identity(session, luis.id, Platform.TELEGRAM, "", "222", "222")
    gateway = FakeGateway()
    bot = ConversationEngine(sessions, gateway, FakeClock(datetime(2026, 11, 23, 13, tzinfo=timezone.utc)))
    await bot.handle(Person("222").presses(f"rec:{rec}"))
    (card,) = gateway.take()
    assert card.key == "recommendation.detail"
    assert "Current status: partially implemented overall; your institution: no answer yet" in card.text
