"""Paragraphs in natural order wherever a report or list sorts by them
(issue 15 review): UPR 121.2 before 121.10, a committee's 12 before 12 (a)
before 12 (b) before 13. One key (storage.paragraph_order), the same in
Python and in SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import random

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import RecommendationKind
from storage.models import Document, Mechanism, Recommendation
from storage.paragraph_order import paragraph_key, paragraph_order
from storage.report_inputs import stream_inputs
from storage.report_rows import ReportScope, stream_report_rows

UPR = ["121.1", "121.2", "121.9", "121.10", "121.11", "121.100"]
TREATY = ["9", "12", "12 (a)", "12(b)", "12 (c)", "13", "40"]
_serial = itertools.count(1)


def test_the_key_orders_upr_and_treaty_body_paragraphs_naturally() -> None:
    shuffled = random.Random(3).sample(UPR, len(UPR))
    assert sorted(shuffled, key=paragraph_key) == UPR
    shuffled = random.Random(4).sample(TREATY, len(TREATY))
    assert sorted(shuffled, key=paragraph_key) == TREATY
    # Written with or without a space, in either case: one paragraph.
    assert paragraph_key("14 (A)") == paragraph_key("14(a)")
    assert sorted(["2", None, "1"], key=paragraph_key) == [None, "1", "2"]


async def _add(session: AsyncSession, mechanism: str, symbol: str, paragraphs: list[str]) -> dict[str, int]:
    mech = await session.scalar(select(Mechanism).where(Mechanism.code == mechanism))
    assert mech is not None
    doc = Document(symbol=symbol, mechanism_id=mech.id)
    session.add(doc)
    await session.flush()
    made = {}
    # Inserted shuffled, so neither id order nor insertion order gives the answer.
    for paragraph in random.Random(7).sample(paragraphs, len(paragraphs)):
        n = next(_serial)
        rec = Recommendation(
            source="uhri", external_id=f"po-{n}", text=f"Recommendation {paragraph}", paragraph=paragraph, country="Uruguay",
            kind=RecommendationKind.RECOMMENDATION, mechanism_id=mech.id, document_id=doc.id, content_hash=f"po{n}",
        )
        session.add(rec)
        await session.flush()
        made[paragraph] = rec.id
    return made


async def test_sql_orders_as_the_key_does(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await _add(session, "UPR", "A/HRC/50/9", UPR)
        await _add(session, "CEDAW", "CEDAW/C/URY/CO/10", TREATY)
        rows = (await session.execute(
            select(Recommendation.paragraph).order_by(Recommendation.document_id, paragraph_order(Recommendation.paragraph))
        )).scalars().all()
    assert list(rows) == UPR + TREATY


async def test_the_matrix_rows_and_the_draft_follow_the_paragraphs(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await _add(session, "UPR", "A/HRC/50/9", UPR)
        await _add(session, "CEDAW", "CEDAW/C/URY/CO/10", TREATY)
    async with sessions() as session:
        rows = [(r["mechanism"], r["paragraph"]) async for r in stream_report_rows(session, ReportScope())]
        drafted = [item.paragraph async for item in stream_inputs(session, ReportScope(mechanism="UPR"), None)]
    assert rows == [("CEDAW", p) for p in TREATY] + [("UPR", p) for p in UPR]
    assert drafted == UPR
