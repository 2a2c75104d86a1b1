"""Institutions and focal points, and the audit trail their changes leave."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.audit import acting_as
from storage.enums import FocalPointRole, InstitutionKind
from storage.errors import Conflict, InvalidValue, NotFound
from storage.models import AuditEntry, FocalPoint
from storage.network import (
    Change,
    FocalPointData,
    InstitutionData,
    add_focal_point,
    add_institution,
    end_focal_point,
    list_focal_points,
    list_institutions,
    upsert_institution,
)


def fp(name: str = "Ana Pérez", email: str | None = "ana@justicia.example", **kw: object) -> FocalPointData:
    values: dict[str, object] = dict(
        name=name, institution_code="moj", role=FocalPointRole.TECHNICAL, language="es",
        timezone="America/Montevideo", active_from=date(2025, 1, 1), email=email,
    )
    values.update(kw)
    return FocalPointData(**values)  # type: ignore[arg-type]


@pytest.fixture
async def moj(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await add_institution(session, InstitutionData("moj", "Ministry of Justice", InstitutionKind.MINISTRY))


async def test_institution_codes_are_upper_case_and_unique(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    with pytest.raises(Conflict, match="'MOJ' exists already"):
        async with sessions() as session, session.begin():
            await add_institution(session, InstitutionData("MOJ", "Justice again", InstitutionKind.MINISTRY))


async def test_institution_hierarchy_and_loop_refused(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        await add_institution(session, InstitutionData("PRISONS", "Prison Service", InstitutionKind.AGENCY, "MOJ"))
    with pytest.raises(InvalidValue, match="loop") as caught:
        async with sessions() as session, session.begin():
            await upsert_institution(session, InstitutionData("MOJ", "Ministry of Justice", InstitutionKind.MINISTRY, "PRISONS"))
    assert caught.value.field == "parent"
    with pytest.raises(NotFound, match="no institution with code 'NOPE'"):
        async with sessions() as session, session.begin():
            await add_institution(session, InstitutionData("X", "X", InstitutionKind.AGENCY, "NOPE"))
    async with sessions() as session:
        listed = {i.code: (i.parent.code if i.parent else None) for i, _ in await list_institutions(session)}
    assert listed == {"MOJ": None, "PRISONS": "MOJ"}


async def test_upsert_reports_what_changed(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        same = await upsert_institution(session, InstitutionData("MOJ", "Ministry of Justice", InstitutionKind.MINISTRY))
        renamed = await upsert_institution(session, InstitutionData("MOJ", "Ministry of Justice and Human Rights", InstitutionKind.MINISTRY))
    assert (same, renamed) == (Change.UNCHANGED, Change.UPDATED)


async def test_changes_are_audited_with_actor_and_old_and_new_values(sessions: async_sessionmaker[AsyncSession]) -> None:
    with acting_as("cli:secretariat-ana"):
        async with sessions() as session, session.begin():
            await add_institution(session, InstitutionData("MOJ", "Ministry of Justice", InstitutionKind.MINISTRY))
        async with sessions() as session, session.begin():
            await upsert_institution(session, InstitutionData("MOJ", "Ministry of Justice and Human Rights", InstitutionKind.MINISTRY))
    async with sessions() as session:
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "institutions").order_by(AuditEntry.id))).all()
    assert [(e.action, e.actor) for e in entries] == [("insert", "cli:secretariat-ana"), ("update", "cli:secretariat-ana")]
    assert entries[0].changes and entries[0].changes["code"] == "MOJ"
    assert entries[1].changes == {"name": ["Ministry of Justice", "Ministry of Justice and Human Rights"]}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"timezone": "Montevideo"}, "IANA time zone"),
        ({"language": "de"}, "one of en, fr, es, ar, zh, ru, pt"),
        ({"email": "ana-at-justicia"}, "e-mail address"),
        ({"active_to": date(2024, 1, 1)}, "before active_from"),
        ({"institution_code": "NOPE"}, "no institution with code 'NOPE'"),
        ({"name": "   "}, "a name is required"),
    ],
)
async def test_bad_focal_points_are_refused(
    sessions: async_sessionmaker[AsyncSession], moj: None, override: dict[str, object], message: str
) -> None:
    with pytest.raises((InvalidValue, NotFound), match=message):
        async with sessions() as session, session.begin():
            await add_focal_point(session, fp(**override))
    async with sessions() as session:
        assert (await session.scalars(select(FocalPoint))).all() == []


async def test_duplicate_email_is_refused(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        await add_focal_point(session, fp())
    with pytest.raises(Conflict, match="exists already"):
        async with sessions() as session, session.begin():
            await add_focal_point(session, fp(name="Ana P.", email="ANA@justicia.example"))


async def test_replaced_focal_point_keeps_record_but_leaves_active_list(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        old = await add_focal_point(session, fp())
        await add_focal_point(session, fp(name="Jorge Silva", email="jorge@justicia.example", active_from=date(2026, 7, 1)))
    async with sessions() as session, session.begin():
        await end_focal_point(session, "ana@justicia.example", date(2026, 6, 30))
    async with sessions() as session:
        on_june = [f.name for f in await list_focal_points(session, today=date(2026, 6, 15))]
        on_july = [f.name for f in await list_focal_points(session, today=date(2026, 7, 15))]
        everyone = [f.name for f in await list_focal_points(session, include_inactive=True, today=date(2026, 7, 15))]
        kept = await session.get(FocalPoint, old.id)
    assert on_june == ["Ana Pérez"]
    assert on_july == ["Jorge Silva"]
    assert sorted(everyone) == ["Ana Pérez", "Jorge Silva"]
    assert kept is not None and kept.active_to == date(2026, 6, 30)


async def test_ending_before_the_start_is_refused(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        created = await add_focal_point(session, fp())
    with pytest.raises(InvalidValue, match="before this focal point started"):
        async with sessions() as session, session.begin():
            await end_focal_point(session, str(created.id), date(2024, 12, 31))


async def test_an_ended_term_can_end_earlier_but_not_later(sessions: async_sessionmaker[AsyncSession], moj: None) -> None:
    async with sessions() as session, session.begin():
        created = await add_focal_point(session, fp())
        await end_focal_point(session, str(created.id), date(2026, 6, 30))
    # A later end would bring her back in office, beside whoever succeeded her.
    with pytest.raises(Conflict, match="term ended on 2026-06-30"):
        async with sessions() as session, session.begin():
            await end_focal_point(session, str(created.id), date(2099, 1, 1))
    async with sessions() as session, session.begin():
        corrected = await end_focal_point(session, str(created.id), date(2026, 5, 31))
        assert corrected.active_to == date(2026, 5, 31)
