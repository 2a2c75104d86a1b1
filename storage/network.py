"""The focal-point network: institutions and the people who answer for them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.calendars import check_place
from storage.clock import today as clock_today
from storage.enums import FocalPointRole, InstitutionKind
from storage.errors import Conflict, InvalidValue, NotFound
from storage.models import FocalPoint, Institution
from storage.validation import check_email, check_language, check_timezone, institution_code, check_working_hours

T = TypeVar("T")


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class InstitutionData:
    code: str
    name: str
    kind: InstitutionKind
    parent_code: str | None = None


@dataclass(frozen=True)
class FocalPointData:
    name: str
    institution_code: str
    role: FocalPointRole
    language: str
    timezone: str
    active_from: date
    email: str | None = None
    active_to: date | None = None
    # "HH:MM-HH:MM" in their time zone; None: [schedule] hours.
    working_hours: str | None = None
    # Whose public holidays they keep (storage.calendars); None: [schedule] country.
    country: str | None = None
    subdivision: str | None = None


async def get_institution(session: AsyncSession, code: str) -> Institution:
    code = institution_code(code)
    found = await session.scalar(select(Institution).where(Institution.code == code))
    if found is None:
        raise NotFound(
            f"no institution with code {code!r} (see: nmrf-bot institutions list)",
            field="institution", key="refusal.network.unknown_institution", values={"code": code},
        )
    return found


async def _resolve_parent(session: AsyncSession, data: InstitutionData, code: str) -> int | None:
    if not data.parent_code:
        return None
    try:
        parent = await get_institution(session, data.parent_code)
    except NotFound as exc:
        raise NotFound(
            f"{exc} (list a parent before its children)", field="parent", key="refusal.network.unknown_parent", values={"code": institution_code(data.parent_code)}
        ) from None
    if parent.code == code:
        raise InvalidValue(f"institution {code!r} cannot be its own parent", field="parent", key="refusal.network.own_parent", values={"code": code})
    # Walk up from the parent: meeting ourselves would close a loop.
    ancestor: Institution | None = parent
    while ancestor is not None and ancestor.parent_id is not None:
        ancestor = await session.get(Institution, ancestor.parent_id)
        if ancestor is not None and ancestor.code == code:
            raise InvalidValue(
                f"making {parent.code!r} the parent of {code!r} would create a loop",
                field="parent", key="refusal.network.parent_loop", values={"parent": parent.code, "code": code},
            )
    return parent.id


async def add_institution(session: AsyncSession, data: InstitutionData) -> Institution:
    code = institution_code(data.code)
    if await session.scalar(select(Institution.id).where(Institution.code == code)):
        raise Conflict(f"an institution with code {code!r} exists already", key="refusal.network.institution_exists", values={"code": code})
    institution = Institution(
        code=code, name=_name(data.name, 300), kind=data.kind, parent_id=await _resolve_parent(session, data, code)
    )
    session.add(institution)
    await session.flush()
    return institution


async def upsert_institution(session: AsyncSession, data: InstitutionData) -> Change:
    code = institution_code(data.code)
    existing = await session.scalar(select(Institution).where(Institution.code == code))
    if existing is None:
        await add_institution(session, data)
        return Change.CREATED
    wanted = {"name": _name(data.name, 300), "kind": data.kind, "parent_id": await _resolve_parent(session, data, code)}
    return apply_changes(existing, wanted)


async def list_institutions(session: AsyncSession) -> list[tuple[Institution, int]]:
    """Institutions with their number of active focal points, parents first by code."""
    today = clock_today()
    active = (
        select(FocalPoint.institution_id, func.count().label("n"))
        .where(active_on(today))
        .group_by(FocalPoint.institution_id)
        .subquery()
    )
    rows = await session.execute(
        select(Institution, func.coalesce(active.c.n, 0))
        .outerjoin(active, active.c.institution_id == Institution.id)
        .options(selectinload(Institution.parent))
        .order_by(Institution.code)
    )
    return [(inst, count) for inst, count in rows]


# Who answers for an institution: its technical focal points; failing those,
# the alternate; failing that, the senior one.
ANSWERING_ROLES = (FocalPointRole.TECHNICAL, FocalPointRole.ALTERNATE, FocalPointRole.SENIOR)


def answering(by_role: Mapping[FocalPointRole, Sequence[T]]) -> list[T]:
    """The people of the first role in ``ANSWERING_ROLES`` that has anyone."""
    for role in ANSWERING_ROLES:
        if by_role.get(role):
            return list(by_role[role])
    return []


def active_on(day: date) -> ColumnElement[bool]:
    """Focal points in office on ``day``."""
    return (FocalPoint.active_from <= day) & or_(FocalPoint.active_to.is_(None), FocalPoint.active_to >= day)


def check_focal_point(data: FocalPointData) -> FocalPointData:
    """Validate and normalise what a person typed or a template held."""
    if data.active_to is not None and data.active_to < data.active_from:
        raise InvalidValue(
            f"active_to {data.active_to} is before active_from {data.active_from}",
            key="refusal.network.ends_before_start", values={"end": data.active_to, "start": data.active_from},
        )
    country, subdivision = check_place(data.country, data.subdivision)
    return FocalPointData(
        name=_name(data.name),
        institution_code=institution_code(data.institution_code),
        role=data.role,
        language=check_language(data.language),
        timezone=check_timezone(data.timezone),
        active_from=data.active_from,
        email=check_email(data.email) if data.email else None,
        active_to=data.active_to,
        working_hours=check_working_hours(data.working_hours) if data.working_hours else None,
        country=country,
        subdivision=subdivision,
    )


async def add_focal_point(session: AsyncSession, data: FocalPointData) -> FocalPoint:
    data = check_focal_point(data)
    institution = await get_institution(session, data.institution_code)
    if data.email and await session.scalar(select(FocalPoint.id).where(FocalPoint.email == data.email)):
        raise Conflict(
            f"a focal point with e-mail {data.email!r} exists already", field="email", key="refusal.network.email_taken", values={"email": data.email}
        )
    focal_point = FocalPoint(
        name=data.name,
        email=data.email,
        institution_id=institution.id,
        role=data.role,
        language=data.language,
        timezone=data.timezone,
        active_from=data.active_from,
        active_to=data.active_to,
        working_hours=data.working_hours,
        country=data.country,
        subdivision=data.subdivision,
    )
    session.add(focal_point)
    await session.flush()
    return focal_point


async def upsert_focal_point(session: AsyncSession, data: FocalPointData) -> Change:
    """By e-mail, the one key a ministry official reliably has."""
    data = check_focal_point(data)
    if not data.email:
        raise InvalidValue("an e-mail address is needed to match the focal point on re-import", key="refusal.network.email_needed")
    existing = await session.scalar(select(FocalPoint).where(FocalPoint.email == data.email))
    if existing is None:
        await add_focal_point(session, data)
        return Change.CREATED
    institution = await get_institution(session, data.institution_code)
    wanted = {
        "name": data.name,
        "institution_id": institution.id,
        "role": data.role,
        "language": data.language,
        "timezone": data.timezone,
        "active_from": data.active_from,
        "active_to": data.active_to,
        "working_hours": data.working_hours,
        "country": data.country,
        "subdivision": data.subdivision,
    }
    return apply_changes(existing, wanted)


async def find_focal_point(session: AsyncSession, ref: str) -> FocalPoint:
    """By id or by e-mail."""
    if ref.isdigit():
        found = await session.get(FocalPoint, int(ref))
    else:
        found = await session.scalar(select(FocalPoint).where(FocalPoint.email == ref.strip().lower()))
    if found is None:
        raise NotFound(
            f"no focal point {ref!r} (give an id or an e-mail; see: nmrf-bot focal-points list)",
            key="refusal.network.unknown_focal_point", values={"who": ref.strip()[:80]},
        )
    return found


async def end_focal_point(session: AsyncSession, ref: str, last_day: date) -> FocalPoint:
    """Close a focal point's term; their past updates keep their name."""
    focal_point = await find_focal_point(session, ref)
    if last_day < focal_point.active_from:
        raise InvalidValue(
            f"{last_day} is before this focal point started ({focal_point.active_from})",
            key="refusal.network.end_before_start", values={"name": focal_point.name, "date": last_day, "start": focal_point.active_from},
        )
    if focal_point.active_to is not None and last_day > focal_point.active_to:
        # Moving the end later would put them back in office, beside any successor.
        raise Conflict(
            f"{focal_point.name}'s term ended on {focal_point.active_to}; a later end would bring them back "
            "(an earlier one corrects it); a new term is a new focal point",
            key="refusal.network.end_later", values={"name": focal_point.name, "date": focal_point.active_to},
        )
    focal_point.active_to = last_day
    await session.flush()
    return focal_point


