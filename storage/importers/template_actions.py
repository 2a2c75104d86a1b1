"""The template's ``actions`` sheet: the implementation plan's actions,
written through storage.actions (so the checks, and the audit log, are the
CLI's), in the import's one transaction.

A row's code is its key: a new code is a new action (accepted: the
secretariat's own file), a known one is changed where the row has a value;
a blank cell leaves what the registry holds. A status that differs from the
action's is stored as an update in its history (channel import), never
written over. Each row is written in a savepoint, so one refused row leaves
the rows after it to be checked too; any error refuses the whole file, each
naming its row and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import actions as store
from storage.action_models import Action
from storage.actions import ActionData, ActionEdit, ActionUpdateData, ChapterRef
from storage.audit import current_actor
from storage.enums import Channel, ImplementationStatus
from storage.errors import Conflict, InvalidValue, RegistryError
from storage.importers.cells import split_list
from storage.importers.errors import ErrorList, RowError
from storage.importers.readers import Sheet, SourceRow
from storage.importers.template import _Row
from storage.network import Change
from storage.recommendation_sources import ids_for_references
from storage.types import utcnow
from storage.validation import institution_code

if TYPE_CHECKING:
    from storage.importers.run import TableCounts

SHEET = "actions"


@dataclass(frozen=True)
class ActionRow:
    code: str
    title: str
    responsible: str
    recommendations: tuple[str, ...]
    link_groups: tuple[int, ...]
    description: str | None
    contributing: tuple[str, ...]
    status: ImplementationStatus | None
    start_date: date | None
    target_date: date | None
    budget_amount: Decimal | None
    budget_currency: str | None
    budget_source: str | None
    budget_internal: bool | None
    sdg_targets: tuple[str, ...]
    chapters: tuple[ChapterRef, ...]


def parse_action(row: SourceRow) -> ActionRow | list[RowError]:
    data, errors = _parse(row)
    return errors or data


def _parse(row: SourceRow) -> tuple[ActionRow, list[RowError]]:
    """The row read, and the errors of its cells (the row is read whole either way)."""
    r = _Row(row)
    code = r.text("code", required=True)
    if code:
        try:
            code = store.action_code(code)
        except InvalidValue as exc:
            r.error("code", str(exc))
    groups: list[int] = []
    for item in split_list(r.values.get("link_groups")):
        number = item.lstrip("#")
        if number.isdigit():
            groups.append(int(number))
        else:
            r.error("link_groups", f"{item!r} is not a linked group's number (e.g. 3)")
    amount = None
    if r.text("budget_amount"):
        try:
            amount = store.parse_budget(r.text("budget_amount"))
        except InvalidValue as exc:
            r.error("budget_amount", str(exc))
    targets: list[str] = []
    for item in split_list(r.values.get("sdg_targets")):
        try:
            targets.append(store.sdg_target(item))
        except InvalidValue as exc:
            r.error("sdg_targets", str(exc))
    chapters: list[ChapterRef] = []
    for item in split_list(r.values.get("chapters")):
        try:
            chapters.append(store.chapter_ref(item))
        except InvalidValue as exc:
            r.error("chapters", str(exc))
    data = ActionRow(
        code=code, title=r.text("title", required=True), responsible=r.code("responsible"),
        recommendations=tuple(split_list(r.values.get("recommendations"))), link_groups=tuple(groups),
        description=r.text("description") or None,
        contributing=_codes(r),
        status=r.enum("status", ImplementationStatus), start_date=r.date("start_date"), target_date=r.date("target_date"),
        budget_amount=amount, budget_currency=r.text("budget_currency") or None, budget_source=r.text("budget_source") or None,
        budget_internal=r.yes_no("budget_internal"), sdg_targets=tuple(targets), chapters=tuple(chapters),
    )
    if data.start_date and data.target_date and data.target_date < data.start_date:
        r.error("target_date", f"the target date {data.target_date.isoformat()} is before the start date {data.start_date.isoformat()}")
    if data.budget_amount is not None and not data.budget_currency:
        r.error("budget_currency", store.NEEDS_CURRENCY)
    return data, list(r.errors)


async def _lookup_errors(session: AsyncSession, row: SourceRow, data: ActionRow) -> list[RowError]:
    """Every name of the row the registry lacks (its institutions, recommendations,
    groups, currency, chapters), each on its cell, read with the cells' own
    errors so one try shows them all."""
    errors: list[RowError] = []
    recs: list[int] = []
    for ref in data.recommendations:
        try:
            recs.extend(await ids_for_references(session, (ref,)))
        except RegistryError as exc:
            errors.append(RowError(row.number, "recommendations", str(exc), row.sheet))
    for exc in await store.refusals_of(session, ActionData(
        title=data.title, responsible=data.responsible, recommendations=tuple(recs), link_groups=data.link_groups,
        contributing=data.contributing, budget_currency=data.budget_currency, chapters=data.chapters,
    )):
        errors.append(RowError(row.number, exc.field or "", str(exc), row.sheet))
    return errors


def _codes(r: _Row) -> tuple[str, ...]:
    codes = []
    for item in split_list(r.values.get("contributing")):
        try:
            codes.append(institution_code(item))
        except InvalidValue as exc:
            r.error("contributing", str(exc))
    return tuple(codes)



async def write_action(session: AsyncSession, row: ActionRow) -> Change:
    """One row: a new action, or the changes to a known one."""
    actor, now = current_actor(), utcnow()
    recs = await ids_for_references(session, row.recommendations)
    existing = await session.scalar(select(Action).where(Action.code == row.code))
    if existing is None:
        action = await store.create_action(session, ActionData(
            title=row.title, responsible=row.responsible, recommendations=recs, link_groups=row.link_groups,
            description=row.description, contributing=row.contributing, start_date=row.start_date, target_date=row.target_date,
            budget_amount=row.budget_amount, budget_currency=row.budget_currency, budget_source=row.budget_source,
            budget_internal=bool(row.budget_internal), sdg_targets=row.sdg_targets, chapters=row.chapters, code=row.code,
        ), actor=actor, now=now)
        change = Change.CREATED
    else:
        action, changed = await store.edit_action(session, row.code, ActionEdit(
            title=row.title, description=row.description, responsible=row.responsible, start_date=row.start_date,
            target_date=row.target_date, budget_amount=row.budget_amount, budget_currency=row.budget_currency,
            budget_source=row.budget_source, budget_internal=row.budget_internal,
            recommendations=recs or None, link_groups=row.link_groups or None, contributing=row.contributing or None,
            sdg_targets=row.sdg_targets or None, chapters=row.chapters or None,
        ), now=now)
        change = Change.UPDATED if changed else Change.UNCHANGED
    if row.status is not None and row.status is not action.status:
        try:
            await store.record_action_update(session, ActionUpdateData(action.id, row.status, actor, Channel.IMPORT), now)
        except Conflict as exc:
            raise Conflict(str(exc), field="status") from None
        change = Change.UPDATED if change is Change.UNCHANGED else change
    return change


async def import_actions(session: AsyncSession, sheet: Sheet, counts: TableCounts, errors: ErrorList) -> None:
    """Every row of the sheet; ``counts`` (the import's TableCounts) is told what each did."""
    seen: dict[str, int] = {}
    for row in sheet.rows:
        counts.rows += 1
        if row.errors:
            errors.extend(row.errors)
            continue
        parsed, bad_cells = _parse(row)
        if not bad_cells:
            # A row read whole holds its code, even if refused below: a second row with it is a duplicate.
            if parsed.code in seen:
                errors.add(RowError(row.number, "code", f"{parsed.code} is also on row {seen[parsed.code]}", row.sheet))
                continue
            seen[parsed.code] = row.number
        refused = bad_cells + await _lookup_errors(session, row, parsed)
        if refused:
            errors.extend(refused)
            continue
        try:
            async with session.begin_nested():
                change = await write_action(session, parsed)
        except RegistryError as exc:
            errors.add(RowError(row.number, exc.field or "", str(exc), row.sheet))
            continue
        setattr(counts, change.value, getattr(counts, change.value) + 1)
