"""Each institution answers for itself: its own latest update, and the overall
status of a recommendation shared by several institutions (storage/status.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.assignments import assign
from storage.enums import AssignmentRole, Channel, ImplementationStatus as S, InstitutionKind
from storage.network import InstitutionData, add_institution
from storage.selection import Selector
from storage.status import UpdateData, institution_status, record_update
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