async def list_focal_points(
    session: AsyncSession,
    *,
    institution: str | None = None,
    role: FocalPointRole | None = None,
    include_inactive: bool = False,
    today: date | None = None,
) -> list[FocalPoint]:
    statement = (
        select(FocalPoint)
        .join(Institution)
        .options(selectinload(FocalPoint.institution), selectinload(FocalPoint.identities))
        .order_by(Institution.code, FocalPoint.role, FocalPoint.name)
    )
    if institution:
        statement = statement.where(Institution.code == institution_code(institution))
    if role:
        statement = statement.where(FocalPoint.role == role)
    if not include_inactive:
        statement = statement.where(active_on(today or clock_today()))
    return list((await session.scalars(statement)).all())


def _name(value: str, limit: int = 200) -> str:
    name = " ".join(value.split())
    if not name:
        raise InvalidValue("a name is required", field="name", key="refusal.network.no_name")
    if len(name) > limit:
        raise InvalidValue(
            f"a name is at most {limit} characters, got {len(name)}", field="name", key="refusal.network.long_name", values={"count": limit, "length": len(name)}
        )
    return name


def apply_changes(obj: object, wanted: dict[str, object]) -> Change:
    changed = False
    for attr, value in wanted.items():
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)
            changed = True
    return Change.UPDATED if changed else Change.UNCHANGED


