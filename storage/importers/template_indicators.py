"""The template's ``indicators`` sheet: the implementation plan's indicators,
written through storage.indicators (so the checks, and the audit log, are
the CLI's), in the import's one transaction.

A row's code is its key: a new code is a new indicator, a known one is
changed to match the row where the row has a value; a blank optional cell
leaves what the registry holds. Numbers are a spreadsheet's (a number cell,
or 1234.5 typed). Each row is written in a savepoint, so one refused row
leaves the rows after it to be checked too; any error refuses the whole
file, each naming its row and column. Values are not imported here: they
are given in chat, or recorded with `nmrf-bot indicators record`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.action_models import Action
from storage.errors import InvalidValue, NotFound, RegistryError
from storage.importers.cells import split_list
from storage.importers.errors import ErrorList, RowError
from storage.importers.readers import Sheet, SourceRow
from storage.importers.template import _Row
from storage.indicator_models import Indicator, IndicatorFrequency, IndicatorKind
from storage.indicators import IndicatorData, check_indicator, indicator_code, indicator_refusals, parse_measure, upsert_indicator
from storage.models import Recommendation
from storage.network import Change, get_institution
from storage.recommendation_sources import ids_for_references

if TYPE_CHECKING:
    from storage.importers.run import TableCounts

SHEET = "indicators"
# The optional cells a blank leaves as the registry holds them.
_KEPT = ("baseline_value", "baseline_date", "target_value", "target_date", "data_source", "disaggregation", "plausible_min", "plausible_max")


def _measure(r: _Row, column: str) -> Decimal | None:
    raw = r.values.get(column)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        return parse_measure(raw if not isinstance(raw, str) else raw.strip(), column)
    except InvalidValue as exc:
        r.error(column, str(exc).removeprefix(f"{column}: "))
        return None


def parse_indicator(row: SourceRow) -> tuple[IndicatorData, tuple[str, ...]] | list[RowError]:
    """The row's indicator, and the recommendations it names as the template names them."""
    data, recommendations, errors = _parse(row)
    return errors or (data, recommendations)


def _parse(row: SourceRow) -> tuple[IndicatorData, tuple[str, ...], list[RowError]]:
    """The row read whole, the recommendations it names, and its cells' errors."""
    r = _Row(row)
    code = r.text("code", required=True)
    if code:
        try:
            code = indicator_code(code)
        except InvalidValue as exc:
            r.error("code", str(exc))
    first_due = r.date("first_due")
    if first_due is None and r.text("first_due") == "":
        r.error("first_due", "empty: this column is required")
    actions = tuple(a.upper() for a in split_list(r.values.get("actions")))
    data = IndicatorData(
        code=code, kind=r.enum("kind", IndicatorKind, required=True), definition=r.text("definition", required=True),
        unit=r.text("unit", required=True), frequency=r.enum("frequency", IndicatorFrequency, required=True),
        institution_code=r.code("institution"), first_due=first_due or date.min,
        baseline_value=_measure(r, "baseline_value"), baseline_date=r.date("baseline_date"),
        target_value=_measure(r, "target_value"), target_date=r.date("target_date"),
        data_source=r.text("data_source") or None, disaggregation=r.text("disaggregation") or None,
        plausible_min=_measure(r, "plausible_min"), plausible_max=_measure(r, "plausible_max"),
        actions=actions or None,
    )
    return data, tuple(split_list(r.values.get("recommendations"))), list(r.errors)


async def _refusals(session: AsyncSession, row: SourceRow, data: IndicatorData, recommendations: tuple[str, ...]) -> list[RowError]:
    """Every check the row fails and every name it gets wrong (the institution,
    each action and recommendation), each on its cell, so one try shows them all."""
    existing = await session.scalar(select(Indicator).where(Indicator.code == data.code)) if data.code else None
    if existing is not None:
        data = replace(data, **{name: getattr(existing, name) for name in _KEPT if getattr(data, name) is None})
    found: list[RegistryError] = list(indicator_refusals(data)) if data.code else []
    if data.institution_code:
        try:
            await get_institution(session, data.institution_code)
        except RegistryError as exc:
            exc.field = "institution"
            found.append(exc)
    if data.actions:
        known = set((await session.scalars(select(Action.code).where(Action.code.in_(data.actions)))).all())
        if missing := [a for a in dict.fromkeys(data.actions) if a not in known]:
            found.append(NotFound(f"no action with code {', '.join(map(repr, missing))} (see: nmrf-bot actions list)", field="actions"))
    for ref in recommendations:
        try:
            ids = await ids_for_references(session, (ref,))
            if ref.startswith("#") and await session.get(Recommendation, ids[0]) is None:
                raise NotFound(f"no recommendation with id {ids[0]}", field="recommendations")
        except RegistryError as exc:
            found.append(exc)
    # The cells' own errors already name a bad number or code: said once.
    return [RowError(row.number, exc.field or "", str(exc).removeprefix(f"{exc.field}: "), row.sheet) for exc in found]



async def write_indicator(session: AsyncSession, data: IndicatorData, recommendations: tuple[str, ...]) -> Change:
    """One row: a new indicator, or a known one changed where the row has a value."""
    existing = await session.scalar(select(Indicator).where(Indicator.code == data.code))
    if existing is not None:
        data = replace(data, **{name: getattr(existing, name) for name in _KEPT if getattr(data, name) is None})
    # The row's own cells first, then what they name.
    data = check_indicator(data)
    if recommendations:
        data = replace(data, recommendations=await ids_for_references(session, recommendations))
    return await upsert_indicator(session, data)


async def import_indicators(session: AsyncSession, sheet: Sheet, counts: TableCounts, errors: ErrorList) -> None:
    """Every row of the sheet; ``counts`` (the import's TableCounts) is told what each did."""
    seen: dict[str, int] = {}
    for row in sheet.rows:
        counts.rows += 1
        if row.errors:
            errors.extend(row.errors)
            continue
        data, recommendations, bad_cells = _parse(row)
        if not bad_cells:
            # A row read whole holds its code, even if refused below: a second row with it is a duplicate.
            if data.code in seen:
                errors.add(RowError(row.number, "code", f"{data.code} is also on row {seen[data.code]}", row.sheet))
                continue
            seen[data.code] = row.number
        bad_columns = {e.column for e in bad_cells}
        refused = bad_cells + [e for e in await _refusals(session, row, data, recommendations) if e.column not in bad_columns]
        if refused:
            errors.extend(refused)
            continue
        try:
            async with session.begin_nested():
                change = await write_indicator(session, data, recommendations)
        except RegistryError as exc:
            errors.add(RowError(row.number, exc.field or "", str(exc), row.sheet))
            continue
        setattr(counts, change.value, getattr(counts, change.value) + 1)
