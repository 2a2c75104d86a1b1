"""Status updates are history: appended, never rewritten; the current status is derived."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import Channel, EvidenceKind, ImplementationStatus as S, ImportSource, RecommendationKind
from storage.errors import AppendOnlyViolation, InvalidValue, NotFound
from storage.models import AuditEntry, Mechanism, Recommendation, StatusUpdate
from storage.status import EvidenceData, UpdateData, current_status, history, record_update


async def make_recommendation(sessions: async_sessionmaker[AsyncSession], external_id: str = "R1") -> int:
    async with sessions() as session, session.begin():
        upr = await session.scalar(select(Mechanism.id).where(Mechanism.code == "UPR"))
        rec = Recommendation(
            source=ImportSource.TEMPLATE,
            external_id=external_id,
            text="Adopt a national action plan on human rights",
            country="Uruguay",
            kind=RecommendationKind.RECOMMENDATION,
            mechanism_id=upr,
            content_hash="x",
        )
        session.add(rec)
        await session.flush()
        return rec.id


def update(rec_id: int, status: S, **kw: object) -> UpdateData:
    return UpdateData(recommendation_id=rec_id, status=status, author_label="test", channel=Channel.CLI, **kw)  # type: ignore[arg-type]


async def test_current_status_is_the_latest_update_and_every_update_is_kept(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec = await make_recommendation(sessions)
    t0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    async with sessions() as session:
        assert await current_status(session, rec) is S.NOT_STARTED
    for offset, status in enumerate([S.IN_PROGRESS, S.PARTIALLY_IMPLEMENTED, S.FULLY_IMPLEMENTED]):
        async with sessions() as session, session.begin():
            await record_update(session, update(rec, status, narrative=f"step {offset}"), at=t0 + timedelta(days=offset))
    async with sessions() as session:
        assert await current_status(session, rec) is S.FULLY_IMPLEMENTED
        # As the history stood on the second day.
        assert await current_status(session, rec, as_of=t0 + timedelta(days=1, hours=1)) is S.PARTIALLY_IMPLEMENTED
        assert await current_status(session, rec, as_of=t0 - timedelta(days=1)) is S.NOT_STARTED
        kept = await history(session, rec)
    assert [u.status for u in kept] == [S.IN_PROGRESS, S.PARTIALLY_IMPLEMENTED, S.FULLY_IMPLEMENTED]
    assert [u.narrative for u in kept] == ["step 0", "step 1", "step 2"]


async def test_a_correction_is_a_new_entry(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec = await make_recommendation(sessions)
    async with sessions() as session, session.begin():
        first = await record_update(session, update(rec, S.FULLY_IMPLEMENTED))
    async with sessions() as session, session.begin():
        await record_update(session, update(rec, S.PARTIALLY_IMPLEMENTED, corrects_id=first.id))
    async with sessions() as session:
        kept = await history(session, rec)
        assert [u.status for u in kept] == [S.FULLY_IMPLEMENTED, S.PARTIALLY_IMPLEMENTED]
        assert kept[1].corrects_id == kept[0].id
        assert await current_status(session, rec) is S.PARTIALLY_IMPLEMENTED


async def test_correcting_an_update_of_another_recommendation_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    a, b = await make_recommendation(sessions, "A"), await make_recommendation(sessions, "B")
    async with sessions() as session, session.begin():
        first = await record_update(session, update(a, S.IN_PROGRESS))
    with pytest.raises(InvalidValue):
        async with sessions() as session, session.begin():
            await record_update(session, update(b, S.IN_PROGRESS, corrects_id=first.id))


async def test_orm_refuses_to_edit_or_delete_an_update(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec = await make_recommendation(sessions)
    async with sessions() as session, session.begin():
        await record_update(session, update(rec, S.IN_PROGRESS))
    with pytest.raises(AppendOnlyViolation):
        async with sessions() as session, session.begin():
            stored = await session.scalar(select(StatusUpdate))
            assert stored is not None
            stored.status = S.FULLY_IMPLEMENTED
            await session.flush()
    with pytest.raises(AppendOnlyViolation):
        async with sessions() as session, session.begin():
            stored = await session.scalar(select(StatusUpdate))
            await session.delete(stored)
            await session.flush()
    async with sessions() as session:
        assert await current_status(session, rec) is S.IN_PROGRESS


async def test_same_idempotency_key_stores_one_update(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec = await make_recommendation(sessions)
    data = update(
        rec, S.IN_PROGRESS, idempotency_key="telegram:update:4242",
        evidence=[EvidenceData(EvidenceKind.LINK, url="https://impo.com.uy/bases/leyes/19580-2017")],
    )
    async with sessions() as session, session.begin():
        first = await record_update(session, data)
    async with sessions() as session, session.begin():
        again = await record_update(session, data)
    assert again.id == first.id
    async with sessions() as session:
        kept = await history(session, rec)
    assert len(kept) == 1 and [e.url for e in kept[0].evidence] == ["https://impo.com.uy/bases/leyes/19580-2017"]


async def test_update_for_unknown_recommendation_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(NotFound, match="no recommendation with id 999"):
        async with sessions() as session, session.begin():
            await record_update(session, update(999, S.IN_PROGRESS))


async def test_times_are_stored_in_utc_and_read_back_aware(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec = await make_recommendation(sessions)
    # 09:30 in Asunción on the day Paraguay's DST ended in 2024 is 12:30 UTC.
    local = datetime(2024, 10, 6, 9, 30, tzinfo=ZoneInfo("America/Asuncion"))
    async with sessions() as session, session.begin():
        await record_update(session, update(rec, S.IN_PROGRESS), at=local)
    async with sessions() as session:
        (stored,) = await history(session, rec)
    assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at == local
    assert stored.created_at.hour == local.astimezone(timezone.utc).hour


async def test_naive_datetimes_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec = await make_recommendation(sessions)
    with pytest.raises(Exception, match="naive datetime"):
        async with sessions() as session, session.begin():
            await record_update(session, update(rec, S.IN_PROGRESS), at=datetime(2026, 1, 1, 9, 0))


async def test_status_updates_are_not_copied_into_the_audit_log(sessions: async_sessionmaker[AsyncSession]) -> None:
    rec = await make_recommendation(sessions)
    async with sessions() as session, session.begin():
        await record_update(session, update(rec, S.IN_PROGRESS))
    async with sessions() as session:
        entities = (await session.scalars(select(AuditEntry.entity))).all()
    assert "recommendations" in entities and "status_updates" not in entities