@dataclass(frozen=True)
class FocalPointEdit:
    """What to change of a focal point; None leaves a field as it is. Working
    hours are changed with handlers.hours.set_working_hours, which also moves
    what is planned for them."""

    name: str | None = None
    email: str | None = None
    role: FocalPointRole | None = None
    language: str | None = None
    timezone: str | None = None
    # Where their public holidays come from (storage.calendars); "" clears it,
    # so the [schedule] country applies again.
    country: str | None = None
    subdivision: str | None = None


def checked_edit(edit: FocalPointEdit) -> FocalPointEdit:
    """The edit validated and normalised, before anything is looked up."""
    return FocalPointEdit(
        name=_name(edit.name) if edit.name is not None else None,
        email=check_email(edit.email.strip()) if edit.email is not None else None,
        role=edit.role,
        language=check_language(edit.language) if edit.language is not None else None,
        timezone=check_timezone(edit.timezone) if edit.timezone is not None else None,
        country=edit.country,
        subdivision=edit.subdivision,
    )


async def edit_focal_point(session: AsyncSession, ref: str, edit: FocalPointEdit) -> tuple[FocalPoint, Change]:
    """Change a focal point's details (by id or e-mail), the CLI's and the chat's
    one way; the audit log keeps what each field was."""
    edit = checked_edit(edit)
    focal_point = await find_focal_point(session, ref)
    if edit.email is not None and edit.email != focal_point.email:
        taken = await session.scalar(select(FocalPoint.id).where(FocalPoint.email == edit.email, FocalPoint.id != focal_point.id))
        if taken is not None:
            raise Conflict(
                f"focal point {taken} has the e-mail {edit.email!r} already",
                field="email", key="refusal.network.email_of_other", values={"id": taken, "email": edit.email},
            )
    wanted = {
        attr: value
        for attr, value in (
            ("name", edit.name), ("email", edit.email), ("role", edit.role), ("language", edit.language), ("timezone", edit.timezone),
        )
        if value is not None
    }
    if edit.country is not None or edit.subdivision is not None:
        # A subdivision alone is within the country they have.
        country = edit.country if edit.country is not None else focal_point.country
        subdivision = edit.subdivision if edit.subdivision is not None else (focal_point.subdivision if edit.country is None else None)
        wanted["country"], wanted["subdivision"] = check_place(country, subdivision)
    change = apply_changes(focal_point, wanted)
    await session.flush()
    return focal_point, change


@dataclass(frozen=True)
class InstitutionEdit:
    """What to change of an institution; None leaves a field as it is, and a
    parent of "" removes the parent."""

    name: str | None = None
    kind: InstitutionKind | None = None
    parent_code: str | None = None
    active: bool | None = None


async def edit_institution(session: AsyncSession, code: str, edit: InstitutionEdit) -> tuple[Institution, Change]:
    institution = await get_institution(session, code)
    wanted: dict[str, object] = {}
    if edit.name is not None:
        wanted["name"] = _name(edit.name, 300)
    if edit.kind is not None:
        wanted["kind"] = edit.kind
    if edit.parent_code is not None:
        data = InstitutionData(institution.code, institution.name, institution.kind, edit.parent_code.strip() or None)
        wanted["parent_id"] = await _resolve_parent(session, data, institution.code)
    if edit.active is not None:
        wanted["active"] = edit.active
    change = apply_changes(institution, wanted)
    await session.flush()
    return institution, change


async def succeed_focal_point(session: AsyncSession, ref: str, successor: FocalPointData) -> tuple[FocalPoint, FocalPoint]:
    """End a term with a successor: the predecessor's last day is the day
    before the successor's first, so the successor is welcomed with the
    institution's open items once they join (storage.assignment_notices.successors
    reads exactly that). The successor joins the predecessor's institution."""
    predecessor = await find_focal_point(session, ref)
    last_day = date.fromordinal(successor.active_from.toordinal() - 1)
    if predecessor.active_to is not None and predecessor.active_to < successor.active_from:
        raise InvalidValue(
            f"{predecessor.name}'s term ended on {predecessor.active_to} already; add the successor instead",
            key="refusal.network.already_ended", values={"name": predecessor.name, "date": predecessor.active_to},
        )
    if last_day < predecessor.active_from:
        earliest = date.fromordinal(predecessor.active_from.toordinal() + 1)
        raise InvalidValue(
            f"{predecessor.name} started on {predecessor.active_from}: a successor can start on {earliest} at the earliest",
            key="refusal.network.successor_too_soon", values={"name": predecessor.name, "start": predecessor.active_from, "date": earliest},
        )
    await session.refresh(predecessor, ["institution"])
    data = check_focal_point(successor)
    if data.institution_code != predecessor.institution.code:
        raise InvalidValue(
            f"a successor joins {predecessor.institution.code}, not {data.institution_code}",
            field="institution", key="refusal.network.successor_elsewhere", values={"institution": predecessor.institution.code, "other": data.institution_code},
        )
    predecessor.active_to = last_day
    await session.flush()
    return predecessor, await add_focal_point(session, data)
